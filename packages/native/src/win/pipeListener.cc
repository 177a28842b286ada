// PipeListener: the server of a Windows named pipe, \\.\pipe\<name>, whose
// every instance admits only the creating user (security.h) and refuses
// clients on other machines (PIPE_REJECT_REMOTE_CLIENTS). Node's own
// server (net.createServer().listen(path)) cannot do either: libuv creates
// its instances with the default security descriptor and without that flag
// (see README.md). The data path is still Node's: each connected instance
// reaches JavaScript as a C runtime descriptor of node.exe (host.h), which
// `new net.Socket({ fd, readable: true, writable: true })` wraps; libuv's
// uv_pipe_open then reads and writes it like any pipe it opened itself.
//
// A dedicated thread (source.h, threadedObject.h) keeps one instance waiting in an
// overlapped ConnectNamedPipe, which it cancels (CancelIoEx) when stopped.
// Once a client connects it creates the next instance before handing the
// connected one over, so a client never finds the name gone; one that finds
// every instance busy waits in WaitNamedPipe, as Node's client does.
#include "win32.h"

#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "host.h"
#include "security.h"
#include "threadedObject.h"

#ifndef PIPE_REJECT_REMOTE_CLIENTS
#define PIPE_REJECT_REMOTE_CLIENTS 0x00000008
#endif

namespace procwire {

namespace {

// A pipe name is at most 256 characters (CreateNamedPipe's documentation).
constexpr size_t kMaxNameLength = 256;

// libuv's buffer sizes for the pipes Node serves, so both kinds behave alike.
constexpr DWORD kBufferBytes = 65536;

// A connected instance for JavaScript, or a failure. `fatal` failures have
// stopped the thread; others (the descriptor table is full) cost one
// connection. A handle never delivered is closed here.
struct Connection : Delivery {
  ~Connection() override {
    if (pipe != INVALID_HANDLE_VALUE) CloseHandle(pipe);
  }
  HANDLE pipe = INVALID_HANDLE_VALUE;
  DWORD error = 0;
  const char* syscall = nullptr;
  bool fatal = false;
};

class PipeListener : public ThreadedObject<PipeListener> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ThreadedObject::DefineClass(env, "PipeListener",
                                       {InstanceMethod<&PipeListener::Security>("securityDescriptor")});
  }

  explicit PipeListener(const Napi::CallbackInfo& info);
  ~PipeListener() override { Shutdown(true); }

 private:
  Napi::Value Security(const Napi::CallbackInfo& info);

  void Run() override;
  void Deliver(napi_env env, napi_value callback, Delivery& delivery) override;
  void CloseHandles(bool threadRan) override;

  // A new instance of the pipe, or INVALID_HANDLE_VALUE and the error.
  HANDLE CreateInstance(bool first, DWORD* error);
  // The thread: waits for a client on `pipe`. 0 when one is connected,
  // ERROR_OPERATION_ABORTED when stopped, else the failure.
  DWORD AwaitClient(HANDLE pipe, HANDLE done);
  void ReportError(napi_env env, const Connection& failure);

  std::wstring widePath_;
  std::string path_;
  std::string sddl_;
  OwnerOnlySecurity security_;
  // The instance waiting for a client: the first one until the thread
  // starts, then the thread's alone (and closed by it when it stops).
  HANDLE pending_ = INVALID_HANDLE_VALUE;
};

PipeListener::PipeListener(const Napi::CallbackInfo& info) : ThreadedObject(info) {
  Napi::Env env = info.Env();
  ObjectName name = ObjectNameArg(info, 0, "name", L"\\\\.\\pipe\\", kMaxNameLength, false);
  Napi::Function onConnection = FunctionArg(info, 1, "onConnection");
  Napi::Function onError = OptionalFunctionArg(info, 2, "onError");
  widePath_ = name.path;
  path_ = name.utf8;
  DefinePath(info, path_);

  const char* syscall = nullptr;
  DWORD error = security_.Build(&syscall);
  if (error != 0) ThrowWinError(env, error, syscall);
  // The first instance here, so that a taken name throws now, as listen()
  // fails with EADDRINUSE.
  HANDLE first = CreateInstance(true, &error);
  if (first == INVALID_HANDLE_VALUE) {
    // FILE_FLAG_FIRST_PIPE_INSTANCE fails with ERROR_ACCESS_DENIED when the
    // name exists (libuv maps it the same way); ERROR_PIPE_BUSY when an
    // existing pipe of that name has all its instances.
    const bool taken = error == ERROR_ACCESS_DENIED || error == ERROR_PIPE_BUSY;
    ThrowWinError(env, error, "CreateNamedPipeW", &path_, taken ? "EADDRINUSE" : nullptr);
  }
  // What the pipe got, read back from Windows while the instance is ours.
  error = DescribeSecurity(first, &sddl_, &syscall);
  if (error != 0) {
    CloseHandle(first);
    ThrowWinError(env, error, syscall, &path_);
  }
  pending_ = first;
  // A listening server is not collected before close(), like net.Server.
  Start(env, onConnection, onError, "procwire.PipeListener", [this] { CloseHandles(false); });
}

