#include "host.h"

namespace procwire {

namespace {

using UvOpenOsfHandleFn = int (*)(HANDLE);

// The executable first (node.exe, and Electron, which exports libuv too),
// then the names under which Node is built as a shared library.
UvOpenOsfHandleFn FindUvOpenOsfHandle() {
  const wchar_t* const modules[] = {nullptr, L"node.dll", L"libnode.dll"};
  for (const wchar_t* name : modules) {
    HMODULE module = GetModuleHandleW(name);
    if (module == nullptr) continue;
    FARPROC found = GetProcAddress(module, "uv_open_osfhandle");
    // GetProcAddress returns a generic function pointer; going through void*
    // says on purpose that the real signature is libuv's.
    if (found != nullptr) return reinterpret_cast<UvOpenOsfHandleFn>(reinterpret_cast<void*>(found));
  }
  return nullptr;
}

}  // namespace

int HostOpenOsfHandle(HANDLE handle, DWORD* error) {
  // Looked up once; the host cannot change under a loaded addon.
  static const UvOpenOsfHandleFn open = FindUvOpenOsfHandle();
  if (open == nullptr) {
    *error = ERROR_PROC_NOT_FOUND;
    return -1;
  }
  int fd = open(handle);
  // _open_osfhandle fails only when the descriptor table is full (EMFILE).
  if (fd < 0) *error = ERROR_TOO_MANY_OPEN_FILES;
  return fd;
}

}  // namespace procwire
