// Argument checks that run before any system call. They throw the errors
// Node's own APIs throw for bad arguments, with the same codes:
//   wrong type               TypeError  ERR_INVALID_ARG_TYPE
//   string with a NUL byte   TypeError  ERR_INVALID_ARG_VALUE
//   not an integer in range  RangeError ERR_OUT_OF_RANGE
// so bad input from JavaScript never reaches the kernel and never crashes.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "nodeArgs.h"

namespace procwire {

// A descriptor: an integer in 0 .. INT32_MAX.
int DescriptorArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// A file mode: an integer in 0 .. 0o7777.
unsigned ModeArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// A string for a path or an object name; NUL bytes are refused because the
// C library would silently cut the name there.
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* name);

}  // namespace procwire
