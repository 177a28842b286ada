// What the addon keeps per Node environment (the main thread and each
// worker_thread load it separately and must not share anything).
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstddef>
#include <memory>
#include <unordered_map>

namespace procwire {

class FdWatcher;

// Counts libuv handles that are open or still closing. It outlives
// AddonState because close callbacks can run after the state is gone, and
// environment teardown is finished only when the last of them has run.
struct HandleLedger {
  size_t open = 0;
  // Set while teardown waits for `open` to reach zero.
  napi_async_cleanup_hook_handle teardown = nullptr;
};

struct AddonState {
  uv_loop_t* loop = nullptr;
  // By descriptor: libuv allows one poll handle per descriptor and loop.
  std::unordered_map<int, FdWatcher*> watchers;
  std::shared_ptr<HandleLedger> ledger = std::make_shared<HandleLedger>();
  // The async cleanup hook, until it starts.
  napi_async_cleanup_hook_handle cleanupHook = nullptr;

  AddonState() = default;
  AddonState(const AddonState&) = delete;
  AddonState& operator=(const AddonState&) = delete;
  ~AddonState();

  static AddonState& Of(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

  // Closes the watcher on `fd`, if any. close() and mqClose() call this first:
  // libuv aborts the process when a descriptor it polls disappears under it.
  void ReleaseWatcherOn(int fd);
};

// Creates the state of `env` and registers the teardown that closes every
// watcher, so a worker_thread that used the addon can exit.
AddonState& CreateAddonState(Napi::Env env);

}  // namespace procwire
