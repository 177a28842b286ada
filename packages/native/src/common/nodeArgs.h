// Argument checks shared by the POSIX and Windows addons, with the errors
// Node's own APIs throw for bad arguments:
//   wrong type               TypeError  ERR_INVALID_ARG_TYPE
//   not an integer in range  RangeError ERR_OUT_OF_RANGE
// and ERR_INVALID_STATE for a call on a closed object. Platform-specific
// checks (descriptors, paths, Windows object names) live in each platform's
// args.h.
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

// The bytes of an ArrayBufferView argument. Defined by each platform's
// args.cc: which views it accepts differs.
ByteView BytesArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// A call on one of this addon's objects in a state that forbids it (a closed
// channel or writer). Node names this ERR_INVALID_STATE.
[[noreturn]] void ThrowInvalidState(Napi::Env env, const char* message);

}  // namespace procwire
