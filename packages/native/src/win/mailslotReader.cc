// MailslotReader: the server end of a Windows mailslot, \\.\mailslot\<name>.
// A mailslot is one-way and keeps message boundaries: every WriteFile of a
// writer is one message, and one ReadFile reads exactly one. The reader's
// handle is the mailslot: the name exists while it is open (under Wine,
// also while a writer still holds it). Only the creating user may open it
// (security.h).
//
// A dedicated thread reads it with a blocking ReadFile (source.h and
// threadedObject.h have the life cycle). Under Wine nothing cancels that
// read: not CancelIoEx, not CancelSynchronousIo (ERROR_NOT_FOUND), not
// closing the handle, and an OVERLAPPED is ignored (the call blocks anyway).
// What does end it is a message, so close() writes one to its own slot
// (Wake) when the thread is waiting in ReadFile on an empty slot; as a
// safety net every read also times out after kReadTimeoutMs and the thread
// looks at the stop event.
#include "win32.h"

#include <atomic>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "security.h"
#include "threadedObject.h"

namespace procwire {

namespace {

// Names longer than this fail in CreateMailslotW anyway (MAX_PATH minus the prefix).
constexpr size_t kMaxNameLength = 240;

// The largest maxMessageSize accepted: the read buffer is this large. (Wine
// carries at most 212,960 bytes per message on a Linux host with the default
// net.core.wmem_default; see README.md.)
constexpr int64_t kMaxMessageSizeLimit = 16 * 1024 * 1024;

// How long one ReadFile waits before the thread looks at the stop event
// again, in case Wake() could not end it. Windows and Wine both fail such a
// read with ERROR_SEM_TIMEOUT.
constexpr DWORD kReadTimeoutMs = 1000;

// Messages read but not yet delivered to JavaScript, and their bytes. At
// either bound the thread stops reading until JavaScript has taken half,
// so a slow callback costs at most this much memory here and the rest
// waits in the mailslot (where, under Wine, writers block once it is full).
constexpr size_t kMaxInFlight = 1024;
constexpr size_t kMaxInFlightBytes = 16 * 1024 * 1024;

// One message read, or (`error` not 0) the failure that stopped the reader.
// A field, not a class per kind: Node builds addons without RTTI on Windows.
struct Message : Delivery {
  std::vector<uint8_t> bytes;
  DWORD error = 0;
};

Message* Failure(DWORD error) {
  auto* failure = new Message();
  failure->error = error;
  return failure;
}

class MailslotReader : public ThreadedObject<MailslotReader> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ThreadedObject::DefineClass(env, "MailslotReader",
                                       {InstanceMethod<&MailslotReader::Security>("securityDescriptor")});
  }

  explicit MailslotReader(const Napi::CallbackInfo& info);
  ~MailslotReader() override;

 private:
  Napi::Value Security(const Napi::CallbackInfo& info);

  void Run() override;
  void Wake() override;
  void Deliver(napi_env env, napi_value callback, Delivery& delivery) override;
  // Closes the slot (the drained_ event lives until the destructor).
  void CloseHandles(bool threadRan) override;
  // The thread: false when it must stop.
  bool WaitForRoom();
  bool Full() const { return inFlight_.load() >= kMaxInFlight || inFlightBytes_.load() >= kMaxInFlightBytes; }
  bool Stopping() const { return WaitForSingleObject(StopEvent(), 0) == WAIT_OBJECT_0; }
  // The thread: reads and drops a message too large for the buffer.
  void DropOversized();

  HANDLE slot_ = INVALID_HANDLE_VALUE;
  HANDLE drained_ = nullptr;  // auto-reset: JavaScript took enough messages
  std::wstring widePath_;
  std::string path_;
  size_t maxMessageSize_ = 0;
  std::atomic<size_t> inFlight_{0};
  std::atomic<size_t> inFlightBytes_{0};
  std::atomic<bool> wantDrain_{false};
  std::atomic<bool> reading_{false};  // the thread is in (or entering) ReadFile
};

MailslotReader::MailslotReader(const Napi::CallbackInfo& info) : ThreadedObject(info) {
  Napi::Env env = info.Env();
  ObjectName name = ObjectNameArg(info, 0, "name", L"\\\\.\\mailslot\\", kMaxNameLength, true);
  maxMessageSize_ = static_cast<size_t>(IntegerArg(info, 1, "maxMessageSize", 1, kMaxMessageSizeLimit));
  Napi::Function onMessage = FunctionArg(info, 2, "onMessage");
  Napi::Function onError = OptionalFunctionArg(info, 3, "onError");
  widePath_ = name.path;
  path_ = name.utf8;
  DefinePath(info, path_);

  // A constructor that throws never runs the destructor: everything below
  // cleans up after itself (the thread starts last).
  drained_ = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  if (drained_ == nullptr) ThrowWinError(env, GetLastError(), "CreateEventW");
  OwnerOnlySecurity security;
  const char* syscall = nullptr;
  DWORD error = security.Build(&syscall);
  if (error == 0) {
    // A larger write should fail on Windows; Wine accepts it and the thread
    // drops it (see Run).
    slot_ =
        CreateMailslotW(widePath_.c_str(), static_cast<DWORD>(maxMessageSize_), kReadTimeoutMs, security.Attributes());
    if (slot_ == INVALID_HANDLE_VALUE) {
      error = GetLastError();
      syscall = "CreateMailslotW";
    }
  }
  if (error != 0) {
    CloseHandle(drained_);
    drained_ = nullptr;
    const bool aboutTheName = std::string(syscall) == "CreateMailslotW";
    ThrowWinError(env, error, syscall, aboutTheName ? &path_ : nullptr);
  }
  // An open reader is not collected: like a listening server, it lives until
  // closed (or until its environment ends).
  Start(env, onMessage, onError, "procwire.MailslotReader", [this] {
    CloseHandles(false);
    CloseHandle(drained_);
    drained_ = nullptr;
  });
}

