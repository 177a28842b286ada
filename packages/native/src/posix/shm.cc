// Shared memory for the shm: transport: sealed memfd segments, eventfd
// doorbells, and ShmChannel, one end of a connection's pair of rings
// (src/common/ring.h). All mechanism: who creates, how the pieces meet and
// when to sleep is decided in TypeScript.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <algorithm>
#include <cstdint>
#include <string>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "retry.h"
#include "ring.h"

namespace procwire {

namespace {

#if defined(__linux__) && defined(F_ADD_SEALS)
constexpr bool kHaveSegments = true;
// Seals that make the size final: nobody (not even the creator) can shrink
// the segment under a peer that has it mapped (which would kill the peer
// with SIGBUS), grow it, or remove the seals.
constexpr int kSizeSeals = F_SEAL_SHRINK | F_SEAL_GROW;
#else
constexpr bool kHaveSegments = false;
#endif

// createSegment(bytes) -> fd of an anonymous, zero-filled, sealed segment.
Napi::Value CreateSegment(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t bytes = IntegerArg(info, 0, "bytes", 1, int64_t{1} << 40);
#if defined(__linux__) && defined(F_ADD_SEALS)
  int fd = memfd_create("procwire-shm", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) ThrowErrno(env, errno, "memfd_create");
  if (RetryOnEintr([&] { return ftruncate(fd, static_cast<off_t>(bytes)); }) != 0) {
    int error = errno;
    close(fd);
    ThrowErrno(env, error, "ftruncate");
  }
  if (fcntl(fd, F_ADD_SEALS, kSizeSeals | F_SEAL_SEAL) != 0) {
    int error = errno;
    close(fd);
    ThrowErrno(env, error, "fcntl");
  }
  return Napi::Number::New(env, fd);
#else
  (void)bytes;
  ThrowErrno(env, ENOSYS, "memfd_create");
#endif
}

// segmentInfo(fd) -> { size, sealed }: sealed is true when the size can no
// longer change (shrink and grow sealed), the condition for mapping a segment
// a peer handed over.
Napi::Value SegmentInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = DescriptorArg(info, 0, "fd");
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowErrno(env, errno, "fstat");
  bool sealed = false;
#if defined(__linux__) && defined(F_GET_SEALS)
  int seals = fcntl(fd, F_GET_SEALS);
  // EINVAL: not a memfd or shmem file, so not sealable: not sealed.
  if (seals < 0 && errno != EINVAL) ThrowErrno(env, errno, "fcntl");
  sealed = seals >= 0 && (seals & kSizeSeals) == kSizeSeals;
#endif
  Napi::Object result = Napi::Object::New(env);
  result.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  result.Set("sealed", Napi::Boolean::New(env, sealed));
  return result;
}

// createEventFd() -> fd: a non-blocking eventfd, a counter the kernel keeps
// and epoll can wait on: the doorbell a sleeping peer is woken with.
Napi::Value CreateEventFd(const Napi::CallbackInfo& info) {
#ifdef __linux__
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) ThrowErrno(info.Env(), errno, "eventfd");
  return Napi::Number::New(info.Env(), fd);
#else
  ThrowErrno(info.Env(), ENOSYS, "eventfd");
#endif
}

void RingBell(int fd) {
  const uint64_t one = 1;
  // EAGAIN (the counter is full) still leaves the bell ringing; any other
  // failure means the descriptor is gone, and the link is closing anyway.
  (void)RetryOnEintr([&] { return write(fd, &one, sizeof one); });
}

void SilenceBell(int fd) {
  uint64_t count;
  (void)RetryOnEintr([&] { return read(fd, &count, sizeof count); });
}

uint64_t NowNs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
}

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Parts one gathered frame may have (payloads plus the headers between them).
constexpr uint32_t kMaxParts = 256;

