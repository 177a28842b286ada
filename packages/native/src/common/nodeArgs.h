// Argument checks shared by the POSIX and Windows addons, with the errors
// Node's own APIs throw for bad arguments:
//   wrong type               TypeError  ERR_INVALID_ARG_TYPE
//   not an integer in range  RangeError ERR_OUT_OF_RANGE
// Platform-specific checks (descriptors, paths, Windows object names, which
// byte views are accepted) live in each platform's args.h.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace procwire {

// The bytes behind an ArrayBufferView.
struct ByteView {
  uint8_t* data;
  size_t length;
};

// Throws `error` with `code` set, as Node's errors carry one.
[[noreturn]] void ThrowWithCode(Napi::Error error, const char* code);

// ERR_INVALID_ARG_TYPE: `"name" argument must be <expected>. Received ...`.
[[noreturn]] void ThrowArgType(const Napi::Value& value, const char* name, const char* expected);

int64_t IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t min, int64_t max);

Napi::Function FunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name);

}  // namespace procwire
