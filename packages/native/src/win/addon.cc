// The Windows addon's entry point: each source file adds its functions. It
// is built from src/win/ and src/common/ only; src/posix/ is the POSIX addon.
// What it exports is declared, with its contract, in src/windows.ts.
#include <napi.h>

#include "exports.h"

namespace {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  procwire::InitSystem(env, exports);
  procwire::InitConstants(env, exports);
  procwire::InitSecurity(env, exports);
  procwire::InitMailslotReader(env, exports);
  procwire::InitMailslotWriter(env, exports);
  procwire::InitPipeListener(env, exports);
  procwire::InitShmChannel(env, exports);
  procwire::InitBellWatcher(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(procwire_native, InitAddon)
