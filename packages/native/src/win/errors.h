// Errors shaped like Node's own system errors on Windows, so a transport can
// treat an error from this addon exactly like one from `fs` or `net`.
#pragma once

#include "win32.h"

#include <napi.h>

#include <string>

namespace procwire {

// An Error with Node's system-error shape, built from a GetLastError() value:
//   message   "EEXIST: file already exists, CreateMailslotW '\\.\mailslot\calc'"
//   code      "EEXIST"   (the errno name for the Win32 errors that have one,
//                         else the Win32 name such as "ERROR_PIPE_CONNECTED",
//                         else "UNKNOWN")
//   errno     -4075      (libuv's number for that code on Windows, as in
//                         Node's fs errors: util.getSystemErrorName(errno) === code;
//                         UV_UNKNOWN for a code without one)
//   winError  183        (the GetLastError() value itself)
//   syscall   "CreateMailslotW"
//   path      "\\.\mailslot\calc" (only when `path` is given; UTF-8)
// `code`, when given, replaces the mapped code (a call whose Win32 error
// means something more precise, as ERROR_ACCESS_DENIED from the first
// instance of a pipe means the name is taken: EADDRINUSE).
Napi::Error WinError(Napi::Env env, DWORD winError, const char* syscall, const std::string* path = nullptr,
                     const char* code = nullptr);

[[noreturn]] void ThrowWinError(Napi::Env env, DWORD winError, const char* syscall, const std::string* path = nullptr,
                                const char* code = nullptr);

}  // namespace procwire
