// FdWatcher: readiness of a descriptor, reported on the JavaScript thread by
// a libuv poll handle (epoll on Linux). Nothing blocks and no thread-pool
// thread waits.
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>

#include "state.h"

namespace procwire {

// The libuv handle lives apart from the JavaScript object: uv_close()
// finishes on a later loop iteration, possibly after the object was
// collected or the environment was torn down.
struct PollSlot {
  uv_poll_t handle;
  FdWatcher* owner = nullptr;  // null once the watcher let go of it
  std::shared_ptr<HandleLedger> ledger;
};

class FdWatcher : public Napi::ObjectWrap<FdWatcher> {
 public:
  static Napi::Function DefineClass(Napi::Env env);

  explicit FdWatcher(const Napi::CallbackInfo& info);
  ~FdWatcher() override;

  // Stops polling and closes the libuv handle; the descriptor stays open.
  // `finalizing` is true from the destructor, where the wrapper's own
  // reference must not be touched.
  void Release(bool finalizing = false);

 private:
  void Watch(const Napi::CallbackInfo& info);
  void Close(const Napi::CallbackInfo& info);
  void StopWatching();

  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnClosed(uv_handle_t* handle);

  AddonState* state_ = nullptr;
  PollSlot* slot_ = nullptr;
  int fd_ = -1;
  int events_ = 0;
  Napi::FunctionReference onReady_;
  // Shared so that a close() inside the callback cannot destroy the context
  // MakeCallback is still using.
  std::shared_ptr<Napi::AsyncContext> context_;
};

}  // namespace procwire
