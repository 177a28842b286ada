// ShmChannel for Windows: one end of a connection's pair of shared-memory
// rings (src/common/ring.h, the same ring code as the POSIX build) in a named
// file mapping, `Local\procwire-shm-<name>`, with two named auto-reset events
// as the bells: `<mapping>-s` wakes the server (side 0), `<mapping>-c` the
// client (side 1). The side that creates them gives all three the owner-only
// security descriptor (security.h); the other side opens them by name.
//
// The methods are the POSIX build's, written once in src/common/shmChannel.h;
// this file has only the segment: the constructor's arguments (names instead
// of descriptors), the mapping and the events, and what ringing, silencing,
// yielding, the clock and a ring error are on Win32.
#include "win32.h"

#include <cstdint>
#include <string>
#include <utility>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "ring.h"
#include "security.h"
#include "shmChannel.h"

namespace procwire {

namespace {

// The mapping's name under Local\ is at most MAX_PATH long on the object
// manager's side; keep the user's part well below.
constexpr size_t kMaxNameLength = 200;
const wchar_t kPrefix[] = L"Local\\procwire-shm-";

void CloseIf(HANDLE* handle) {
  if (*handle != nullptr) CloseHandle(*handle);
  *handle = nullptr;
}

// The Windows side of ShmChannel (src/common/shmChannel.h).
class WinSegment {
 public:
  static constexpr bool kDescribesSecurity = true;

  // new ShmChannel(name, side, capacity, maxFrameBytes, create)
  explicit WinSegment(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ObjectName name = ObjectNameArg(info, 0, "name", kPrefix, kMaxNameLength, false);
    shape_ = RingShapeArgs(info);
    if (!info[4].IsBoolean()) {
      ThrowWithCode(Napi::TypeError::New(env, "The \"create\" argument must be of type boolean"),
                    "ERR_INVALID_ARG_TYPE");
    }
    const bool create = info[4].As<Napi::Boolean>().Value();
    CheckCapacity(env, shape_);
    path_ = name.utf8;
    DefinePath(info, path_);
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
    ownBell_ = shape_.side == 0 ? serverBell_ : clientBell_;
    peerBell_ = shape_.side == 0 ? clientBell_ : serverBell_;
  }

  WinSegment(const WinSegment&) = delete;
  WinSegment& operator=(const WinSegment&) = delete;
  ~WinSegment() { Release(); }

  const RingShape& shape() const { return shape_; }
  uint8_t* base() const { return base_; }

  void Release() {
    if (base_ != nullptr) UnmapViewOfFile(base_);
    base_ = nullptr;
    CloseIf(&mapping_);
    CloseIf(&serverBell_);
    CloseIf(&clientBell_);
    ownBell_ = peerBell_ = nullptr;
  }

  void RingPeer() { SetEvent(peerBell_); }

  // Resets this side's event, so a ring that arrived after the BellWatcher's
  // wait is not seen again.
  void SilenceOwnBell() { ResetEvent(ownBell_); }

  static void Relax() { YieldProcessor(); }
  static void YieldCpu() { SwitchToThread(); }

  static uint64_t NowNs() {
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

  // What the peer wrote cannot be right: ERROR_INVALID_DATA, with code
  // EMSGSIZE for a record above the frame limit (the POSIX build throws
  // EPROTO/EMSGSIZE).
  [[noreturn]] static void ThrowRingError(Napi::Env env, int64_t status, const char* syscall) {
    ThrowWinError(env, ERROR_INVALID_DATA, syscall, nullptr, status == ring::kTooLarge ? "EMSGSIZE" : nullptr);
  }

  // securityDescriptors() -> { mapping, serverBell, clientBell } as SDDL.
  Napi::Value Describe(Napi::Env env) {
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

 private:
  // A new mapping (zero-filled by Windows) and both events, owner-only. A
  // name already in use is EEXIST: nothing someone else prepared is taken.
  void Create(Napi::Env env, const std::wstring& mapping, const std::wstring& server, const std::wstring& client) {
    OwnerOnlySecurity security;
    const char* syscall = nullptr;
    DWORD error = security.Build(&syscall);
    if (error != 0) ThrowWinError(env, error, syscall);
    const uint64_t size = shape_.SegmentBytes();
    mapping_ =
        CreateFileMappingW(INVALID_HANDLE_VALUE, security.Attributes(), PAGE_READWRITE, static_cast<DWORD>(size >> 32),
                           static_cast<DWORD>(size & 0xffffffffu), mapping.c_str());
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
    if (region.RegionSize < shape_.SegmentBytes()) ThrowWinError(env, ERROR_INVALID_PARAMETER, "MapViewOfFile", &path_);
  }

  RingShape shape_{};
  std::string path_;
  uint8_t* base_ = nullptr;
  HANDLE mapping_ = nullptr;
  HANDLE serverBell_ = nullptr;
  HANDLE clientBell_ = nullptr;
  HANDLE ownBell_ = nullptr;
  HANDLE peerBell_ = nullptr;
};

}  // namespace

void InitShmChannel(Napi::Env env, Napi::Object exports) {
  exports.Set("ShmChannel", ShmChannel<WinSegment>::DefineClass(env));
}

}  // namespace procwire