// The array argument `name` at `index`: Uint8Arrays from `start`, at most
// kMaxParts of them, as spans into `spans`. Returns how many; `total` gets
// the array's length.
uint32_t SpansArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t start, ring::Span* spans,
                  uint32_t* total) {
  Napi::Env env = info.Env();
  Napi::Value value = info[index];
  const std::string refused = std::string("The \"") + name + "\" argument must be an array of Uint8Array";
  auto typeError = [&] {
    Napi::TypeError error = Napi::TypeError::New(env, refused);
    error.Value().Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
    throw error;
  };
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
                                               });
  }

  // new ShmChannel(fd, side, capacity, maxFrameBytes, ownBellFd, peerBellFd)
  explicit ShmChannel(const Napi::CallbackInfo& info) : ObjectWrap<ShmChannel>(info) {
    Napi::Env env = info.Env();
    const int fd = DescriptorArg(info, 0, "fd");
    const int side = static_cast<int>(IntegerArg(info, 1, "side", 0, 1));
    const int64_t capacity = IntegerArg(info, 2, "capacity", ring::kMinCapacity, ring::kMaxCapacity);
    const int64_t maxFrame = IntegerArg(info, 3, "maxFrameBytes", 1, UINT32_MAX - ring::kRecordHeaderBytes);
    ownBell_ = DescriptorArg(info, 4, "ownBellFd");
    peerBell_ = DescriptorArg(info, 5, "peerBellFd");
    if (!ring::ValidCapacity(static_cast<size_t>(capacity))) {
      ThrowWithCode(Napi::RangeError::New(env, "The value of \"capacity\" must be a power of two"), "ERR_OUT_OF_RANGE");
    }
    if (!kHaveSegments) ThrowErrno(env, ENOSYS, "mmap");
    const size_t ringBytes = ring::RingBytes(static_cast<size_t>(capacity));
    length_ = 2 * ringBytes;
    struct stat st;
    if (fstat(fd, &st) != 0) ThrowErrno(env, errno, "fstat");
    // A segment of another size was not made for these rings: mapping it
    // could reach past its end (SIGBUS).
    if (static_cast<uint64_t>(st.st_size) != length_) ThrowErrno(env, EINVAL, "mmap");
    void* base = mmap(nullptr, length_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) ThrowErrno(env, errno, "mmap");
    base_ = static_cast<uint8_t*>(base);
    // Ring 0 carries client -> server, ring 1 server -> client.
    uint8_t* inbound = base_ + (side == 0 ? 0 : ringBytes);
    uint8_t* outbound = base_ + (side == 0 ? ringBytes : 0);
    const uint32_t cap = static_cast<uint32_t>(capacity);
    reader_ = new ring::Reader(inbound, cap, static_cast<uint32_t>(maxFrame));
    writer_ = new ring::Writer(outbound, cap);
  }

  ~ShmChannel() override { Unmap(); }

 private:
  void CheckOpen(Napi::Env env) const {
    if (base_ == nullptr) ThrowInvalidState(env, "ShmChannel: the channel is closed");
  }

  // What the peer wrote cannot be right: EPROTO (bad cursor or length) or
  // EMSGSIZE (a record above the frame limit).
  [[noreturn]] static void ThrowRingError(Napi::Env env, int64_t status, const char* what) {
    ThrowErrno(env, status == ring::kTooLarge ? EMSGSIZE : EPROTO, what);
  }

  // write(frame, offset) -> new offset
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView frame = BytesArg(info, 0, "frame");
    const int64_t offset = IntegerArg(info, 1, "offset", 0, UINT32_MAX);
    CheckOpen(env);
    if (frame.length == 0 || frame.length > UINT32_MAX - ring::kRecordHeaderBytes || offset >= static_cast<int64_t>(frame.length)) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.write: empty frame or offset past its end"), "ERR_OUT_OF_RANGE");
    }
    const int64_t result = writer_->Write(frame.data, static_cast<uint32_t>(frame.length), static_cast<uint32_t>(offset));
    if (result < 0) ThrowRingError(env, result, "shm_write");
    if (result != offset && writer_->TakeWakeRequest()) RingBell(peerBell_);
    return Napi::Number::New(env, static_cast<double>(result));
  }

  // writeParts(parts, offset) -> new offset: one frame given as the
  // concatenation of `parts` (Uint8Arrays), so large payloads are copied
  // into the ring straight from where they are.
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
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeParts: empty frame or offset past its end"), "ERR_OUT_OF_RANGE");
    }
    const int64_t result = writer_->WriteGathered(spans, count, static_cast<uint32_t>(length), static_cast<uint32_t>(offset));
    if (result < 0) ThrowRingError(env, result, "shm_write");
    if (result != offset && writer_->TakeWakeRequest()) RingBell(peerBell_);
    return Napi::Number::New(env, static_cast<double>(result));
  }

  // writeFrames(frames, start) -> how many of frames[start..] went into the
  // ring as whole records (published together).
  Napi::Value WriteFrames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t start = IntegerArg(info, 1, "start", 0, UINT32_MAX);
    ring::Span spans[kMaxParts];
    uint32_t total = 0;
    const uint32_t count = SpansArg(info, 0, "frames", start, spans, &total);
    CheckOpen(env);
    if (start > total) ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeFrames: start past the end of frames"), "ERR_OUT_OF_RANGE");
    for (uint32_t i = 0; i < count; i++) {
      if (spans[i].length == 0 || uint64_t{spans[i].length} + ring::kRecordHeaderBytes > writer_->capacity()) {
        ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeFrames: a frame is empty or larger than the ring"), "ERR_OUT_OF_RANGE");
      }
    }
    const int64_t written = writer_->WriteWhole(spans, count);
    if (written < 0) ThrowRingError(env, written, "shm_write");
    if (written > 0 && writer_->TakeWakeRequest()) RingBell(peerBell_);
    return Napi::Number::New(env, static_cast<double>(written));
  }

  // readWhole(out, outOffset, ends) -> frames copied; ends[i] are offsets in `out`.
  Napi::Value ReadWhole(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView out = BytesArg(info, 0, "out");
    const int64_t outOffset = IntegerArg(info, 1, "outOffset", 0, UINT32_MAX);
    Napi::Value endsValue = info[2];
    if (!endsValue.IsTypedArray() || endsValue.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
      ThrowWithCode(Napi::TypeError::New(env, "The \"ends\" argument must be an instance of Uint32Array"), "ERR_INVALID_ARG_TYPE");
    }
    Napi::Uint32Array ends = endsValue.As<Napi::Uint32Array>();
    CheckOpen(env);
    if (outOffset > static_cast<int64_t>(out.length) || out.length > UINT32_MAX) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.readWhole: outOffset past the end of out"), "ERR_OUT_OF_RANGE");
    }
    uint32_t* endsData = ends.Data();
    const size_t maxEnds = ends.ElementLength();
    const int64_t count = reader_->ReadWhole(out.data + outOffset, static_cast<uint32_t>(out.length - outOffset), endsData,
                                             static_cast<uint32_t>(maxEnds));
    if (count < 0) ThrowRingError(env, count, "shm_read");
    for (int64_t i = 0; i < count; i++) endsData[i] += static_cast<uint32_t>(outOffset);
    if (count > 0 && reader_->TakeWakeRequest()) RingBell(peerBell_);
    return Napi::Number::New(env, static_cast<double>(count));
  }

  // nextLength() -> the next record's length, or -3 when it has not arrived.
  Napi::Value NextLength(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    const int64_t length = reader_->NextLength();
    if (length < 0 && length != ring::kNotYet) ThrowRingError(env, length, "shm_read");
    return Napi::Number::New(env, static_cast<double>(length));
  }

  // readPiece(out, offset) -> new offset; `out` is exactly the record's length.
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
    if (result != offset && reader_->TakeWakeRequest()) RingBell(peerBell_);
    return Napi::Number::New(env, static_cast<double>(result));
  }

  Napi::Value HasInput(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    return Napi::Boolean::New(info.Env(), reader_->HasInput());
  }

  // room() -> free bytes in the outbound ring.
  Napi::Value Room(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    const int64_t room = writer_->Room();
    if (room < 0) ThrowRingError(env, room, "shm_write");
    return Napi::Number::New(env, static_cast<double>(room));
  }

  // sleep(wantRoom) -> true when this side may sleep until its bell rings:
  // the peer is asked to ring on new data (and, with wantRoom > 0, when that
  // much room is free), and nothing arrived meanwhile. False: go on working.
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

  // awake(silenceBell): this side looks at its rings now, so the peer need
  // not ring: withdraw the requests, and after the bell rang, quiet it
  // (one read of the eventfd; skipped when waking by choice, to spare a
  // system call).
  void Awake(const Napi::CallbackInfo& info) {
    Napi::Value silence = info[0];
    if (!silence.IsBoolean()) {
      Napi::TypeError error = Napi::TypeError::New(info.Env(), "The \"silenceBell\" argument must be of type boolean");
      error.Value().Set("code", Napi::String::New(info.Env(), "ERR_INVALID_ARG_TYPE"));
      throw error;
    }
    CheckOpen(info.Env());
    reader_->CancelWakeRequest();
    writer_->CancelWakeRequest();
    if (silence.As<Napi::Boolean>().Value()) SilenceBell(ownBell_);
  }

  // spin(maxMicros, wantRoom) -> true as soon as input (or that much room)
  // is there, false after maxMicros. Blocks the calling thread for at most
  // maxMicros: the caller bounds it.
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
        CpuRelax();
      }
      // On a single CPU the peer can only make progress if we give the CPU up.
      if (yield) sched_yield();
      if (NowNs() >= deadline) return Napi::Boolean::New(env, false);
    }
  }

  void Close(const Napi::CallbackInfo&) { Unmap(); }

  void Unmap() {
    if (base_ == nullptr) return;
    delete reader_;
    delete writer_;
    reader_ = nullptr;
    writer_ = nullptr;
    munmap(base_, length_);
    base_ = nullptr;
  }

  uint8_t* base_ = nullptr;
  size_t length_ = 0;
  ring::Reader* reader_ = nullptr;
  ring::Writer* writer_ = nullptr;
  int ownBell_ = -1;
  int peerBell_ = -1;
};

}  // namespace

void InitShm(Napi::Env env, Napi::Object exports) {
  exports.Set("createSegment", Napi::Function::New<CreateSegment>(env, "createSegment"));
  exports.Set("segmentInfo", Napi::Function::New<SegmentInfo>(env, "segmentInfo"));
  exports.Set("createEventFd", Napi::Function::New<CreateEventFd>(env, "createEventFd"));
  exports.Set("ShmChannel", ShmChannel::DefineClass(env));
}

}  // namespace procwire
