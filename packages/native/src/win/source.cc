#include "source.h"

#include <memory>
#include <system_error>

#include "errors.h"

namespace procwire {

namespace {

// Two owners of the thread-safe function: the thread (released when Run()
// returns) and the JavaScript side (aborted by StopThread once the thread
// has ended). Abort, not release, is what stops any further callback; it is
// safe only because no other thread can touch the function by then.
constexpr size_t kOwners = 2;

}  // namespace

ThreadedSource::~ThreadedSource() {
  // Owners stop the thread in their own destructors, while Run() and
  // Deliver() still have an object to run on; by now this only frees what a
  // failed start left behind.
  StopThread();
}

void ThreadedSource::StartThread(Napi::Env env, Napi::Function callback, const char* resourceName) {
  stopEvent_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  if (stopEvent_ == nullptr) ThrowWinError(env, GetLastError(), "CreateEventW");

  napi_value name = Napi::String::New(env, resourceName);
  // Unbounded queue (0): Post() never blocks, so the thread never waits for
  // the JavaScript thread, which may itself be waiting for the thread in
  // StopThread().
  napi_status status =
      napi_create_threadsafe_function(env, callback, nullptr, name, 0, kOwners, nullptr, nullptr, this, CallJs, &tsfn_);
  if (status != napi_ok) {
    CloseHandle(stopEvent_);
    stopEvent_ = nullptr;
    tsfn_ = nullptr;
    throw Napi::Error::New(env, "napi_create_threadsafe_function failed");
  }
  env_ = env;
  try {
    thread_ = std::thread([this] {
      Run();
      napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
    });
  } catch (const std::system_error&) {
    napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
    tsfn_ = nullptr;
    CloseHandle(stopEvent_);
    stopEvent_ = nullptr;
    ThrowWinError(env, ERROR_NOT_ENOUGH_MEMORY, "CreateThread");
  }
  running_ = true;
  // Registered after the thread-safe function, so it runs before Node's own
  // hook for that function (hooks run in reverse order of registration).
  if (napi_add_env_cleanup_hook(env, OnEnvCleanup, this) == napi_ok) hooked_ = true;
}

void ThreadedSource::Join() {
  SetEvent(stopEvent_);
  Wake();
  // The thread may already be gone: Run() returned on an error.
  if (thread_.joinable()) thread_.join();
}

void ThreadedSource::StopThread() {
  if (!running_) return;
  running_ = false;
  Join();
  napi_release_threadsafe_function(tsfn_, napi_tsfn_abort);
  tsfn_ = nullptr;
  CloseHandle(stopEvent_);
  stopEvent_ = nullptr;
  if (hooked_) {
    hooked_ = false;
    napi_remove_env_cleanup_hook(env_, OnEnvCleanup, this);
  }
}

void ThreadedSource::RefThread(Napi::Env env) {
  if (running_) napi_ref_threadsafe_function(env, tsfn_);
}

void ThreadedSource::UnrefThread(Napi::Env env) {
  if (running_) napi_unref_threadsafe_function(env, tsfn_);
}

bool ThreadedSource::Post(Delivery* delivery) {
  if (napi_call_threadsafe_function(tsfn_, delivery, napi_tsfn_nonblocking) == napi_ok) return true;
  delete delivery;
  return false;
}

void ThreadedSource::CallJs(napi_env env, napi_value callback, void* context, void* data) {
  std::unique_ptr<Delivery> delivery(static_cast<Delivery*>(data));
  // Node calls with no environment to free what is still queued when the
  // function closes: the source may be gone by then, so only the delivery
  // itself is touched.
  if (env == nullptr || delivery == nullptr) return;
  auto* self = static_cast<ThreadedSource*>(context);
  try {
    self->Deliver(env, callback, *delivery);
  } catch (const Napi::Error& error) {
    // Building the arguments failed (out of memory, or the environment is
    // stopping, when nothing can run anyway).
    RaiseUncaught(env, error.Value());
  }
}

void ThreadedSource::Call(napi_env env, napi_value function, napi_value argument) {
  napi_value undefined = nullptr;
  napi_get_undefined(env, &undefined);
  if (napi_call_function(env, undefined, function, 1, &argument, nullptr) != napi_pending_exception) return;
  napi_value exception = nullptr;
  if (napi_get_and_clear_last_exception(env, &exception) == napi_ok) RaiseUncaught(env, exception);
}

void ThreadedSource::RaiseUncaught(napi_env env, napi_value error) {
  // Does nothing when JavaScript can no longer run (a worker being stopped).
  napi_fatal_exception(env, error);
}

void ThreadedSource::OnEnvCleanup(void* data) {
  auto* self = static_cast<ThreadedSource*>(data);
  // Removing a hook from inside itself is not allowed; it is gone anyway.
  self->hooked_ = false;
  // The thread first: it may be using the handles OnTeardown closes.
  self->StopThread();
  self->OnTeardown();
}

}  // namespace procwire
