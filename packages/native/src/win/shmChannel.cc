// ShmChannel for Windows: one end of a connection's pair of shared-memory
// rings (src/common/ring.h, the same ring code as the POSIX build) in a named
// file mapping, `Local\procwire-shm-<name>`, with two named auto-reset events
// as the bells: `<mapping>-s` wakes the server (side 0), `<mapping>-c` the
// client (side 1). The side that creates them gives all three the owner-only
// security descriptor (security.h); the other side opens them by name.
//
// The JavaScript API is the POSIX ShmChannel's (src/posix/shm.cc), method for
// method; only the constructor differs (names instead of descriptors). The
// method bodies are a copy of the POSIX ones adapted to Win32 (errors,
// SetEvent instead of an eventfd write, SwitchToThread, QPC): moving them to
// src/common would need a platform policy for bells and errors (see README).
#include "win32.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "ring.h"
#include "security.h"

namespace procwire {

namespace {

// The mapping's name under Local\ is at most MAX_PATH long on the object
// manager's side; keep the user's part well below.
constexpr size_t kMaxNameLength = 200;
constexpr uint32_t kMaxParts = 256;
const wchar_t kPrefix[] = L"Local\\procwire-shm-";

// What the peer wrote cannot be right: ERROR_INVALID_DATA, with code EMSGSIZE
// for a record above the frame limit (the POSIX build throws EPROTO/EMSGSIZE).
[[noreturn]] void ThrowRingError(Napi::Env env, int64_t status, const char* what) {
  ThrowWinError(env, ERROR_INVALID_DATA, what, nullptr, status == ring::kTooLarge ? "EMSGSIZE" : nullptr);
}

uint32_t SpansArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t start, ring::Span* spans,
                  uint32_t* total) {
  Napi::Env env = info.Env();
  Napi::Value value = info[index];
  const std::string refused = std::string("The \"") + name + "\" argument must be an array of Uint8Array";
  auto typeError = [&] { ThrowWithCode(Napi::TypeError::New(env, refused), "ERR_INVALID_ARG_TYPE"); };
  if (!value.IsArray()) typeError();
  Napi::Array array = value.As<Napi::Array>();
  *total = array.Length();
  const uint32_t count = static_cast<uint32_t>(std::min<int64_t>(std::max<int64_t>(*total - start, 0), kMaxParts));
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value item = array.Get(static_cast<uint32_t>(start) + i);
    if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) typeError();
    Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
    spans[i] = ring::Span{bytes.Data(), static_cast<uint32_t>(bytes.ByteLength())};
  }
  return count;
}

uint64_t NowNs() {
  static const uint64_t frequency = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return static_cast<uint64_t>(f.QuadPart);
  }();
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  const uint64_t ticks = static_cast<uint64_t>(now.QuadPart);
  return ticks / frequency * 1000000000u + ticks % frequency * 1000000000u / frequency;
}

void CloseIf(HANDLE* handle) {
  if (*handle != nullptr) CloseHandle(*handle);
  *handle = nullptr;
}

class ShmChannel : public Napi::ObjectWrap<ShmChannel> {
 public:
  static Napi::Function DefineClass(Napi::Env env) {
    return ObjectWrap<ShmChannel>::DefineClass(env, "ShmChannel",
                                               {
                                                   InstanceMethod<&ShmChannel::Write>("write"),
                                                   InstanceMethod<&ShmChannel::WriteParts>("writeParts"),
                                                   InstanceMethod<&ShmChannel::WriteFrames>("writeFrames"),
                                                   InstanceMethod<&ShmChannel::ReadWhole>("readWhole"),
                                                   InstanceMethod<&ShmChannel::NextLength>("nextLength"),
                                                   InstanceMethod<&ShmChannel::ReadPiece>("readPiece"),
                                                   InstanceMethod<&ShmChannel::HasInput>("hasInput"),
                                                   InstanceMethod<&ShmChannel::Room>("room"),
                                                   InstanceMethod<&ShmChannel::Sleep>("sleep"),
                                                   InstanceMethod<&ShmChannel::Awake>("awake"),
                                                   InstanceMethod<&ShmChannel::Spin>("spin"),
                                                   InstanceMethod<&ShmChannel::Close>("close"),
                                                   InstanceMethod<&ShmChannel::Security>("securityDescriptors"),
                                               });
  }

