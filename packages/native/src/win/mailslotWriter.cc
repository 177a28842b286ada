// MailslotWriter: a client of a mailslot (\\.\mailslot\<name>) that some
// reader created, possibly in another process. Each write() is one message.
// WriteFile is synchronous here: on Windows it never waits (the message is
// queued in the mailslot), under Wine it waits while the mailslot is full.
#include "win32.h"

#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"

namespace procwire {

namespace {

constexpr size_t kMaxNameLength = 240;

class MailslotWriter : public Napi::ObjectWrap<MailslotWriter> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap<MailslotWriter>::DefineClass(env, "MailslotWriter",
                                                   {
                                                       InstanceMethod<&MailslotWriter::Write>("write"),
                                                       InstanceMethod<&MailslotWriter::Close>("close"),
                                                   });
  }

  explicit MailslotWriter(const Napi::CallbackInfo& info) : ObjectWrap<MailslotWriter>(info) {
    Napi::Env env = info.Env();
    ObjectName name = ObjectNameArg(info, 0, "name", L"\\\\.\\mailslot\\", kMaxNameLength, true);
    path_ = name.utf8;
    // FILE_SHARE_READ because the reader holds the slot open for reading (as
    // Windows' documentation asks), FILE_SHARE_WRITE for the other writers:
    // Wine refuses a second writer without it (ERROR_SHARING_VIOLATION).
    slot_ = CreateFileW(name.path.c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                        FILE_ATTRIBUTE_NORMAL, nullptr);
    if (slot_ == INVALID_HANDLE_VALUE) ThrowWinError(env, GetLastError(), "CreateFileW", &path_);
    DefinePath(info, path_);
  }

  ~MailslotWriter() override { Release(); }

 private:
  void Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView bytes = BytesArg(info, 0, "data");
    if (slot_ == INVALID_HANDLE_VALUE) ThrowInvalidState(env, "MailslotWriter.write: the writer is closed");
    if (bytes.length > MAXDWORD) ThrowWinError(env, ERROR_INVALID_PARAMETER, "WriteFile", &path_, "EMSGSIZE");
    // One WriteFile is one message, written whole or refused: no partial writes.
    DWORD written = 0;
    if (!WriteFile(slot_, bytes.data, static_cast<DWORD>(bytes.length), &written, nullptr)) {
      ThrowWinError(env, GetLastError(), "WriteFile", &path_);
    }
  }

  void Close(const Napi::CallbackInfo&) { Release(); }

  void Release() {
    if (slot_ == INVALID_HANDLE_VALUE) return;
    CloseHandle(slot_);
    slot_ = INVALID_HANDLE_VALUE;
  }

  HANDLE slot_ = INVALID_HANDLE_VALUE;
  std::string path_;
};

}  // namespace

void InitMailslotWriter(Napi::Env env, Napi::Object exports) {
  exports.Set("MailslotWriter", MailslotWriter::DefineClass(env));
}

}  // namespace procwire
