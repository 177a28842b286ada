// Process-level mechanism: a worker asks the kernel to signal it when its
// parent dies, so it cannot outlive a parent killed with SIGKILL.
#include "exports.h"

#include <csignal>

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "args.h"
#include "errors.h"

namespace procwire {

namespace {

// The signal is sent when the *thread* that forked this process exits; in
// Node that is the parent's main thread, which runs child_process.spawn.
// If the parent died before this call, nothing is ever sent: callers compare
// process.ppid with the parent they expect afterwards.
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  const int signal = static_cast<int>(IntegerArg(info, 0, "signal", 0, NSIG - 1));
#ifdef __linux__
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signal)) != 0) ThrowErrno(info.Env(), errno, "prctl");
  return Napi::Boolean::New(info.Env(), true);
#else
  (void)signal;
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

void InitProcess(Napi::Env env, Napi::Object exports) {
  exports.Set("setParentDeathSignal", Napi::Function::New<SetParentDeathSignal>(env, "setParentDeathSignal"));
}

}  // namespace procwire
