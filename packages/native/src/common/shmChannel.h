// ShmChannel: one end of a shm: connection's pair of rings (ring.h), the
// JavaScript class both addons export. Everything but the segment is the
// same on every platform and lives here, written once; a platform supplies
// a Segment (src/posix/shm.cc, src/win/shmChannel.cc) that parses the
// constructor's arguments, maps both rings and owns the mapping and bells:
//
//   explicit Segment(const Napi::CallbackInfo& info);   throws on bad input
//   const RingShape& shape() const;  uint8_t* base() const;
//   void Release();                  unmaps and closes; idempotent
//   void RingPeer();                 wakes the peer sleeping on its bell
//   void SilenceOwnBell();           quiets this side's bell after it rang
//   static void Relax();             one CPU pause in a spin
//   static void YieldCpu();          gives the CPU up (to a peer on one CPU)
//   static uint64_t NowNs();         a monotonic clock
//   [[noreturn]] static void ThrowRingError(Napi::Env, int64_t status, const char* syscall);
//   static constexpr bool kDescribesSecurity;  with Napi::Value Describe(Napi::Env)
//                                              for securityDescriptors()
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nodeArgs.h"
#include "ring.h"

namespace procwire {

// Parts one gathered frame may have (payloads plus the headers between them).
constexpr uint32_t kMaxShmParts = 256;

// Arguments 1..3 of every platform's constructor.
struct RingShape {
  int side;           // 0: the server's end, 1: the client's
  uint32_t capacity;  // data bytes of each ring, a power of two
  uint32_t maxFrame;  // the largest record this side accepts
  // Both rings: the size of the whole segment.
  size_t SegmentBytes() const { return 2 * ring::RingBytes(capacity); }
};

// side, capacity, maxFrameBytes at 1, 2, 3. The capacity's power of two is
// checked by CheckCapacity, once every argument's type is.
inline RingShape RingShapeArgs(const Napi::CallbackInfo& info) {
  const int side = static_cast<int>(IntegerArg(info, 1, "side", 0, 1));
  const int64_t capacity = IntegerArg(info, 2, "capacity", ring::kMinCapacity, ring::kMaxCapacity);
  const int64_t maxFrame = IntegerArg(info, 3, "maxFrameBytes", 1, UINT32_MAX - ring::kRecordHeaderBytes);
  return RingShape{side, static_cast<uint32_t>(capacity), static_cast<uint32_t>(maxFrame)};
}

inline void CheckCapacity(Napi::Env env, const RingShape& shape) {
  if (!ring::ValidCapacity(shape.capacity)) {
    ThrowWithCode(Napi::RangeError::New(env, "The value of \"capacity\" must be a power of two"), "ERR_OUT_OF_RANGE");
  }
}

// The array argument `name` at `index`: Uint8Arrays from `start`, at most
// kMaxShmParts of them, as spans into `spans`. Returns how many; `total`
// gets the array's length.
inline uint32_t SpansArg(const Napi::CallbackInfo& info, size_t index, const char* name, int64_t start,
                         ring::Span* spans, uint32_t* total) {
  Napi::Env env = info.Env();
  Napi::Value value = info[index];
  const std::string refused = std::string("The \"") + name + "\" argument must be an array of Uint8Array";
  auto typeError = [&] { ThrowWithCode(Napi::TypeError::New(env, refused), "ERR_INVALID_ARG_TYPE"); };
  if (!value.IsArray()) typeError();
  Napi::Array array = value.As<Napi::Array>();
  *total = array.Length();
  const uint32_t count = static_cast<uint32_t>(std::min<int64_t>(std::max<int64_t>(*total - start, 0), kMaxShmParts));
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value item = array.Get(static_cast<uint32_t>(start) + i);
    if (!item.IsTypedArray() || item.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) typeError();
    Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
    spans[i] = ring::Span{bytes.Data(), static_cast<uint32_t>(bytes.ByteLength())};
  }
  return count;
}

template <typename Segment>
class ShmChannel final : public Napi::ObjectWrap<ShmChannel<Segment>> {
  using Wrap = Napi::ObjectWrap<ShmChannel<Segment>>;

