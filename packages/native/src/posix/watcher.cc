#include "watcher.h"

#include "args.h"
#include "errors.h"
#include "exports.h"

namespace procwire {

namespace {

// The events a caller may ask for; constants.POLL_* are these libuv values.
constexpr int kWatchable = UV_READABLE | UV_WRITABLE | UV_DISCONNECT;

}  // namespace

Napi::Function FdWatcher::DefineClass(Napi::Env env) {
  return ObjectWrap<FdWatcher>::DefineClass(env, "FdWatcher",
                                            {
                                                InstanceMethod<&FdWatcher::Watch>("watch"),
                                                InstanceMethod<&FdWatcher::Close>("close"),
                                            });
}

FdWatcher::FdWatcher(const Napi::CallbackInfo& info) : ObjectWrap<FdWatcher>(info) {
  Napi::Env env = info.Env();
  const int fd = DescriptorArg(info, 0, "fd");
  Napi::Function onReady = FunctionArg(info, 1, "onReady");
  AddonState& state = AddonState::Of(env);
  // A second handle on one descriptor would silently never fire in libuv.
  if (state.watchers.count(fd) != 0) ThrowErrno(env, EEXIST, "uv_poll_init");
  auto context = std::make_shared<Napi::AsyncContext>(env, "procwire.FdWatcher");

  auto slot = std::make_unique<PollSlot>();
  // uv_poll_init checks that epoll accepts the descriptor (EPERM for a regular
  // file, EBADF for a closed one) and makes it non-blocking.
  int result = uv_poll_init(state.loop, &slot->handle, fd);
  if (result != 0) ThrowErrno(env, -result, "uv_poll_init");

  // Nothing below throws: the handle is now in the loop and must be closed.
  slot->handle.data = slot.get();
  slot->owner = this;
  slot->ledger = state.ledger;
  state.ledger->open++;
  state.watchers[fd] = this;
  state_ = &state;
  slot_ = slot.release();
  fd_ = fd;
  onReady_ = Napi::Persistent(onReady);
  context_ = std::move(context);
}

FdWatcher::~FdWatcher() {
  Release(true);
}

void FdWatcher::Watch(const Napi::CallbackInfo& info) {
  const int events = static_cast<int>(IntegerArg(info, 0, "events", 0, kWatchable));
  if (slot_ == nullptr) ThrowInvalidState(info.Env(), "FdWatcher.watch: the watcher is closed");
  if (events == 0) return StopWatching();
  int result = uv_poll_start(&slot_->handle, events, OnPoll);
  if (result != 0) ThrowErrno(info.Env(), -result, "uv_poll_start");
  // While it watches, the handle keeps the loop alive and the callback may
  // fire, so the wrapper must not be collected.
  if (events_ == 0) Ref();
  events_ = events;
}

void FdWatcher::StopWatching() {
  if (events_ == 0) return;
  uv_poll_stop(&slot_->handle);
  events_ = 0;
  Unref();
}

void FdWatcher::Close(const Napi::CallbackInfo&) {
  Release();
}

void FdWatcher::Release(bool finalizing) {
  if (slot_ == nullptr) return;
  if (events_ != 0 && !finalizing) Unref();
  events_ = 0;
  slot_->owner = nullptr;
  // uv_close stops the poll at once; the slot is freed in OnClosed.
  uv_close(reinterpret_cast<uv_handle_t*>(&slot_->handle), OnClosed);
  slot_ = nullptr;
  if (state_ != nullptr) state_->watchers.erase(fd_);
  onReady_.Reset();
  context_.reset();
}

void FdWatcher::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* slot = static_cast<PollSlot*>(handle->data);
  FdWatcher* self = slot->owner;
  if (self == nullptr) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  // Held on the stack so a close() inside the callback frees nothing in use.
  Napi::Object object = self->Value();
  std::shared_ptr<Napi::AsyncContext> context = self->context_;
  if (object.IsEmpty() || self->onReady_.IsEmpty()) return;
  Napi::Function onReady = self->onReady_.Value();

  // On an error (libuv reports POLLERR as UV_EBADF, e.g. a pipe whose reader
  // closed) libuv has already stopped the handle; mirror that here so the
  // watcher no longer holds the loop open. The callback may watch() again.
  if (status < 0) self->StopWatching();
  napi_value args[] = {
      Napi::Number::New(env, status < 0 ? 0 : (events & kWatchable)),
      Napi::Number::New(env, status < 0 ? status : 0),
  };
  // The raw call, not node-addon-api's: while a worker is being stopped, JS
  // cannot run and even building an Error object fails, which node-addon-api
  // would turn into a fatal error.
  napi_value result;
  napi_status called = napi_make_callback(env, *context, object, onReady, 2, args, &result);
  if (called == napi_pending_exception) {
    napi_value exception;
    // As with any Node event callback: a throw is an uncaught exception.
    // (When the thread is being stopped the "exception" is the termination,
    // and napi_fatal_exception does nothing because JS can no longer run.)
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) napi_fatal_exception(env, exception);
  }
}

void FdWatcher::OnClosed(uv_handle_t* handle) {
  auto* slot = static_cast<PollSlot*>(handle->data);
  std::shared_ptr<HandleLedger> ledger = std::move(slot->ledger);
  delete slot;
  if (--ledger->open == 0 && ledger->teardown != nullptr) {
    napi_async_cleanup_hook_handle teardown = ledger->teardown;
    ledger->teardown = nullptr;
    napi_remove_async_cleanup_hook(teardown);
  }
}

void InitWatcher(Napi::Env env, Napi::Object exports) {
  exports.Set("FdWatcher", FdWatcher::DefineClass(env));
}

}  // namespace procwire
