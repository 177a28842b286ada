#include "errors.h"

#include <uv.h>

#include <cstring>

namespace procwire {

namespace {

// libuv knows the names and texts Node prints ("ENOENT", "no such file or
// directory"); on POSIX its error numbers are the negated errno values.
// An errno libuv does not know becomes Node's own fallback, UNKNOWN.
bool KnownToLibuv(int uvError, char* name, size_t size) {
  uv_err_name_r(uvError, name, size);
  return std::strncmp(name, "Unknown system error", 20) != 0;
}

}  // namespace

Napi::Error ErrnoError(Napi::Env env, int error, const char* syscall, const std::string* path) {
  const int uvError = -error;
  char name[64];
  char text[256];
  std::string code = "UNKNOWN";
  std::string description = "unknown error";
  if (KnownToLibuv(uvError, name, sizeof name)) {
    code = name;
    description = uv_strerror_r(uvError, text, sizeof text);
  }
  std::string message = code + ": " + description + ", " + syscall;
  if (path != nullptr) message += " '" + *path + "'";

  Napi::Error result = Napi::Error::New(env, message);
  Napi::Object object = result.Value();
  object.Set("errno", Napi::Number::New(env, uvError));
  object.Set("code", Napi::String::New(env, code));
  object.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) object.Set("path", Napi::String::New(env, *path));
  return result;
}

void ThrowErrno(Napi::Env env, int error, const char* syscall, const std::string* path) {
  throw ErrnoError(env, error, syscall, path);
}

}  // namespace procwire