 public:
  static Napi::Function DefineClass(Napi::Env env) {
    std::vector<typename Wrap::PropertyDescriptor> methods = {
        Wrap::template InstanceMethod<&ShmChannel::Write>("write"),
        Wrap::template InstanceMethod<&ShmChannel::WriteParts>("writeParts"),
        Wrap::template InstanceMethod<&ShmChannel::WriteFrames>("writeFrames"),
        Wrap::template InstanceMethod<&ShmChannel::ReadWhole>("readWhole"),
        Wrap::template InstanceMethod<&ShmChannel::NextLength>("nextLength"),
        Wrap::template InstanceMethod<&ShmChannel::ReadPiece>("readPiece"),
        Wrap::template InstanceMethod<&ShmChannel::HasInput>("hasInput"),
        Wrap::template InstanceMethod<&ShmChannel::Room>("room"),
        Wrap::template InstanceMethod<&ShmChannel::Sleep>("sleep"),
        Wrap::template InstanceMethod<&ShmChannel::Awake>("awake"),
        Wrap::template InstanceMethod<&ShmChannel::Spin>("spin"),
        Wrap::template InstanceMethod<&ShmChannel::Close>("close"),
    };
    if constexpr (Segment::kDescribesSecurity) {
      methods.push_back(Wrap::template InstanceMethod<&ShmChannel::Describe>("securityDescriptors"));
    }
    return Wrap::DefineClass(env, "ShmChannel", methods);
  }

  explicit ShmChannel(const Napi::CallbackInfo& info) : Wrap(info), segment_(info) {
    const RingShape& shape = segment_.shape();
    const size_t ringBytes = ring::RingBytes(shape.capacity);
    // Ring 0 carries client -> server, ring 1 server -> client.
    uint8_t* inbound = segment_.base() + (shape.side == 0 ? 0 : ringBytes);
    uint8_t* outbound = segment_.base() + (shape.side == 0 ? ringBytes : 0);
    reader_.emplace(inbound, shape.capacity, shape.maxFrame);
    writer_.emplace(outbound, shape.capacity);
  }

  ~ShmChannel() override { Release(); }

 private:
  void Release() {
    reader_.reset();
    writer_.reset();
    segment_.Release();
  }

  void CheckOpen(Napi::Env env) const {
    if (!reader_) ThrowInvalidState(env, "ShmChannel: the channel is closed");
  }