HANDLE PipeListener::CreateInstance(bool first, DWORD* error) {
  // Overlapped, so ConnectNamedPipe can be cancelled, and so libuv (which
  // asks with NtQueryInformationFile) serves it through its completion port.
  const DWORD openMode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
  // Byte mode and blocking, as libuv creates its own (uv_pipe_open sets them again).
  const DWORD pipeMode = PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS;
  HANDLE pipe = CreateNamedPipeW(widePath_.c_str(), openMode, pipeMode, PIPE_UNLIMITED_INSTANCES, kBufferBytes,
                                 kBufferBytes, 0, security_.Attributes());
  if (pipe == INVALID_HANDLE_VALUE) *error = GetLastError();
  return pipe;
}

void PipeListener::CloseHandles(bool threadRan) {
  // The thread closes the instance it waits on; before it started, that is
  // the first instance, still here.
  if (!threadRan && pending_ != INVALID_HANDLE_VALUE) CloseHandle(pending_);
  pending_ = INVALID_HANDLE_VALUE;
}

Napi::Value PipeListener::Security(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), sddl_);
}

DWORD PipeListener::AwaitClient(HANDLE pipe, HANDLE done) {
  OVERLAPPED overlapped{};
  overlapped.hEvent = done;
  ResetEvent(done);
  // Overlapped, it returns FALSE: ERROR_IO_PENDING, or ERROR_PIPE_CONNECTED
  // for a client that came between CreateNamedPipe and this call.
  if (ConnectNamedPipe(pipe, &overlapped)) return 0;
  DWORD error = GetLastError();
  if (error == ERROR_PIPE_CONNECTED) return 0;
  if (error != ERROR_IO_PENDING) return error;
  HANDLE waits[] = {done, StopEvent()};
  if (WaitForMultipleObjects(2, waits, FALSE, INFINITE) != WAIT_OBJECT_0) {
    // `overlapped` must outlive the operation: wait for the cancellation
    // (or for a connection that won the race, which is then dropped).
    DWORD ignored = 0;
    CancelIoEx(pipe, &overlapped);
    GetOverlappedResult(pipe, &overlapped, &ignored, TRUE);
    return ERROR_OPERATION_ABORTED;
  }
  DWORD ignored = 0;
  return GetOverlappedResult(pipe, &overlapped, &ignored, FALSE) ? 0 : GetLastError();
}

void PipeListener::Run() {
  HANDLE pipe = pending_;
  HANDLE done = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  auto fail = [this](DWORD error, const char* syscall) {
    auto* failure = new Connection();
    failure->error = error;
    failure->syscall = syscall;
    failure->fatal = true;
    Post(failure);
  };
  if (done == nullptr) fail(GetLastError(), "CreateEventW");
  while (done != nullptr) {
    DWORD error = AwaitClient(pipe, done);
    if (error == ERROR_OPERATION_ABORTED) break;
    if (error == ERROR_NO_DATA) {
      // The client connected and closed before we saw it: serve the next.
      DisconnectNamedPipe(pipe);
      continue;
    }
    if (error != 0) {
      fail(error, "ConnectNamedPipe");
      break;
    }
    HANDLE next = CreateInstance(false, &error);
    auto* connection = new Connection();
    connection->pipe = pipe;
    pipe = INVALID_HANDLE_VALUE;
    Post(connection);
    if (next == INVALID_HANDLE_VALUE) {
      fail(error, "CreateNamedPipeW");
      break;
    }
    pipe = next;
  }
  if (pipe != INVALID_HANDLE_VALUE) CloseHandle(pipe);
  if (done != nullptr) CloseHandle(done);
}

void PipeListener::ReportError(napi_env env, const Connection& failure) {
  const bool full = failure.error == ERROR_TOO_MANY_OPEN_FILES;
  Napi::Error error = WinError(env, failure.error, failure.syscall, &path_, full ? "EMFILE" : nullptr);
  // A fatal failure closes the listener first; another costs one connection.
  if (failure.fatal) return Fail(env, error);
  Report(env, error);
}

void PipeListener::Deliver(napi_env env, napi_value callback, Delivery& delivery) {
  auto& connection = static_cast<Connection&>(delivery);
  if (connection.error != 0) return ReportError(env, connection);
  if (!Running()) return;  // closed by an earlier callback of this batch; the handle is closed
  DWORD error = 0;
  int fd = HostOpenOsfHandle(connection.pipe, &error);
  if (fd < 0) {
    connection.error = error;
    connection.syscall = "uv_open_osfhandle";
    return ReportError(env, connection);
  }
  connection.pipe = INVALID_HANDLE_VALUE;  // the descriptor owns it now
  Call(env, callback, Napi::Number::New(env, fd));
}

}  // namespace

void InitPipeListener(Napi::Env env, Napi::Object exports) {
  exports.Set("PipeListener", PipeListener::DefineClass(env));
}

}  // namespace procwire
