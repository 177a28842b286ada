// What a Windows process can learn about the system it runs on: the real
// Windows version and whether that Windows is Wine, so tests can tell a
// Windows behaviour from a known difference of Wine (see README.md).
#include "win32.h"

#include "exports.h"

#include <string>

namespace procwire {

namespace {

// RtlGetVersion reports the version the kernel runs. GetVersionEx would
// report at most Windows 8 to a process whose manifest (node.exe's) does not
// declare newer versions, and it is deprecated.
using RtlGetVersionFn = LONG(WINAPI*)(RTL_OSVERSIONINFOW*);

// Wine's ntdll exports wine_get_version; Windows' ntdll has no such symbol.
using WineGetVersionFn = const char*(CDECL*)();

// GetProcAddress returns a generic function pointer; going through void*
// says on purpose that the real signature is the one documented for it.
template <typename Fn>
Fn NtdllFunction(const char* name) {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  if (ntdll == nullptr) return nullptr;
  return reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(ntdll, name)));
}

Napi::Value PlatformInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RTL_OSVERSIONINFOW version{};
  version.dwOSVersionInfoSize = static_cast<ULONG>(sizeof version);
  auto rtlGetVersion = NtdllFunction<RtlGetVersionFn>("RtlGetVersion");
  // Every Windows NT has RtlGetVersion and it cannot fail for this structure.
  if (rtlGetVersion == nullptr || rtlGetVersion(&version) != 0) {
    throw Napi::Error::New(env, "RtlGetVersion is unavailable or failed");
  }

  Napi::Object result = Napi::Object::New(env);
  result.Set("windowsVersion", std::to_string(version.dwMajorVersion) + "." + std::to_string(version.dwMinorVersion) +
                                   "." + std::to_string(version.dwBuildNumber));
  result.Set("major", Napi::Number::New(env, version.dwMajorVersion));
  result.Set("minor", Napi::Number::New(env, version.dwMinorVersion));
  result.Set("build", Napi::Number::New(env, version.dwBuildNumber));
  auto wineGetVersion = NtdllFunction<WineGetVersionFn>("wine_get_version");
  if (wineGetVersion != nullptr) {
    result.Set("wineVersion", wineGetVersion());
  } else {
    result.Set("wineVersion", env.Null());
  }
  result.Set("pid", Napi::Number::New(env, GetCurrentProcessId()));
  return result;
}

}  // namespace

void InitSystem(Napi::Env env, Napi::Object exports) {
  exports.Set("platformInfo", Napi::Function::New<PlatformInfo>(env, "platformInfo"));
}

}  // namespace procwire