  // write(frame, offset) -> new offset
  Napi::Value Write(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    ByteView frame = BytesArg(info, 0, "frame");
    const int64_t offset = IntegerArg(info, 1, "offset", 0, UINT32_MAX);
    CheckOpen(env);
    if (frame.length == 0 || frame.length > UINT32_MAX - ring::kRecordHeaderBytes ||
        offset >= static_cast<int64_t>(frame.length)) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.write: empty frame or offset past its end"),
                    "ERR_OUT_OF_RANGE");
    }
    const int64_t result =
        writer_->Write(frame.data, static_cast<uint32_t>(frame.length), static_cast<uint32_t>(offset));
    if (result < 0) Segment::ThrowRingError(env, result, "shm_write");
    if (result != offset && writer_->TakeWakeRequest()) segment_.RingPeer();
    return Napi::Number::New(env, static_cast<double>(result));
  }

  // writeParts(parts, offset) -> new offset: one frame given as the
  // concatenation of `parts` (Uint8Arrays), so large payloads are copied
  // into the ring straight from where they are.
  Napi::Value WriteParts(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t offset = IntegerArg(info, 1, "offset", 0, UINT32_MAX);
    ring::Span spans[kMaxShmParts];
    uint32_t total = 0;
    const uint32_t count = SpansArg(info, 0, "parts", 0, spans, &total);
    CheckOpen(env);
    if (total > kMaxShmParts) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeParts: too many parts"), "ERR_OUT_OF_RANGE");
    }
    uint64_t length = 0;
    for (uint32_t i = 0; i < count; i++) length += spans[i].length;
    if (length == 0 || length > UINT32_MAX - ring::kRecordHeaderBytes || offset >= static_cast<int64_t>(length)) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeParts: empty frame or offset past its end"),
                    "ERR_OUT_OF_RANGE");
    }
    const int64_t result =
        writer_->WriteGathered(spans, count, static_cast<uint32_t>(length), static_cast<uint32_t>(offset));
    if (result < 0) Segment::ThrowRingError(env, result, "shm_write");
    if (result != offset && writer_->TakeWakeRequest()) segment_.RingPeer();
    return Napi::Number::New(env, static_cast<double>(result));
  }

  // writeFrames(frames, start) -> how many of frames[start..] went into the
  // ring as whole records (published together).
  Napi::Value WriteFrames(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t start = IntegerArg(info, 1, "start", 0, UINT32_MAX);
    ring::Span spans[kMaxShmParts];
    uint32_t total = 0;
    const uint32_t count = SpansArg(info, 0, "frames", start, spans, &total);
    CheckOpen(env);
    if (start > total) {
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeFrames: start past the end of frames"),
                    "ERR_OUT_OF_RANGE");
    }
    for (uint32_t i = 0; i < count; i++) {
      if (spans[i].length == 0 || uint64_t{spans[i].length} + ring::kRecordHeaderBytes > writer_->capacity()) {
        ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.writeFrames: a frame is empty or larger than the ring"),
                      "ERR_OUT_OF_RANGE");
      }
    }
    const int64_t written = writer_->WriteWhole(spans, count);
    if (written < 0) Segment::ThrowRingError(env, written, "shm_write");
    if (written > 0 && writer_->TakeWakeRequest()) segment_.RingPeer();
    return Napi::Number::New(env, static_cast<double>(written));
  }

  // readWhole(out, outOffset, ends) -> frames copied; ends[i] are offsets in `out`.
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
      ThrowWithCode(Napi::RangeError::New(env, "ShmChannel.readWhole: outOffset past the end of out"),
                    "ERR_OUT_OF_RANGE");
    }
    uint32_t* endsData = ends.Data();
    const size_t maxEnds = ends.ElementLength();
    const int64_t count = reader_->ReadWhole(out.data + outOffset, static_cast<uint32_t>(out.length - outOffset),
                                             endsData, static_cast<uint32_t>(std::min<size_t>(maxEnds, UINT32_MAX)));
    if (count < 0) Segment::ThrowRingError(env, count, "shm_read");
    for (int64_t i = 0; i < count; i++) endsData[i] += static_cast<uint32_t>(outOffset);
    if (count > 0 && reader_->TakeWakeRequest()) segment_.RingPeer();
    return Napi::Number::New(env, static_cast<double>(count));
  }

  // nextLength() -> the next record's length, or -3 when it has not arrived.
  Napi::Value NextLength(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    CheckOpen(env);
    const int64_t length = reader_->NextLength();
    if (length < 0 && length != ring::kNotYet) Segment::ThrowRingError(env, length, "shm_read");
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
    const int64_t result =
        reader_->ReadPiece(out.data, static_cast<uint32_t>(out.length), static_cast<uint32_t>(offset));
    if (result < 0) Segment::ThrowRingError(env, result, "shm_read");
    if (result != offset && reader_->TakeWakeRequest()) segment_.RingPeer();
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
    if (room < 0) Segment::ThrowRingError(env, room, "shm_write");
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
  // not ring: withdraw the requests, and after the bell rang, quiet it (so a
  // ring that came after the wait is not seen again; skipped when waking by
  // choice, to spare a system call).
  void Awake(const Napi::CallbackInfo& info) {
    Napi::Value silence = info[0];
    if (!silence.IsBoolean()) {
      ThrowWithCode(Napi::TypeError::New(info.Env(), "The \"silenceBell\" argument must be of type boolean"),
                    "ERR_INVALID_ARG_TYPE");
    }
    CheckOpen(info.Env());
    reader_->CancelWakeRequest();
    writer_->CancelWakeRequest();
    if (silence.As<Napi::Boolean>().Value()) segment_.SilenceOwnBell();
  }

  // spin(maxMicros, wantRoom, yield) -> true as soon as input (or that much
  // room) is there, false after maxMicros. Blocks the calling thread for at
  // most maxMicros: the caller bounds it.
  Napi::Value Spin(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int64_t maxMicros = IntegerArg(info, 0, "maxMicros", 0, 1000000);
    const int64_t wantRoom = IntegerArg(info, 1, "wantRoom", 0, UINT32_MAX);
    const bool yield = info[2].ToBoolean().Value();
    CheckOpen(env);
    const uint64_t deadline = Segment::NowNs() + static_cast<uint64_t>(maxMicros) * 1000u;
    for (;;) {
      for (int i = 0; i < 64; i++) {
        if (reader_->HasInput()) return Napi::Boolean::New(env, true);
        if (wantRoom > 0 && writer_->Room() >= wantRoom) return Napi::Boolean::New(env, true);
        Segment::Relax();
      }
      // On a single CPU the peer can only make progress if we give the CPU up.
      if (yield) Segment::YieldCpu();
      if (Segment::NowNs() >= deadline) return Napi::Boolean::New(env, false);
    }
  }

  void Close(const Napi::CallbackInfo&) { Release(); }

  // securityDescriptors(), where the platform's objects have them.
  Napi::Value Describe(const Napi::CallbackInfo& info) {
    CheckOpen(info.Env());
    return segment_.Describe(info.Env());
  }

  // Declared first, so destroyed last: the rings point into its mapping.
  Segment segment_;
  std::optional<ring::Reader> reader_;
  std::optional<ring::Writer> writer_;
};

}  // namespace procwire
