#include "errors.h"

#include "text.h"

namespace procwire {

namespace {

// One Win32 error as Node shows it. `uvErrno` is libuv's error number on
// Windows (uv/errno.h: UV__EEXIST is -4075 and so on), fixed by libuv's ABI;
// `text` is libuv's uv_strerror text for it.
struct Mapping {
  DWORD winError;
  const char* code;
  int uvErrno;
  const char* text;
};

// The errors the Windows transports meet. libuv maps more (and maps
// ERROR_ACCESS_DENIED to EPERM); here access denied is EACCES, the code a
// POSIX transport reports for the same situation.
constexpr Mapping kMappings[] = {
    {ERROR_FILE_NOT_FOUND, "ENOENT", -4058, "no such file or directory"},
    {ERROR_PATH_NOT_FOUND, "ENOENT", -4058, "no such file or directory"},
    {ERROR_BAD_NETPATH, "ENOENT", -4058, "no such file or directory"},
    {ERROR_TOO_MANY_OPEN_FILES, "EMFILE", -4066, "too many open files"},
    {ERROR_ACCESS_DENIED, "EACCES", -4092, "permission denied"},
    {ERROR_SHARING_VIOLATION, "EBUSY", -4082, "resource busy or locked"},
    {ERROR_INVALID_HANDLE, "EBADF", -4083, "bad file descriptor"},
    {ERROR_NOT_ENOUGH_MEMORY, "ENOMEM", -4057, "not enough memory"},
    {ERROR_OUTOFMEMORY, "ENOMEM", -4057, "not enough memory"},
    {ERROR_HANDLE_EOF, "EOF", -4095, "end of file"},
    {ERROR_NOT_SUPPORTED, "ENOTSUP", -4049, "operation not supported on socket"},
    {ERROR_FILE_EXISTS, "EEXIST", -4075, "file already exists"},
    {ERROR_ALREADY_EXISTS, "EEXIST", -4075, "file already exists"},
    {ERROR_INVALID_PARAMETER, "EINVAL", -4071, "invalid argument"},
    {ERROR_INVALID_NAME, "EINVAL", -4071, "invalid argument"},
    {ERROR_BAD_PATHNAME, "EINVAL", -4071, "invalid argument"},
    {ERROR_BROKEN_PIPE, "EPIPE", -4047, "broken pipe"},
    {ERROR_NO_DATA, "EPIPE", -4047, "broken pipe"},
    {ERROR_PIPE_NOT_CONNECTED, "EPIPE", -4047, "broken pipe"},
    {ERROR_CALL_NOT_IMPLEMENTED, "ENOSYS", -4054, "function not implemented"},
    {ERROR_SEM_TIMEOUT, "ETIMEDOUT", -4039, "connection timed out"},
    {ERROR_INSUFFICIENT_BUFFER, "EMSGSIZE", -4065, "message too long"},
    {ERROR_FILENAME_EXCED_RANGE, "ENAMETOOLONG", -4064, "name too long"},
    {ERROR_PIPE_BUSY, "EBUSY", -4082, "resource busy or locked"},
    {ERROR_OPERATION_ABORTED, "ECANCELED", -4081, "operation canceled"},
};

// The codes a caller may force (see WinError's `code`), with their numbers.
constexpr Mapping kForcedCodes[] = {
    {0, "EADDRINUSE", -4091, "address already in use"},
    {0, "EMSGSIZE", -4065, "message too long"},
    {0, "EMFILE", -4066, "too many open files"},
};

constexpr int kUvUnknown = -4094;

// Win32 names for errors without an errno code, so that `code` still says
// what happened.
struct Name {
  DWORD winError;
  const char* name;
};
constexpr Name kNames[] = {
    {ERROR_GEN_FAILURE, "ERROR_GEN_FAILURE"},       {ERROR_MORE_DATA, "ERROR_MORE_DATA"},
    {ERROR_PIPE_CONNECTED, "ERROR_PIPE_CONNECTED"}, {ERROR_PIPE_LISTENING, "ERROR_PIPE_LISTENING"},
    {ERROR_IO_PENDING, "ERROR_IO_PENDING"},         {ERROR_NOT_FOUND, "ERROR_NOT_FOUND"},
};

// Windows' own text for an error, in English where Windows has it, without
// the trailing line break FormatMessage adds.
std::string SystemText(DWORD winError) {
  wchar_t* text = nullptr;
  DWORD length = FormatMessageW(
      FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, winError,
      MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  if (length == 0) {
    length = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
                            nullptr, winError, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr);
  }
  std::string result;
  if (length != 0) {
    while (length > 0 && (text[length - 1] == L'\r' || text[length - 1] == L'\n' || text[length - 1] == L' ' ||
                          text[length - 1] == L'.')) {
      length--;
    }
    result = Utf8(text, length);
  }
  if (text != nullptr) LocalFree(text);
  if (result.empty()) result = "Windows error " + std::to_string(winError);
  return result;
}

}  // namespace

Napi::Error WinError(Napi::Env env, DWORD winError, const char* syscall, const std::string* path, const char* code) {
  const Mapping* mapping = nullptr;
  if (code != nullptr) {
    for (const Mapping& forced : kForcedCodes) {
      if (std::string(forced.code) == code) mapping = &forced;
    }
  }
  if (mapping == nullptr) {
    for (const Mapping& known : kMappings) {
      if (known.winError == winError) mapping = &known;
    }
  }

  std::string name = "UNKNOWN";
  std::string description;
  int uvErrno = kUvUnknown;
  if (mapping != nullptr) {
    name = mapping->code;
    description = mapping->text;
    uvErrno = mapping->uvErrno;
  } else {
    for (const Name& known : kNames) {
      if (known.winError == winError) name = known.name;
    }
    description = SystemText(winError);
  }
  // "EEXIST: file already exists, CreateMailslotW '\\.\mailslot\calc'", as
  // Node words it; the Win32 number follows for whoever reads a log.
  std::string message = name + ": " + description + ", " + syscall;
  if (path != nullptr) message += " '" + *path + "'";
  message += " (Windows error " + std::to_string(winError) + ")";

  Napi::Error result = Napi::Error::New(env, message);
  Napi::Object object = result.Value();
  object.Set("errno", Napi::Number::New(env, uvErrno));
  object.Set("code", Napi::String::New(env, name));
  object.Set("winError", Napi::Number::New(env, winError));
  object.Set("syscall", Napi::String::New(env, syscall));
  if (path != nullptr) object.Set("path", Napi::String::New(env, *path));
  return result;
}

void ThrowWinError(Napi::Env env, DWORD winError, const char* syscall, const std::string* path, const char* code) {
  throw WinError(env, winError, syscall, path, code);
}

}  // namespace procwire
