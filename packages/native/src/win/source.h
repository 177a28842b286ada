// The life cycle MailslotReader and PipeListener share. Windows offers no
// readiness to wait for on the JavaScript thread (libuv's loop is an I/O
// completion port this addon cannot join), so each of these objects has a
// thread of its own that blocks in Win32 waits and hands what it gets to
// JavaScript through a thread-safe function:
//
// - The thread returns soon after StopThread() sets the stop event. How it
//   notices depends on what it waits for: a thread in an overlapped wait
//   waits on the stop event too; a thread blocked in a call that nothing
//   can cancel under Wine (a mailslot ReadFile) is woken by Wake().
// - It never waits for JavaScript: Post() does not block. Whoever needs to
//   bound what is in flight waits for the JS side on the stop event too.
// - StopThread() joins the thread first, then aborts the thread-safe
//   function, so no callback runs after it returns (items still queued are
//   deleted without being delivered), and nothing keeps the event loop alive.
// - While the thread runs, the thread-safe function keeps the event loop
//   alive (like a listening server) unless unref'd; an environment that ends
//   with the object still open (process exit, a worker_thread ending) stops
//   the thread through an environment cleanup hook, and OnTeardown() lets
//   the owner close its handles as close() would.
#pragma once

#include "win32.h"

#include <napi.h>

#include <thread>

namespace procwire {

// Something the thread hands to the JavaScript thread. Deleted after
// delivery, or without it when the source stops first: the destructor frees
// whatever was not delivered (a pipe handle is closed).
struct Delivery {
  virtual ~Delivery() = default;
};

class ThreadedSource {
 public:
  ThreadedSource() = default;
  ThreadedSource(const ThreadedSource&) = delete;
  ThreadedSource& operator=(const ThreadedSource&) = delete;
  virtual ~ThreadedSource();

 protected:
  // JavaScript thread. Creates the thread-safe function (calling `callback`
  // through Deliver()) and the stop event, then starts the thread running
  // Run(). Throws (with nothing left running) when Windows refuses.
  void StartThread(Napi::Env env, Napi::Function callback, const char* resourceName);
  // JavaScript thread, idempotent; see above. Safe from inside Deliver().
  void StopThread();
  bool Running() const { return running_; }
  void RefThread(Napi::Env env);
  void UnrefThread(Napi::Env env);

  // The thread. Hands `delivery` to the JavaScript thread; false (and
  // `delivery` deleted) once the thread-safe function is closing.
  bool Post(Delivery* delivery);
  // Manual-reset: set once by StopThread(), never reset.
  HANDLE StopEvent() const { return stopEvent_; }

  // Runs on the thread; returns when done or once StopEvent() is set.
  virtual void Run() = 0;
  // JavaScript thread, right after the stop event is set and before the
  // join: makes a thread blocked in a call return. Must never block.
  virtual void Wake() {}
  // Runs on the JavaScript thread for each Post()ed delivery, in order.
  // `callback` is the function given to StartThread; call it (and any other
  // function) through Call(). Napi::Error exceptions escaping Deliver are
  // reported as uncaught exceptions too.
  virtual void Deliver(napi_env env, napi_value callback, Delivery& delivery) = 0;
  // The environment is ending with the source still open: the thread has
  // stopped; close the object's handles as close() would.
  virtual void OnTeardown() = 0;

 protected:
  // Calls `function` with `argument` on the JavaScript thread. An exception
  // it throws becomes an uncaught exception ('uncaughtException'), as in any
  // Node event callback. (Left pending, Node would drop it with a
  // deprecation warning: Node-API 8 modules are not given that policy.)
  static void Call(napi_env env, napi_value function, napi_value argument);
  // Reports `error` as an uncaught exception.
  static void RaiseUncaught(napi_env env, napi_value error);

 private:
  static void CallJs(napi_env env, napi_value callback, void* context, void* data);
  static void OnEnvCleanup(void* data);
  void Join();

  napi_env env_ = nullptr;
  napi_threadsafe_function tsfn_ = nullptr;
  HANDLE stopEvent_ = nullptr;
  std::thread thread_;
  bool running_ = false;
  bool hooked_ = false;
};

}  // namespace procwire
