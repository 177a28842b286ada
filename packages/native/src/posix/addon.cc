// The addon's entry point: one state per Node environment, then each source
// file adds its functions. Everything it exports is declared, with its
// contract, in src/native.ts.
#include <napi.h>

#include "exports.h"
#include "state.h"

namespace {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  procwire::CreateAddonState(env);
  procwire::InitFd(env, exports);
  procwire::InitFileLock(env, exports);
  procwire::InitMqueue(env, exports);
  procwire::InitProcess(env, exports);
  procwire::InitShm(env, exports);
  procwire::InitSocket(env, exports);
  procwire::InitWatcher(env, exports);
  procwire::InitConstants(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(procwire_native, InitAddon)