  // new ShmChannel(name, side, capacity, maxFrameBytes, create)
  explicit ShmChannel(const Napi::CallbackInfo& info) : ObjectWrap<ShmChannel>(info) {
    Napi::Env env = info.Env();
    ObjectName name = ObjectNameArg(info, 0, "name", kPrefix, kMaxNameLength, false);
    const int side = static_cast<int>(IntegerArg(info, 1, "side", 0, 1));
    const int64_t capacity = IntegerArg(info, 2, "capacity", ring::kMinCapacity, ring::kMaxCapacity);
    const int64_t maxFrame = IntegerArg(info, 3, "maxFrameBytes", 1, UINT32_MAX - ring::kRecordHeaderBytes);
    if (!info[4].IsBoolean()) {
      ThrowWithCode(Napi::TypeError::New(env, "The \"create\" argument must be of type boolean"), "ERR_INVALID_ARG_TYPE");
    }
    const bool create = info[4].As<Napi::Boolean>().Value();
    if (!ring::ValidCapacity(static_cast<size_t>(capacity))) {
      ThrowWithCode(Napi::RangeError::New(env, "The value of \"capacity\" must be a power of two"), "ERR_OUT_OF_RANGE");
    }
    path_ = name.utf8;
    info.This().As<Napi::Object>().DefineProperty(
        Napi::PropertyDescriptor::Value("path", Napi::String::New(env, path_), napi_enumerable));
    const size_t ringBytes = ring::RingBytes(static_cast<size_t>(capacity));
    length_ = 2 * ringBytes;
    const std::wstring serverName = name.path + L"-s";
    const std::wstring clientName = name.path + L"-c";
    try {
      if (create) {
        Create(env, name.path, serverName, clientName);
      } else {
        Open(env, name.path, serverName, clientName);
      }
    } catch (...) {
      Release();
      throw;
    }
    ownBell_ = side == 0 ? serverBell_ : clientBell_;
    peerBell_ = side == 0 ? clientBell_ : serverBell_;
    // Ring 0 carries client -> server, ring 1 server -> client.
    uint8_t* inbound = base_ + (side == 0 ? 0 : ringBytes);
    uint8_t* outbound = base_ + (side == 0 ? ringBytes : 0);
    const uint32_t cap = static_cast<uint32_t>(capacity);
    reader_ = new ring::Reader(inbound, cap, static_cast<uint32_t>(maxFrame));
    writer_ = new ring::Writer(outbound, cap);
  }

  ~ShmChannel() override { Release(); }

 private:
  // A new mapping (zero-filled by Windows) and both events, owner-only. A
  // name already in use is EEXIST: nothing someone else prepared is taken.
  void Create(Napi::Env env, const std::wstring& mapping, const std::wstring& server, const std::wstring& client) {
    OwnerOnlySecurity security;
    const char* syscall = nullptr;
    DWORD error = security.Build(&syscall);
    if (error != 0) ThrowWinError(env, error, syscall);
    const uint64_t size = length_;
    mapping_ = CreateFileMappingW(INVALID_HANDLE_VALUE, security.Attributes(), PAGE_READWRITE,
                                  static_cast<DWORD>(size >> 32), static_cast<DWORD>(size & 0xffffffffu), mapping.c_str());
    error = GetLastError();
    if (mapping_ == nullptr || error == ERROR_ALREADY_EXISTS) {
      ThrowWinError(env, mapping_ == nullptr ? error : ERROR_ALREADY_EXISTS, "CreateFileMappingW", &path_);
    }
    serverBell_ = CreateBell(env, security, server);
    clientBell_ = CreateBell(env, security, client);
    Map(env);
  }

