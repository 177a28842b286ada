// The JavaScript side of a wait thread, as BellWatcher, MailslotReader and
// PipeListener share it on top of ThreadedSource (source.h): the wrapper is
// held (not collected) from the moment its thread runs until it is closed,
// like a listening server; close(), ref() and unref(); the optional onError
// handler; and the one shutdown that close(), a fatal failure, the
// destructor and the environment's teardown all go through.
#pragma once

#include "win32.h"

#include <napi.h>

#include <utility>
#include <vector>

#include "source.h"

namespace procwire {

template <typename T>
class ThreadedObject : public Napi::ObjectWrap<T>, public ThreadedSource {
  using Wrap = Napi::ObjectWrap<T>;

 public:
  // The class with close(), ref() and unref(), then `more`.
  static Napi::Function DefineClass(Napi::Env env, const char* name,
                                    std::vector<typename Wrap::PropertyDescriptor> more = {}) {
    std::vector<typename Wrap::PropertyDescriptor> methods = {
        Wrap::InstanceMethod("close", &ThreadedObject::Close),
        Wrap::InstanceMethod("ref", &ThreadedObject::RefJs),
        Wrap::InstanceMethod("unref", &ThreadedObject::UnrefJs),
    };
    methods.insert(methods.end(), more.begin(), more.end());
    return Wrap::DefineClass(env, name, methods);
  }

 protected:
  explicit ThreadedObject(const Napi::CallbackInfo& info) : Wrap(info) {}

  // (Owners call Shutdown(true) in their own destructors, while the thread
  // still has an object to run on and CloseHandles() one to close.)

  // The constructor's last step: keeps `onError` (when given), starts the
  // thread delivering to `callback`, then holds the wrapper. A constructor
  // that throws never runs the destructor, so when the thread cannot start
  // `undo` closes what the constructor opened before the error is rethrown.
  template <typename Undo>
  void Start(Napi::Env env, Napi::Function callback, Napi::Function onError, const char* resourceName, Undo undo) {
    if (!onError.IsEmpty()) onError_ = Napi::Persistent(onError);
    try {
      StartThread(env, callback, resourceName);
    } catch (...) {
      undo();
      throw;
    }
    this->Ref();
    referenced_ = true;
  }

  // Stops the thread, then closes the object's handles; `finalizing` from
  // the destructor and at environment teardown, where the wrapper's
  // reference is not ours to touch.
  void Shutdown(bool finalizing) {
    const bool threadRan = Running();
    StopThread();
    CloseHandles(threadRan);
    onError_.Reset();
    if (referenced_ && !finalizing) this->Unref();
    referenced_ = false;
  }

  // Closes what the object holds, the thread being stopped; `threadRan`:
  // whether it was running until now (it may own some of them).
  virtual void CloseHandles(bool threadRan) = 0;

  // A failure the object cannot go on after: closes it, then reports
  // `error` as an 'error' event would.
  void Fail(napi_env env, const Napi::Error& error) {
    Napi::FunctionReference onError = std::move(onError_);
    Shutdown(false);
    Report(env, onError, error);
  }

  // Reports `error` to the onError handler, or as an uncaught exception
  // without one; the object stays open.
  void Report(napi_env env, const Napi::Error& error) { Report(env, onError_, error); }

  void OnTeardown() override { Shutdown(true); }

 private:
  static void Report(napi_env env, const Napi::FunctionReference& onError, const Napi::Error& error) {
    if (onError.IsEmpty()) {
      RaiseUncaught(env, error.Value());
    } else {
      Call(env, onError.Value(), error.Value());
    }
  }

  void Close(const Napi::CallbackInfo&) { Shutdown(false); }
  void RefJs(const Napi::CallbackInfo& info) { RefThread(info.Env()); }
  void UnrefJs(const Napi::CallbackInfo& info) { UnrefThread(info.Env()); }

  Napi::FunctionReference onError_;
  bool referenced_ = false;
};

}  // namespace procwire
