// The Win32 error numbers the Windows transports compare GetLastError()
// against, taken from the SDK's headers rather than hard-coded in TypeScript.
#include "win32.h"

#include "exports.h"

namespace procwire {

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object constants = Napi::Object::New(env);
  auto number = [&](const char* name, DWORD value) { constants.Set(name, Napi::Number::New(env, value)); };
  number("ERROR_FILE_NOT_FOUND", ERROR_FILE_NOT_FOUND);
  number("ERROR_ACCESS_DENIED", ERROR_ACCESS_DENIED);
  number("ERROR_INVALID_HANDLE", ERROR_INVALID_HANDLE);
  number("ERROR_INVALID_PARAMETER", ERROR_INVALID_PARAMETER);
  number("ERROR_ALREADY_EXISTS", ERROR_ALREADY_EXISTS);
  number("ERROR_BROKEN_PIPE", ERROR_BROKEN_PIPE);
  number("ERROR_SEM_TIMEOUT", ERROR_SEM_TIMEOUT);
  number("ERROR_PIPE_BUSY", ERROR_PIPE_BUSY);
  number("ERROR_NO_DATA", ERROR_NO_DATA);
  number("ERROR_PIPE_NOT_CONNECTED", ERROR_PIPE_NOT_CONNECTED);
  number("ERROR_MORE_DATA", ERROR_MORE_DATA);
  number("ERROR_PIPE_CONNECTED", ERROR_PIPE_CONNECTED);
  constants.Freeze();
  exports.Set("constants", constants);
}

}  // namespace procwire