  HANDLE CreateBell(Napi::Env env, OwnerOnlySecurity& security, const std::wstring& name) {
    HANDLE event = CreateEventW(security.Attributes(), FALSE, FALSE, name.c_str());
    const DWORD error = GetLastError();
    if (event == nullptr || error == ERROR_ALREADY_EXISTS) {
      if (event != nullptr) CloseHandle(event);
      const std::string path = path_ + (name.back() == L's' ? "-s" : "-c");
      ThrowWinError(env, event == nullptr ? error : ERROR_ALREADY_EXISTS, "CreateEventW", &path);
    }
    return event;
  }

  void Open(Napi::Env env, const std::wstring& mapping, const std::wstring& server, const std::wstring& client) {
    mapping_ = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE | READ_CONTROL, FALSE, mapping.c_str());
    if (mapping_ == nullptr) ThrowWinError(env, GetLastError(), "OpenFileMappingW", &path_);
    serverBell_ = OpenBell(env, server, "-s");
    clientBell_ = OpenBell(env, client, "-c");
    Map(env);
  }

  HANDLE OpenBell(Napi::Env env, const std::wstring& name, const char* suffix) {
    HANDLE event = OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE | READ_CONTROL, FALSE, name.c_str());
    if (event == nullptr) {
      const std::string path = path_ + suffix;
      ThrowWinError(env, GetLastError(), "OpenEventW", &path);
    }
    return event;
  }

  // Maps the whole mapping and checks that it holds both rings: one made
  // smaller (by another creator of the name) would end inside them.
  void Map(Napi::Env env) {
    void* view = MapViewOfFile(mapping_, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (view == nullptr) ThrowWinError(env, GetLastError(), "MapViewOfFile", &path_);
    base_ = static_cast<uint8_t*>(view);
    MEMORY_BASIC_INFORMATION region;
    if (VirtualQuery(view, &region, sizeof region) == 0) ThrowWinError(env, GetLastError(), "VirtualQuery", &path_);
    if (region.RegionSize < length_) ThrowWinError(env, ERROR_INVALID_PARAMETER, "MapViewOfFile", &path_);
  }

  void Release() {
    delete reader_;
    delete writer_;
    reader_ = nullptr;
    writer_ = nullptr;
    if (base_ != nullptr) UnmapViewOfFile(base_);
    base_ = nullptr;
    CloseIf(&mapping_);
    CloseIf(&serverBell_);
    CloseIf(&clientBell_);
    ownBell_ = peerBell_ = nullptr;
  }

  void CheckOpen(Napi::Env env) const {
    if (reader_ == nullptr) ThrowInvalidState(env, "ShmChannel: the channel is closed");
  }

  void RingPeer() { SetEvent(peerBell_); }

  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView frame = BytesArg(info, 0, "frame");
    const int64_t offset = IntegerArg(info, 1, "offset", 0, UINT32_MAX);
    CheckOpen(env);
    if (frame.length == 0 || frame.length > UINT32_MAX - ring::kRecordHeaderBytes ||
        offset >= static_cast<int64_t>(frame.length)) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.write: empty frame or offset past its end"), "ERR_OUT_OF_RANGE");
    }
    const int64_t result = writer_->Write(frame.data, static_cast<uint32_t>(frame.length), static_cast<uint32_t>(offset));
    if (result < 0) ThrowRingError(env, result, "shm_write");
    if (result != offset && writer_->TakeWakeRequest()) RingPeer();
    return Napi::Number::New(env, static_cast<double>(result));
  }

  Napi::Value WriteParts(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t offset = IntegerArg(info, 1, "offset", 0, UINT32_MAX);
    ring::Span spans[kMaxParts];
    uint32_t total = 0;
    const uint32_t count = SpansArg(info, 0, "parts", 0, spans, &total);
    CheckOpen(env);
    if (total > kMaxParts) ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeParts: too many parts"), "ERR_OUT_OF_RANGE");
    uint64_t length = 0;
    for (uint32_t i = 0; i < count; i++) length += spans[i].length;
    if (length == 0 || length > UINT32_MAX - ring::kRecordHeaderBytes || offset >= static_cast<int64_t>(length)) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeParts: empty frame or offset past its end"),
                    "ERR_OUT_OF_RANGE");
    }
    const int64_t result =
        writer_->WriteGathered(spans, count, static_cast<uint32_t>(length), static_cast<uint32_t>(offset));
    if (result < 0) ThrowRingError(env, result, "shm_write");
    if (result != offset && writer_->TakeWakeRequest()) RingPeer();
    return Napi::Number::New(env, static_cast<double>(result));
  }

  Napi::Value WriteFrames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t start = IntegerArg(info, 1, "start", 0, UINT32_MAX);
    ring::Span spans[kMaxParts];
    uint32_t total = 0;
    const uint32_t count = SpansArg(info, 0, "frames", start, spans, &total);
    CheckOpen(env);
    if (start > total) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeFrames: start past the end of frames"), "ERR_OUT_OF_RANGE");
    }
    for (uint32_t i = 0; i < count; i++) {
      if (spans[i].length == 0 || uint64_t{spans[i].length} + ring::kRecordHeaderBytes > writer_->capacity()) {
        ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeFrames: a frame is empty or larger than the ring"),
                      "ERR_OUT_OF_RANGE");
      }
    }
    const int64_t written = writer_->WriteWhole(spans, count);
    if (written < 0) ThrowRingError(env, written, "shm_write");
    if (written > 0 && writer_->TakeWakeRequest()) RingPeer();
    return Napi::Number::New(env, static_cast<double>(written));
  }

  Napi::Value ReadWhole(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView out = BytesArg(info, 0, "out");
    const int64_t outOffset = IntegerArg(info, 1, "outOffset", 0, UINT32_MAX);
    Napi::Value endsValue = info[2];
    if (!endsValue.IsTypedArray() || endsValue.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      ThrowWithCode(Napi::TypeError::New(env, "The \"ends\" argument must be an instance of Uint32Array"),
                    "ERR_INVALID_ARG_TYPE");
    }
    Napi::Uint32Array ends = endsValue.As<Napi::Uint32Array>();
    CheckOpen(env);
    if (outOffset > static_cast<int64_t>(out.length) || out.length > UINT32_MAX) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.readWhole: outOffset past the end of out"), "ERR_OUT_OF_RANGE");
    }
    uint32_t* endsData = ends.Data();
    const size_t maxEnds = ends.ElementLength();
    const int64_t count = reader_->ReadWhole(out.data + outOffset, static_cast<uint32_t>(out.length - outOffset),
                                             endsData, static_cast<uint32_t>(std::min<size_t>(maxEnds, UINT32_MAX)));
    if (count < 0) ThrowRingError(env, count, "shm_read");
    for (int64_t i = 0; i < count; i++) endsData[i] += static_cast<uint32_t>(outOffset);
    if (count > 0 && reader_->TakeWakeRequest()) RingPeer();
    return Napi::Number::New(env, static_cast<double>(count));
  }

  Napi::Value NextLength(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    const int64_t length = reader_->NextLength();
    if (length < 0 && length != ring::kNotYet) ThrowRingError(env, length, "shm_read");
    return Napi::Number::New(env, static_cast<double>(length));
  }

  Napi::Value ReadPiece(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView out = BytesArg(info, 0, "out");
    const int64_t offset = IntegerArg(info, 1, "offset", 0, UINT32_MAX);
    CheckOpen(env);
    if (out.length == 0 || out.length > UINT32_MAX || offset > static_cast<int64_t>(out.length)) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.readPiece: offset past the end of out"), "ERR_OUT_OF_RANGE");
    }
    const int64_t result = reader_->ReadPiece(out.data, static_cast<uint32_t>(out.length), static_cast<uint32_t>(offset));
    if (result < 0) ThrowRingError(env, result, "shm_read");
    if (result != offset && reader_->TakeWakeRequest()) RingPeer();
    return Napi::Number::New(env, static_cast<double>(result));
  }

  Napi::Value HasInput(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    return Napi::Boolean::New(info.Env(), reader_->HasInput());
  }

  Napi::Value Room(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    const int64_t room = writer_->Room();
    if (room < 0) ThrowRingError(env, room, "shm_write");
    return Napi::Number::New(env, static_cast<double>(room));
  }

  Napi::Value Sleep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t wantRoom = IntegerArg(info, 0, "wantRoom", 0, UINT32_MAX);
    CheckOpen(env);
    bool sleep = reader_->RequestWakeOnData();
    if (sleep && wantRoom > 0) sleep = writer_->RequestWakeWhenRoom(static_cast<uint32_t>(wantRoom));
    if (!sleep) {
      reader_->CancelWakeRequest();
      writer_->CancelWakeRequest();
    }
    return Napi::Boolean::New(env, sleep);
  }

  // awake(silenceBell): with silenceBell, resets this side's event, so a ring
  // that arrived after the BellWatcher's wait is not seen again.
  void Awake(const Napi::CallbackInfo& info) {
    Napi::Value silence = info[0];
    if (!silence.IsBoolean()) {
      ThrowWithCode(Napi::TypeError::New(info.Env(), "The \"silenceBell\" argument must be of type boolean"),
                    "ERR_INVALID_ARG_TYPE");
    }
    CheckOpen(info.Env());
    reader_->CancelWakeRequest();
    writer_->CancelWakeRequest();
    if (silence.As<Napi::Boolean>().Value()) ResetEvent(ownBell_);
  }

  Napi::Value Spin(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t maxMicros = IntegerArg(info, 0, "maxMicros", 0, 1000000);
    const int64_t wantRoom = IntegerArg(info, 1, "wantRoom", 0, UINT32_MAX);
    const bool yield = info[2].ToBoolean().Value();
    CheckOpen(env);
    const uint64_t deadline = NowNs() + static_cast<uint64_t>(maxMicros) * 1000u;
    for (;;) {
      for (int i = 0; i < 64; i++) {
        if (reader_->HasInput()) return Napi::Boolean::New(env, true);
        if (wantRoom > 0 && writer_->Room() >= wantRoom) return Napi::Boolean::New(env, true);
        YieldProcessor();
      }
      if (yield) SwitchToThread();
      if (NowNs() >= deadline) return Napi::Boolean::New(env, false);
    }
  }

  void Close(const Napi::CallbackInfo&) { Release(); }

  // securityDescriptors() -> { mapping, serverBell, clientBell } as SDDL.
  Napi::Value Security(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    Napi::Object result = Napi::Object::New(env);
    const std::pair<const char*, HANDLE> objects[] = {
        {"mapping", mapping_}, {"serverBell", serverBell_}, {"clientBell", clientBell_}};
    for (const auto& [key, handle] : objects) {
      std::string sddl;
      const char* syscall = nullptr;
      const DWORD error = DescribeSecurity(handle, &sddl, &syscall);
      if (error != 0) ThrowWinError(env, error, syscall, &path_);
      result.Set(key, Napi::String::New(env, sddl));
    }
    return result;
  }

  std::string path_;
  size_t length_ = 0;
  uint8_t* base_ = nullptr;
  HANDLE mapping_ = nullptr;
  HANDLE serverBell_ = nullptr;
  HANDLE clientBell_ = nullptr;
  HANDLE ownBell_ = nullptr;
  HANDLE peerBell_ = nullptr;
  ring::Reader* reader_ = nullptr;
  ring::Writer* writer_ = nullptr;
};

}  // namespace

void InitShmChannel(Napi::Env env, Napi::Object exports) {
  exports.Set("ShmChannel", ShmChannel::DefineClass(env));
}

}  // namespace procwire
