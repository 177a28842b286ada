// Argument checks that run before any Win32 call. They throw the errors
// Node's own APIs throw for bad arguments, with the same codes as the POSIX
// addon (src/posix/args.h):
//   wrong type                      TypeError  ERR_INVALID_ARG_TYPE
//   not an integer in range         RangeError ERR_OUT_OF_RANGE
//   empty name, or a forbidden
//   character in it                 TypeError  ERR_INVALID_ARG_VALUE
// so bad input from JavaScript never reaches Windows.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "nodeArgs.h"

namespace procwire {

// A name for a Windows object under a fixed prefix (`\\.\mailslot\`,
// `\\.\pipe\`), as UTF-16 for the W functions and UTF-8 for error messages.
struct ObjectName {
  std::wstring path;  // prefix + name, for CreateMailslotW, CreateNamedPipeW, CreateFileW
  std::string utf8;   // the same path, for error messages and `path` properties
};

// `prefix` + the string argument. The name must be 1..maxLength UTF-16 code
// units without NUL, and without a backslash unless `backslashAllowed`
// (a mailslot name may have pseudo-directories; a pipe name may not).
ObjectName ObjectNameArg(const Napi::CallbackInfo& info, size_t index, const char* name, const wchar_t* prefix,
                         size_t maxLength, bool backslashAllowed);

// Defines the read-only, enumerable `path` property of the object under
// construction: its name's UTF-8 form, as its errors report it.
inline void DefinePath(const Napi::CallbackInfo& info, const std::string& path) {
  info.This().As<Napi::Object>().DefineProperty(
      Napi::PropertyDescriptor::Value("path", Napi::String::New(info.Env(), path), napi_enumerable));
}

// `undefined` gives an empty Function (IsEmpty()), anything else must be a function.
Napi::Function OptionalFunctionArg(const Napi::CallbackInfo& info, size_t index, const char* name);

}  // namespace procwire
