// BellWatcher: waits on the JavaScript thread's behalf for one side's bell of
// a Windows ShmChannel (the auto-reset event `Local\procwire-shm-<name>-s`
// for side 0, `-c` for side 1) and calls onRing() when it rings. Windows has
// no readiness the event loop can wait on for an event, so a thread of its
// own waits (source.h and threadedObject.h have the life cycle, as for
// MailslotReader). Rings that arrive while one call is still queued are
// merged into it: a bell says "look at the rings", not how often.
#include "win32.h"

#include <atomic>
#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "threadedObject.h"

namespace procwire {

namespace {

constexpr size_t kMaxNameLength = 200;

struct Ring : Delivery {
  DWORD error = 0;
};

class BellWatcher : public ThreadedObject<BellWatcher> {
 public:
  static Napi::Function DefineClass(Napi::Env env) { return ThreadedObject::DefineClass(env, "BellWatcher"); }

  // new BellWatcher(name, side, onRing, onError?)
  explicit BellWatcher(const Napi::CallbackInfo& info) : ThreadedObject(info) {
    Napi::Env env = info.Env();
    ObjectName name = ObjectNameArg(info, 0, "name", L"Local\\procwire-shm-", kMaxNameLength, false);
    const int side = static_cast<int>(IntegerArg(info, 1, "side", 0, 1));
    Napi::Function onRing = FunctionArg(info, 2, "onRing");
    Napi::Function onError = OptionalFunctionArg(info, 3, "onError");
    name.path += side == 0 ? L"-s" : L"-c";
    path_ = name.utf8 + (side == 0 ? "-s" : "-c");
    DefinePath(info, path_);
    bell_ = OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, name.path.c_str());
    if (bell_ == nullptr) ThrowWinError(env, GetLastError(), "OpenEventW", &path_);
    Start(env, onRing, onError, "procwire.BellWatcher", [this] { CloseHandles(false); });
  }

  ~BellWatcher() override { Shutdown(true); }

 private:
  void CloseHandles(bool) override {
    if (bell_ != nullptr) {
      CloseHandle(bell_);
      bell_ = nullptr;
    }
  }

  void Run() override {
    HANDLE waits[] = {StopEvent(), bell_};
    for (;;) {
      const DWORD result = WaitForMultipleObjects(2, waits, FALSE, INFINITE);
      if (result == WAIT_OBJECT_0) return;
      if (result != WAIT_OBJECT_0 + 1) {
        auto* failure = new Ring();
        failure->error = result == WAIT_FAILED ? GetLastError() : ERROR_INVALID_HANDLE;
        Post(failure);
        return;
      }
      // One queued call at a time; the JavaScript side looks at the rings then.
      if (pending_.exchange(true)) continue;
      if (!Post(new Ring())) return;
    }
  }

  void Deliver(napi_env env, napi_value callback, Delivery& delivery) override {
    auto& ring = static_cast<Ring&>(delivery);
    if (ring.error != 0) return Fail(env, WinError(env, ring.error, "WaitForMultipleObjects", &path_));
    pending_.store(false);
    if (!Running()) return;
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    Call(env, callback, undefined);
  }

  HANDLE bell_ = nullptr;
  std::string path_;
  std::atomic<bool> pending_{false};
};

}  // namespace

void InitBellWatcher(Napi::Env env, Napi::Object exports) {
  exports.Set("BellWatcher", BellWatcher::DefineClass(env));
}

}  // namespace procwire