MailslotReader::~MailslotReader() {
  Shutdown(true);
  if (drained_ != nullptr) CloseHandle(drained_);
}

void MailslotReader::CloseHandles(bool) {
  if (slot_ != INVALID_HANDLE_VALUE) {
    CloseHandle(slot_);
    slot_ = INVALID_HANDLE_VALUE;
  }
}

Napi::Value MailslotReader::Security(const Napi::CallbackInfo& info) {
  if (slot_ == INVALID_HANDLE_VALUE) {
    ThrowInvalidState(info.Env(), "MailslotReader.securityDescriptor: the reader is closed");
  }
  std::string sddl;
  const char* syscall = nullptr;
  DWORD error = DescribeSecurity(slot_, &sddl, &syscall);
  if (error != 0) ThrowWinError(info.Env(), error, syscall, &path_);
  return Napi::String::New(info.Env(), sddl);
}

void MailslotReader::Wake() {
  if (!reading_.load()) return;
  // A waiting message ends the read by itself. And the slot must be empty
  // for the wake-up write not to block: under Wine a writer blocks while
  // the slot is full, and the thread, stopping, would never empty it.
  // (Asking while the thread reads is fine for an asynchronous handle, which
  // CreateMailslotW gives; a synchronous one would make this wait for the
  // read, at most kReadTimeoutMs.)
  DWORD next = 0;
  if (!GetMailslotInfo(slot_, nullptr, &next, nullptr, nullptr) || next != MAILSLOT_NO_MESSAGE) return;
  HANDLE self = CreateFileW(widePath_.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                            OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (self == INVALID_HANDLE_VALUE) return;  // the read timeout ends it instead
  // One byte: Wine turns an empty message into ERROR_BROKEN_PIPE.
  const char wake = 0;
  DWORD written = 0;
  WriteFile(self, &wake, 1, &written, nullptr);
  CloseHandle(self);
}

bool MailslotReader::WaitForRoom() {
  HANDLE waits[] = {drained_, StopEvent()};
  while (Full()) {
    wantDrain_.store(true);
    // JavaScript may have taken them between the test and the flag.
    if (!Full()) break;
    if (WaitForMultipleObjects(2, waits, FALSE, INFINITE) != WAIT_OBJECT_0) return false;
  }
  return !Stopping();
}

void MailslotReader::DropOversized() {
  DWORD next = 0;
  if (!GetMailslotInfo(slot_, nullptr, &next, nullptr, nullptr) || next == MAILSLOT_NO_MESSAGE) return;
  std::vector<uint8_t> scratch(next);
  DWORD bytes = 0;
  ReadFile(slot_, scratch.data(), next, &bytes, nullptr);
}

void MailslotReader::Run() {
  // One byte more than the largest message: a longer read means a message
  // too large, which Wine (which neither enforces the maximum nor reports a
  // short buffer) has already cut.
  std::vector<uint8_t> buffer(maxMessageSize_ + 1);
  while (WaitForRoom()) {
    DWORD bytes = 0;
    DWORD error = 0;
    reading_.store(true);
    // Set before the test, so Wake() either sees reading_ or we see the event.
    if (Stopping()) break;
    if (!ReadFile(slot_, buffer.data(), static_cast<DWORD>(buffer.size()), &bytes, nullptr)) error = GetLastError();
    reading_.store(false);
    if (Stopping()) break;
    switch (error) {
      case 0: break;
      case ERROR_SEM_TIMEOUT: continue;
      case ERROR_BROKEN_PIPE:
        // Wine's report of an empty message (Windows reads it as 0 bytes).
        bytes = 0;
        break;
      case ERROR_INSUFFICIENT_BUFFER:
        // Windows keeps a message longer than the buffer queued: drop it.
        DropOversized();
        continue;
      default: Post(Failure(error)); return;
    }
    if (bytes > maxMessageSize_) continue;
    auto* message = new Message();
    message->bytes.assign(buffer.data(), buffer.data() + bytes);
    inFlight_.fetch_add(1);
    inFlightBytes_.fetch_add(bytes);
    if (!Post(message)) return;
  }
  reading_.store(false);
}

void MailslotReader::Deliver(napi_env env, napi_value callback, Delivery& delivery) {
  auto& message = static_cast<Message&>(delivery);
  // The reader cannot go on: close it, then report as an 'error' event would.
  if (message.error != 0) return Fail(env, WinError(env, message.error, "ReadFile", &path_));
  const size_t left = inFlight_.fetch_sub(1) - 1;
  const size_t leftBytes = inFlightBytes_.fetch_sub(message.bytes.size()) - message.bytes.size();
  if (left <= kMaxInFlight / 2 && leftBytes <= kMaxInFlightBytes / 2 && wantDrain_.exchange(false)) {
    SetEvent(drained_);
  }
  if (!Running()) return;  // closed by an earlier callback of this batch
  Call(env, callback, Napi::Buffer<uint8_t>::Copy(env, message.bytes.data(), message.bytes.size()));
}

}  // namespace

void InitMailslotReader(Napi::Env env, Napi::Object exports) {
  exports.Set("MailslotReader", MailslotReader::DefineClass(env));
}

}  // namespace procwire
