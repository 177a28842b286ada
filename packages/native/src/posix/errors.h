// Errors shaped like Node's own system errors, so a transport can treat an
// error from this addon exactly like one from `fs` or `net`.
#pragma once

#include <napi.h>

#include <string>

namespace procwire {

// An Error with Node's system-error shape:
//   message  "EACCES: permission denied, mq_open '/calc'"
//   code     "EACCES"
//   errno    -13   (negative, Node's libuv convention: err.errno === -os.constants.errno.EACCES)
//   syscall  "mq_open"
//   path     "/calc" (only when `path` is given)
// `error` is a positive errno value from the C library.
Napi::Error ErrnoError(Napi::Env env, int error, const char* syscall, const std::string* path = nullptr);

[[noreturn]] void ThrowErrno(Napi::Env env, int error, const char* syscall, const std::string* path = nullptr);

}  // namespace procwire
