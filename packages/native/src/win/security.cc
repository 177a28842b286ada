#include "security.h"

#include <aclapi.h>
#include <sddl.h>

#include <cwchar>
#include <memory>
#include <vector>

#include "errors.h"
#include "exports.h"
#include "text.h"

namespace procwire {

namespace {

// Frees what the SDDL conversion functions LocalAlloc.
struct LocalFreeDeleter {
  void operator()(void* memory) const { LocalFree(memory); }
};

Napi::Value CurrentUserSidJs(const Napi::CallbackInfo& info) {
  std::wstring sid;
  const char* syscall = nullptr;
  DWORD error = CurrentUserSid(&sid, &syscall);
  if (error != 0) ThrowWinError(info.Env(), error, syscall);
  return Napi::String::New(info.Env(), Utf8(sid));
}

}  // namespace

DWORD CurrentUserSid(std::wstring* sid, const char** syscall) {
  HANDLE token = nullptr;
  *syscall = "OpenProcessToken";
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return GetLastError();
  // TOKEN_USER is followed by the SID it points to: ask for the size first.
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> buffer(size == 0 ? sizeof(TOKEN_USER) : size);
  DWORD error = 0;
  *syscall = "GetTokenInformation";
  if (!GetTokenInformation(token, TokenUser, buffer.data(), static_cast<DWORD>(buffer.size()), &size)) {
    error = GetLastError();
  }
  CloseHandle(token);
  if (error != 0) return error;

  wchar_t* text = nullptr;
  *syscall = "ConvertSidToStringSidW";
  if (!ConvertSidToStringSidW(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid, &text)) return GetLastError();
  std::unique_ptr<wchar_t, LocalFreeDeleter> owned(text);
  *sid = text;
  return 0;
}

DWORD OwnerOnlySecurity::Build(const char** syscall) {
  std::wstring sid;
  DWORD error = CurrentUserSid(&sid, syscall);
  if (error != 0) return error;
  const std::wstring sddl = L"O:" + sid + L"D:P(A;;GA;;;" + sid + L")";
  *syscall = "ConvertStringSecurityDescriptorToSecurityDescriptorW";
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &descriptor_, nullptr)) {
    descriptor_ = nullptr;
    return GetLastError();
  }
  attributes_.nLength = static_cast<DWORD>(sizeof attributes_);
  attributes_.lpSecurityDescriptor = descriptor_;
  attributes_.bInheritHandle = FALSE;
  return 0;
}

OwnerOnlySecurity::~OwnerOnlySecurity() {
  if (descriptor_ != nullptr) LocalFree(descriptor_);
}

DWORD DescribeSecurity(HANDLE handle, std::string* sddl, const char** syscall) {
  const SECURITY_INFORMATION what = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  *syscall = "GetSecurityInfo";
  // Returns the error instead of setting it.
  DWORD error = GetSecurityInfo(handle, SE_KERNEL_OBJECT, what, nullptr, nullptr, nullptr, nullptr, &descriptor);
  if (error != ERROR_SUCCESS) return error;
  std::unique_ptr<void, LocalFreeDeleter> ownedDescriptor(descriptor);
  wchar_t* text = nullptr;
  *syscall = "ConvertSecurityDescriptorToStringSecurityDescriptorW";
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(descriptor, SDDL_REVISION_1, what, &text, nullptr)) {
    return GetLastError();
  }
  std::unique_ptr<wchar_t, LocalFreeDeleter> ownedText(text);
  *sddl = Utf8(text, wcslen(text));
  return 0;
}

void InitSecurity(Napi::Env env, Napi::Object exports) {
  exports.Set("currentUserSid", Napi::Function::New<CurrentUserSidJs>(env, "currentUserSid"));
}

}  // namespace procwire
