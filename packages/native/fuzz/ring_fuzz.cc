// Randomized test and libFuzzer target of the shm: ring (src/common/ring.h).
//
// Each scenario puts one ring in a heap block of exactly header + capacity
// bytes, so AddressSanitizer reports any access past the data area; the
// unused bytes between the header fields are poisoned, so an access just
// before the data area is reported too. An honest Writer and Reader are
// driven by random operations (Write and WriteGathered, ReadWhole,
// NextLength, ReadPiece, the wake requests), called with exact-size buffers
// the way shm.cc calls them, and sometimes with the wrong lengths and offsets
// shm.cc lets through (a buggy caller). In the hostile modes an adversary overwrites what the
// peer controls between operations: the tail, the head, the wake flags and
// the bytes of the data area (record lengths among them), with random,
// boundary and overflowing values.
//
// Always checked: every call returns kCorrupt / kTooLarge / kNotYet or a
// value within its documented bounds, and nothing is read or written outside
// the ring or the caller's buffers (ASan). Checked while no adversary has
// acted: every frame comes out identical and in order, a record that fits the
// ring is never seen in part, each call moves exactly what it should, a
// wake-up requested is a wake-up delivered, and the pair never stalls.
//
//   ring_fuzz [--seed S] [--iterations N]  N scenarios from seed S (random when absent)
//   ring_fuzz --one S                      only the scenario a failure report names
//   ring_fuzz --wrap                       one honest transfer past 2^32 bytes (cursor wrap)
//   ring_fuzz --race MS                    the adversary as a thread racing the reader and writer
//
// With -DPROCWIRE_LIBFUZZER (clang -fsanitize=fuzzer) it is a libFuzzer
// target instead: the input bytes make every choice.
// -DPROCWIRE_RING_HEADER='"path"' fuzzes another copy of ring.h (selfTest.sh).
#ifdef PROCWIRE_RING_HEADER
#include PROCWIRE_RING_HEADER
#else
#include "../src/common/ring.h"
#endif

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define PW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PW_ASAN 1
#endif
#endif
#ifdef PW_ASAN
#include <sanitizer/asan_interface.h>
#define PW_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define PW_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define PW_POISON(p, n) ((void)(p), (void)(n))
#define PW_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace {

namespace ring = procwire::ring;

// The ring header layout as ring.h documents it; the adversary writes these
// offsets, and CheckLayout proves the Header struct agrees.
constexpr size_t kTailAt = 0;
constexpr size_t kHeadAt = 64;
constexpr size_t kReaderSleepingAt = 128;
constexpr size_t kWriterWaitingAt = 192;
constexpr size_t kFieldBytes = 4;

// Frame bodies are slices of one random pattern, so checking a frame is a memcmp.
constexpr uint32_t kMaxFrameLength = 1u << 20;
constexpr uint32_t kPatternBytes = 2 * kMaxFrameLength;

uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

const uint8_t* Pattern() {
  static const std::unique_ptr<uint8_t[]> pattern = [] {
    std::unique_ptr<uint8_t[]> bytes(new uint8_t[kPatternBytes]);
    uint64_t state = 0x70726f6377697265ull;
    for (uint32_t i = 0; i < kPatternBytes; i += 8) {
      const uint64_t word = SplitMix(state);
      std::memcpy(bytes.get() + i, &word, 8);
    }
    return bytes;
  }();
  return pattern.get();
}

// Where choices come from: a seeded generator, or the fuzzer's input (zeros
// once it is used up).
class Choices {
 public:
  explicit Choices(uint64_t seed) : state_(seed) {}
  Choices(const uint8_t* data, size_t size) : bytes_(data), left_(size), fromBytes_(true) {}

  uint64_t Take(size_t bytes) {
    if (!fromBytes_) return SplitMix(state_);
    uint64_t value = 0;
    const size_t n = bytes < left_ ? bytes : left_;
    std::memcpy(&value, bytes_, n);
    bytes_ += n;
    left_ -= n;
    return value;
  }
  // 0 .. n-1 (n >= 1).
  uint32_t Below(uint64_t n) {
    const size_t bytes = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;
    return static_cast<uint32_t>(Take(bytes) % n);
  }
  uint32_t U32() { return static_cast<uint32_t>(Take(4)); }
  bool OneIn(uint32_t n) { return Below(n) == 0; }
  bool used_up() const { return fromBytes_ && left_ == 0; }

 private:
  uint64_t state_ = 0;
  const uint8_t* bytes_ = nullptr;
  size_t left_ = 0;
  bool fromBytes_ = false;
};

// --- Failure reports: what ran last, and how to run it again.

struct Event {
  const char* what;
  int64_t a, b, c, result;
};
constexpr size_t kEvents = 24;
Event g_events[kEvents];
size_t g_eventCount = 0;
std::string g_scenario = "(none)";
std::string g_reproduce;

void Log(const char* what, int64_t a, int64_t b, int64_t c, int64_t result) {
  g_events[g_eventCount++ % kEvents] = {what, a, b, c, result};
}

[[noreturn]] void Fail(const char* format, ...) {
  std::fprintf(stderr, "ring_fuzz: FAILED: ");
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fprintf(stderr, "\n  scenario: %s\n  last operations (oldest first):\n", g_scenario.c_str());
  const size_t first = g_eventCount > kEvents ? g_eventCount - kEvents : 0;
  for (size_t i = first; i < g_eventCount; i++) {
    const Event& e = g_events[i % kEvents];
    std::fprintf(stderr, "    #%zu %-22s %" PRId64 " %" PRId64 " %" PRId64 " -> %" PRId64 "\n", i, e.what, e.a, e.b,
                 e.c, e.result);
  }
  if (!g_reproduce.empty()) std::fprintf(stderr, "  reproduce: %s\n", g_reproduce.c_str());
  std::fflush(stderr);
  std::abort();
}

#if defined(PW_ASAN) && !defined(PROCWIRE_LIBFUZZER)
// A sanitizer report ends the process without Fail(): name the scenario then.
void OnSanitizerDeath() {
  std::fprintf(stderr, "ring_fuzz: FAILED under the sanitizer in %s\n", g_scenario.c_str());
  if (!g_reproduce.empty()) std::fprintf(stderr, "  reproduce: %s\n", g_reproduce.c_str());
}
#endif

#define CHECK(condition, ...)            \
  do {                                   \
    if (!(condition)) Fail(__VA_ARGS__); \
  } while (0)

// What the runs exercised, printed at the end so a harness that stopped
// reaching the interesting paths shows it.
struct Stats {
  uint64_t scenarios[4];
  uint64_t framesChecked, bytesChecked, piecesFrames, corrupt, tooLarge, writerCorrupt, notYet;
} g_stats;

bool IsError(int64_t result) {
  return result == ring::kCorrupt || result == ring::kTooLarge;
}

// --- One ring in an exactly sized block.

class RingBlock {
 public:
  explicit RingBlock(uint32_t capacity) : capacity_(capacity), size_(ring::RingBytes(capacity)) {
    void* block = nullptr;
    if (posix_memalign(&block, 64, size_) != 0) Fail("out of memory for a %u-byte ring", capacity);
    base_ = static_cast<uint8_t*>(block);
    std::memset(base_, 0, size_);  // a new segment is zero-filled
    for (size_t field : {kTailAt, kHeadAt, kReaderSleepingAt, kWriterWaitingAt}) {
      const size_t gapEnd = field == kWriterWaitingAt ? ring::kHeaderBytes : field + 64;
      PW_POISON(base_ + field + kFieldBytes, gapEnd - field - kFieldBytes);
    }
  }
  ~RingBlock() {
    PW_UNPOISON(base_, ring::kHeaderBytes);
    std::free(base_);
  }
  RingBlock(const RingBlock&) = delete;
  RingBlock& operator=(const RingBlock&) = delete;

  uint8_t* base() const { return base_; }
  uint8_t* data() const { return base_ + ring::kHeaderBytes; }
  uint32_t capacity() const { return capacity_; }

  uint32_t Field(size_t at) const { return __atomic_load_n(reinterpret_cast<uint32_t*>(base_ + at), __ATOMIC_SEQ_CST); }
  void SetField(size_t at, uint32_t value) {
    __atomic_store_n(reinterpret_cast<uint32_t*>(base_ + at), value, __ATOMIC_SEQ_CST);
  }
  // A record length (or any four bytes) at a data position, wrapping as the ring does.
  void SetWord(uint32_t position, uint32_t value) {
    for (uint32_t i = 0; i < 4; i++) SetByte(position + i, static_cast<uint8_t>(value >> (8 * i)));
  }
  void SetByte(uint32_t position, uint8_t value) {
    __atomic_store_n(data() + (position & (capacity_ - 1)), value, __ATOMIC_RELAXED);
  }

 private:
  uint32_t capacity_;
  size_t size_;
  uint8_t* base_;
};

void CheckLayout() {
  RingBlock block(4096);
  ring::Header* header = ring::HeaderAt(block.base());
  header->tail.store(0x11111111);
  header->head.store(0x22222222);
  header->readerSleeping.store(0x33333333);
  header->writerWaiting.store(0x44444444);
  CHECK(block.Field(kTailAt) == 0x11111111 && block.Field(kHeadAt) == 0x22222222 &&
            block.Field(kReaderSleepingAt) == 0x33333333 && block.Field(kWriterWaitingAt) == 0x44444444,
        "ring::Header does not match the documented layout (tail 0, head 64, flags 128 and 192)");
}

// An exactly sized heap buffer (new[] of 0 bytes is valid and has no byte to touch).
template <typename T>
std::unique_ptr<T[]> Exact(uint32_t count) {
  return std::unique_ptr<T[]>(new T[count]);
}

// A buffer of exactly `length` bytes for a frame being read in pieces. A
// length the adversary announced can be up to 4 GiB: those are mapped
// without reserving memory, ending right before an inaccessible page, so the
// first byte written past the end faults.
class PieceBuffer {
 public:
  explicit PieceBuffer(uint32_t length) : length_(length) {
    if (length <= kMaxFrameLength) {
      heap_ = Exact<uint8_t>(length);
      data_ = heap_.get();
      return;
    }
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    mapped_ = (length + page - 1) / page * page + page;
    void* map = mmap(nullptr, mapped_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) Fail("mmap of a %u-byte piece buffer failed", length);
    uint8_t* guard = static_cast<uint8_t*>(map) + mapped_ - page;
    if (mprotect(guard, page, PROT_NONE) != 0) Fail("mprotect failed");
    map_ = map;
    data_ = guard - length;
  }
  ~PieceBuffer() {
    if (map_ != nullptr) munmap(map_, mapped_);
  }
  PieceBuffer(const PieceBuffer&) = delete;
  PieceBuffer& operator=(const PieceBuffer&) = delete;
  uint8_t* get() const { return data_; }
  uint32_t length() const { return length_; }

 private:
  uint32_t length_;
  std::unique_ptr<uint8_t[]> heap_;
  void* map_ = nullptr;
  size_t mapped_ = 0;
  uint8_t* data_ = nullptr;
};

enum Mode : uint32_t {
  kHonest = 0,
  kHostileWriter = 1,  // the adversary writes the tail and the data: the Reader is attacked
  kHostileReader = 2,  // the adversary writes the head: the Writer is attacked
  kHostileBoth = 3,
};

struct Expected {
  uint32_t at;  // in Pattern()
  uint32_t length;
};

class Scenario {
 public:
  Scenario(Choices& choices, RingBlock& block, uint32_t maxFrame, uint32_t mode)
      : c_(choices),
        block_(block),
        capacity_(block.capacity()),
        maxFrame_(maxFrame),
        mode_(mode),
        writer_(block.base(), block.capacity()),
        reader_(block.base(), block.capacity(), maxFrame) {}

  void Run(uint32_t operations) {
    for (uint32_t i = 0; i < operations && !c_.used_up(); i++) Step();
  }

  // The adversary as another thread (race mode): only bounds are checked.
  void MarkRaced() { raced_ = tainted_ = flagsTouched_ = headTouched_ = true; }

  // Honest runs only: everything written so far must come out, in order,
  // without the pair ever standing still while a frame is pending.
  void Drain() {
    if (tainted_ || flagsTouched_) return;
    noNewFrames_ = true;
    for (uint64_t rounds = 0;; rounds++) {
      if (readerStopped_) return;
      if (!writing_ && expected_.empty() && !piece_) {
        CHECK(Available() == 0 && !reader_.HasInput(), "%u bytes left over after the last frame", Available());
        return;
      }
      const uint32_t tailBefore = modelTail_;
      const uint32_t headBefore = modelHead_;
      if (writing_) WriteStep();
      DrainReadStep();
      CHECK(modelTail_ != tailBefore || modelHead_ != headBefore || readerStopped_,
            "stalled after %" PRIu64 " rounds: writing=%d offset=%u/%u, %zu frames pending, tail %u head %u", rounds,
            writing_, frameOffset_, frameLength_, expected_.size(), modelTail_, modelHead_);
    }
  }

 private:
  void Step() {
    const bool hostile = mode_ != kHonest;
    switch (c_.Below(hostile ? 16 : 12)) {
      case 0:
      case 1:
      case 2:
      case 3: return WriteStep();
      case 4:
      case 5:
      case 6: return ReadWholeStep();
      case 7:
      case 8: return PieceStep();
      case 9: return NextLengthStep();
      case 10: return ReaderWakeStep();
      case 11: return WriterWakeStep();
      case 12: return MisuseStep();
      default: return AdversaryStep();
    }
  }

  // --- The writer.

  uint32_t ChooseLength() {
    const uint32_t cap = capacity_;
    uint32_t length;
    switch (c_.Below(12)) {
      case 0: length = 1 + c_.Below(8); break;
      case 1:
      case 2:
      case 3: length = 1 + c_.Below(cap / 4 + 1); break;
      case 4: length = cap - ring::kRecordHeaderBytes; break;      // the largest record that fits
      case 5: length = cap - ring::kRecordHeaderBytes + 1; break;  // the smallest that does not
      case 6: length = cap - ring::kRecordHeaderBytes - 1; break;
      case 7: length = cap + c_.Below(8); break;
      case 8: length = 1 + c_.Below(cap); break;
      case 9: length = 1 + c_.Below(3ull * cap); break;
      case 10: length = 1 + c_.Below(4ull * cap + 64); break;
      default: length = 1 + c_.Below(64); break;
    }
    if (length == 0) length = 1;
    if (length > kMaxFrameLength) length = kMaxFrameLength;
    // Mostly within the reader's limit; now and then above it (kTooLarge expected).
    if (length > maxFrame_ && !c_.OneIn(8)) {
      length = 1 + c_.Below(maxFrame_ < kMaxFrameLength ? maxFrame_ : kMaxFrameLength);
    }
    return length;
  }

  void StartFrame() {
    frameLength_ = ChooseLength();
    frameAt_ = c_.Below(kPatternBytes - frameLength_ + 1);
    frame_ = Exact<uint8_t>(frameLength_);
    std::memcpy(frame_.get(), Pattern() + frameAt_, frameLength_);
    frameOffset_ = 0;
    writing_ = true;
    // Now and then the frame goes in as parts (writeParts): 1 to 6 spans,
    // empty ones included, each in a buffer of its own exact size.
    parts_.clear();
    spans_.clear();
    if (c_.OneIn(3)) {
      const uint32_t count = 1 + c_.Below(6);
      uint32_t at = 0;
      for (uint32_t i = 0; i < count; i++) {
        const uint32_t left = frameLength_ - at;
        const uint32_t length = i + 1 == count ? left : (c_.OneIn(4) ? 0 : c_.Below(uint64_t{left} + 1));
        parts_.push_back(Exact<uint8_t>(length));
        std::memcpy(parts_.back().get(), Pattern() + frameAt_ + at, length);
        spans_.push_back(ring::Span{parts_.back().get(), length});
        at += length;
      }
    }
  }

  void WriteStep() {
    if (!writing_) {
      if (noNewFrames_) return;
      StartFrame();
    }
    const int64_t room = writer_.Room();
    CHECK(room == ring::kCorrupt || (room >= 0 && room <= capacity_), "Room() = %" PRId64 " with capacity %u", room,
          capacity_);
    const int64_t result = spans_.empty()
                               ? writer_.Write(frame_.get(), frameLength_, frameOffset_)
                               : writer_.WriteGathered(spans_.data(), spans_.size(), frameLength_, frameOffset_);
    Log(spans_.empty() ? "Write(len, off, room)" : "WriteGathered(len, off, room)", frameLength_, frameOffset_, room,
        result);
    if (result == ring::kCorrupt) {
      g_stats.writerCorrupt++;
      // The head is impossible: the adversary wrote it, or misled the reader into publishing it.
      CHECK(tainted_, "Write() = kCorrupt from an honest reader");
      if (!raced_) CHECK(room == ring::kCorrupt, "Write() = kCorrupt but Room() was %" PRId64, room);
      return;
    }
    CHECK(result >= frameOffset_ && result <= frameLength_, "Write(length %u, offset %u) = %" PRId64, frameLength_,
          frameOffset_, result);
    const uint64_t record = uint64_t{ring::kRecordHeaderBytes} + frameLength_;
    const bool fits = record <= capacity_;
    if (frameOffset_ == 0 && fits) {
      CHECK(result == 0 || result == frameLength_, "a %u-byte record that fits the ring went in part: %" PRId64,
            frameLength_, result);
    }
    if (!raced_) {
      CHECK(room >= 0, "Write() succeeded although Room() said kCorrupt");
      // Exactly what the room allows: all of a fitting record, as much as fits of a larger one.
      const uint32_t free = static_cast<uint32_t>(room);
      int64_t want;
      if (frameOffset_ == 0) {
        want = fits ? (free >= record ? frameLength_ : 0)
                    : (free > ring::kRecordHeaderBytes ? free - ring::kRecordHeaderBytes : 0);
      } else {
        const uint32_t left = frameLength_ - frameOffset_;
        want = frameOffset_ + (left < free ? left : free);
      }
      CHECK(result == want, "Write(length %u, offset %u) with %u free = %" PRId64 ", expected %" PRId64, frameLength_,
            frameOffset_, free, result, want);
    }
    if (result > frameOffset_) {
      if (frameOffset_ == 0) {
        expected_.push_back({frameAt_, frameLength_});
        modelTail_ += ring::kRecordHeaderBytes;
      }
      modelTail_ += static_cast<uint32_t>(result) - frameOffset_;
      // The writer publishes its own cursor, whatever the peer wrote there.
      if (!raced_)
        CHECK(block_.Field(kTailAt) == modelTail_, "published tail %u, expected %u", block_.Field(kTailAt), modelTail_);
      const bool woke = writer_.TakeWakeRequest();
      if (!flagsTouched_) CHECK(woke == readerAsked_, "writer: wake request %d, reader asked %d", woke, readerAsked_);
      readerAsked_ = false;
    }
    frameOffset_ = static_cast<uint32_t>(result);
    if (frameOffset_ == frameLength_) {
      writing_ = false;
      frame_.reset();
      parts_.clear();
      spans_.clear();
    }
  }

  void WriterWakeStep() {
    if (c_.OneIn(4)) {
      writer_.CancelWakeRequest();
      writerAsked_ = false;
      return;
    }
    const uint32_t needed = 1 + c_.Below(uint64_t{capacity_} + 1);
    const int64_t room = writer_.Room();
    const bool sleep = writer_.RequestWakeWhenRoom(needed);
    Log("RequestWakeWhenRoom", needed, room, 0, sleep);
    // An impossible head never puts the writer to sleep: it must go on and fail.
    if (!raced_)
      CHECK(sleep == (room >= 0 && room < needed), "RequestWakeWhenRoom(%u) = %d with room %" PRId64, needed, sleep,
            room);
    writerAsked_ = sleep;
  }

  // --- The reader.

  // After the reader moved data: it must ring a writer that asked, and only one.
  void AfterRead() {
    const bool woke = reader_.TakeWakeRequest();
    if (!flagsTouched_) CHECK(woke == writerAsked_, "reader: wake request %d, writer asked %d", woke, writerAsked_);
    writerAsked_ = false;
  }

  uint32_t Available() const { return modelTail_ - modelHead_; }

  void CheckCursorsHonest() {
    if (tainted_) return;
    const int64_t available = reader_.Available();
    CHECK(available == Available(), "Available() = %" PRId64 ", expected %u", available, Available());
    CHECK(reader_.HasInput() == (Available() != 0), "HasInput() disagrees with %u available", Available());
    CHECK(block_.Field(kHeadAt) == modelHead_, "published head %u, expected %u", block_.Field(kHeadAt), modelHead_);
  }

  // Honest runs: whether the record at the front of the stream may be met
  // now: a record above the limit must make the reader fail, not skip it.
  bool TooLargeReachable() const {
    uint32_t position = 0;
    for (const Expected& e : expected_) {
      if (position + ring::kRecordHeaderBytes > Available()) return false;
      if (e.length > maxFrame_) return true;
      position += ring::kRecordHeaderBytes + e.length;
    }
    return false;
  }

  void ReaderFailed(const char* call, int64_t result) {
    CHECK(IsError(result), "%s = %" PRId64, call, result);
    (result == ring::kCorrupt ? g_stats.corrupt : g_stats.tooLarge)++;
    if (tainted_) return;
    CHECK(result == ring::kTooLarge && TooLargeReachable(), "%s = %" PRId64 " on an honest ring", call, result);
    readerStopped_ = true;  // the link closes with FRAME_TOO_LARGE
  }

  uint32_t ChooseOutLength() {
    const uint32_t front = expected_.empty() ? 16 : expected_.front().length;
    switch (c_.Below(7)) {
      case 0: return 0;
      case 1: return 1 + c_.Below(16);
      case 2: return front;
      case 3: return front > 0 ? front - 1 : 0;
      case 4: return capacity_;
      case 5: return 2 * capacity_ + 8;
      default: return c_.Below(3ull * capacity_);
    }
  }

  void ReadWholeStep() { ReadWhole(ChooseOutLength(), c_.OneIn(8) ? 1024 : c_.Below(6)); }

  void ReadWhole(uint32_t outLength, uint32_t maxEnds) {
    if (readerStopped_) return;
    if (piece_) return PieceStep();  // the link never reads whole records in the middle of a piece
    std::unique_ptr<uint8_t[]> out = Exact<uint8_t>(outLength);
    std::unique_ptr<uint32_t[]> ends = Exact<uint32_t>(maxEnds);
    const int64_t count = reader_.ReadWhole(out.get(), outLength, ends.get(), maxEnds);
    Log("ReadWhole(out, ends)", outLength, maxEnds, 0, count);
    if (count < 0) return ReaderFailed("ReadWhole()", count);
    CHECK(count <= maxEnds, "ReadWhole() = %" PRId64 " with room for %u ends", count, maxEnds);
    uint32_t start = 0;
    for (int64_t i = 0; i < count; i++) {
      const uint32_t end = ends[i];
      CHECK(end > start && end <= outLength && end - start <= maxFrame_,
            "ReadWhole(): frame %" PRId64 " ends at %u after %u (out %u, limit %u)", i, end, start, outLength,
            maxFrame_);
      if (!tainted_) {
        CHECK(!expected_.empty(), "ReadWhole() returned a frame nobody wrote");
        const Expected e = expected_.front();
        CHECK(end - start == e.length && std::memcmp(out.get() + start, Pattern() + e.at, e.length) == 0,
              "ReadWhole(): frame %" PRId64 " (%u bytes) differs from the one written (%u bytes)", i, end - start,
              e.length);
        expected_.pop_front();
        modelHead_ += ring::kRecordHeaderBytes + e.length;
        g_stats.framesChecked++;
        g_stats.bytesChecked += e.length;
      }
      start = end;
    }
    if (count > 0) AfterRead();
    if (tainted_) return;
    CheckCursorsHonest();
    // It stops only for a reason: no room for another end, an incomplete
    // record, or one that does not fit what is left of `out`.
    if (count < maxEnds && !expected_.empty() && Available() >= ring::kRecordHeaderBytes) {
      const Expected e = expected_.front();
      const bool complete = Available() >= ring::kRecordHeaderBytes + e.length;
      CHECK(!(complete && e.length <= outLength - start && e.length <= maxFrame_),
            "ReadWhole() left a complete %u-byte record with %u bytes of out free", e.length, outLength - start);
    }
  }

  void NextLengthStep() {
    if (readerStopped_) return;
    const int64_t length = reader_.NextLength();
    Log("NextLength()", 0, 0, 0, length);
    CheckNextLength(length);
    if (length == ring::kNotYet) g_stats.notYet++;
    if (IsError(length)) (length == ring::kCorrupt ? g_stats.corrupt : g_stats.tooLarge)++;
  }

  void CheckNextLength(int64_t length) {
    CHECK(IsError(length) || length == ring::kNotYet || (length >= 1 && length <= maxFrame_),
          "NextLength() = %" PRId64 " with limit %u", length, maxFrame_);
    if (piece_ && pieceStarted_) {
      CHECK(length == pieceLength_, "NextLength() = %" PRId64 " in a %u-byte piece", length, pieceLength_);
      return;
    }
    if (tainted_) return;
    if (Available() < ring::kRecordHeaderBytes) {
      CHECK(length == ring::kNotYet, "NextLength() = %" PRId64 " with %u bytes available", length, Available());
      return;
    }
    CHECK(!expected_.empty(), "%u bytes available but nothing written", Available());
    const Expected e = expected_.front();
    if (e.length > maxFrame_) {
      CHECK(length == ring::kTooLarge, "NextLength() = %" PRId64 " for a %u-byte record above the limit %u", length,
            e.length, maxFrame_);
      return;
    }
    CHECK(length == e.length, "NextLength() = %" PRId64 ", the record is %u bytes", length, e.length);
    // The writer publishes a record that fits the ring whole.
    if (ring::kRecordHeaderBytes + uint64_t{e.length} <= capacity_) {
      CHECK(Available() >= ring::kRecordHeaderBytes + e.length,
            "a %u-byte record that fits the ring is visible in part (%u bytes)", e.length, Available());
    }
  }

  void PieceStep() {
    if (readerStopped_) return;
    if (!piece_) {
      const int64_t length = reader_.NextLength();
      Log("NextLength() for piece", 0, 0, 0, length);
      CheckNextLength(length);
      if (length == ring::kNotYet) return;
      if (length < 0) return ReaderFailed("NextLength()", length);
      pieceLength_ = static_cast<uint32_t>(length);
      piece_.reset(new PieceBuffer(pieceLength_));
      pieceOffset_ = 0;
      pieceStarted_ = false;
    }
    const uint32_t available = Available();
    const int64_t result = reader_.ReadPiece(piece_->get(), pieceLength_, pieceOffset_);
    Log("ReadPiece(len, off)", pieceLength_, pieceOffset_, 0, result);
    if (result < 0) {
      ReaderFailed("ReadPiece()", result);
      if (c_.OneIn(4)) {  // a misled caller starts over (the link would close instead)
        piece_.reset();
        pieceStarted_ = false;
      }
      return;
    }
    CHECK(result >= pieceOffset_ && result <= pieceLength_, "ReadPiece(length %u, offset %u) = %" PRId64, pieceLength_,
          pieceOffset_, result);
    if (!tainted_) {
      uint32_t left = available;
      if (!pieceStarted_ && left >= ring::kRecordHeaderBytes) {
        pieceStarted_ = true;
        modelHead_ += ring::kRecordHeaderBytes;
        left -= ring::kRecordHeaderBytes;
      }
      const uint32_t rest = pieceLength_ - pieceOffset_;
      const uint32_t want = pieceStarted_ ? (left < rest ? left : rest) : 0;
      CHECK(result - pieceOffset_ == want,
            "ReadPiece(length %u, offset %u) with %u available moved %" PRId64 ", expected %u", pieceLength_,
            pieceOffset_, available, result - pieceOffset_, want);
      modelHead_ += want;
    }
    if (result != pieceOffset_) AfterRead();
    pieceOffset_ = static_cast<uint32_t>(result);
    if (!tainted_) CheckCursorsHonest();
    if (pieceOffset_ == pieceLength_) {
      if (!tainted_) {
        CHECK(!expected_.empty(), "ReadPiece() completed a frame nobody wrote");
        const Expected e = expected_.front();
        CHECK(e.length == pieceLength_ && std::memcmp(piece_->get(), Pattern() + e.at, e.length) == 0,
              "ReadPiece(): the %u-byte frame differs from the one written", pieceLength_);
        expected_.pop_front();
        g_stats.framesChecked++;
        g_stats.piecesFrames++;
        g_stats.bytesChecked += e.length;
      }
      piece_.reset();
      pieceStarted_ = false;
    }
  }

  void ReaderWakeStep() {
    if (c_.OneIn(4)) {
      reader_.CancelWakeRequest();
      readerAsked_ = false;
      return;
    }
    const bool sleep = reader_.RequestWakeOnData();
    Log("RequestWakeOnData()", 0, 0, 0, sleep);
    if (!tainted_) CHECK(sleep == (Available() == 0), "RequestWakeOnData() = %d with %u available", sleep, Available());
    readerAsked_ = sleep;
  }

  // The honest reader's strategy at the end: pieces for records larger than
  // the ring (or now and then any record), whole reads otherwise.
  void DrainReadStep() {
    if (readerStopped_) return;
    if (piece_) return PieceStep();
    const int64_t length = reader_.NextLength();
    Log("NextLength() to drain", 0, 0, 0, length);
    CheckNextLength(length);
    if (length == ring::kNotYet) return;
    if (length < 0) return ReaderFailed("NextLength()", length);
    if (ring::kRecordHeaderBytes + static_cast<uint64_t>(length) > capacity_ || c_.OneIn(4)) return PieceStep();
    ReadWhole(static_cast<uint32_t>(length) + c_.Below(2ull * capacity_), 1 + c_.Below(1024));
  }

  // --- What shm.cc lets a buggy caller do (the arguments it checks hold).

  void MisuseStep() {
    if (c_.OneIn(2)) {
      const uint32_t length = 1 + c_.Below(2ull * capacity_ + 16);
      const uint32_t offset = c_.OneIn(2) ? 0 : c_.Below(uint64_t{length} + 1);
      PieceBuffer out(length);
      const int64_t result = reader_.ReadPiece(out.get(), length, offset);
      Log("misuse ReadPiece", length, offset, 0, result);
      CHECK(IsError(result) || (result >= offset && result <= length), "ReadPiece(length %u, offset %u) = %" PRId64,
            length, offset, result);
      if (result >= 0) {
        // The reader may now be in a piece the harness does not hold.
        tainted_ = true;
        piece_.reset();
        pieceStarted_ = false;
      }
    } else {
      const uint32_t length = 1 + c_.Below(2ull * capacity_ + 16);
      const uint32_t offset = c_.Below(length);
      std::unique_ptr<uint8_t[]> frame = Exact<uint8_t>(length);
      std::memset(frame.get(), 0xa5, length);
      const int64_t result = writer_.Write(frame.get(), length, offset);
      Log("misuse Write", length, offset, 0, result);
      CHECK(result == ring::kCorrupt || (result >= offset && result <= length),
            "Write(length %u, offset %u) = %" PRId64, length, offset, result);
      if (result > offset) {
        modelTail_ += static_cast<uint32_t>(result) - offset + (offset == 0 ? ring::kRecordHeaderBytes : 0);
        tainted_ = true;  // bytes without a record in the stream
        writing_ = false;
        frame_.reset();
      }
    }
  }

  // --- The adversary: the peer's half of the header, and the data area.

  // Cursor values around `near` and the capacity, overflowing ones, random ones.
  uint32_t Interesting(uint32_t near) {
    const uint32_t cap = capacity_;
    switch (c_.Below(22)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return near;
      case 3: return near + 1;
      case 4: return near - 1;
      case 5: return near + cap;
      case 6: return near + cap + 1;
      case 7: return near + cap - 1;
      case 8: return near - cap;
      case 9: return near - cap - 1;
      case 10: return near + ring::kRecordHeaderBytes;
      case 11: return near + ring::kRecordHeaderBytes - 1;
      case 12: return 1u << 31;
      case 13: return (1u << 31) - 1;
      case 14: return (1u << 31) + 1;
      case 15: return UINT32_MAX;
      case 16: return 0u - cap;
      case 17: return cap;
      case 18: return cap + 1;
      case 19: return near + c_.Below(uint64_t{cap} + 1);
      case 20: return near - c_.Below(uint64_t{cap} + 1);
      default: return c_.U32();
    }
  }

  // Record lengths: zero, at and over the limit, over what is published, huge.
  uint32_t InterestingLength(uint32_t published) {
    const uint32_t cap = capacity_;
    switch (c_.Below(16)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return maxFrame_;
      case 3: return maxFrame_ + 1;
      case 4: return UINT32_MAX;
      case 5: return UINT32_MAX - 3;
      case 6: return 1u << 31;
      case 7: return cap - ring::kRecordHeaderBytes;
      case 8: return cap - ring::kRecordHeaderBytes + 1;
      case 9: return cap;
      case 10: return published - ring::kRecordHeaderBytes;
      case 11: return published - ring::kRecordHeaderBytes + 1;
      case 12: return published;
      case 13: return 1 + c_.Below(uint64_t{cap} * 2);
      default: return c_.U32();
    }
  }

  void AdversaryStep() {
    const bool onReader = mode_ == kHostileWriter || mode_ == kHostileBoth;
    const bool onWriter = mode_ == kHostileReader || mode_ == kHostileBoth;
    // Where the reader really is (it publishes its cursor after each read).
    const uint32_t readerAt = block_.Field(kHeadAt);
    switch (c_.Below(8)) {
      case 0:
      case 1:
        if (!onReader) break;
        block_.SetField(kTailAt, Interesting(c_.OneIn(2) ? modelHead_ : modelTail_));
        Log("adversary: tail", block_.Field(kTailAt), 0, 0, 0);
        tainted_ = true;
        return;
      case 2:
      case 3: {
        if (!onReader) break;
        // A record length at the reader's next record, at the writer's next,
        // straddling the end of the data area, or anywhere.
        uint32_t at;
        switch (c_.Below(4)) {
          case 0: at = modelHead_; break;
          case 1: at = modelTail_; break;
          case 2: at = capacity_ - 1 - c_.Below(3); break;
          default: at = c_.U32(); break;
        }
        const uint32_t length = InterestingLength(block_.Field(kTailAt) - modelHead_);
        block_.SetWord(at, length);
        if (c_.OneIn(2)) block_.SetField(kTailAt, Interesting(modelHead_));
        Log("adversary: length at", at, length, block_.Field(kTailAt), 0);
        tainted_ = true;
        return;
      }
      case 4: {
        if (!onReader) break;
        // Random bytes, then a tail that publishes them as records.
        const uint32_t count = 1 + c_.Below(64);
        const uint32_t at = c_.OneIn(2) ? modelTail_ : c_.U32();
        for (uint32_t i = 0; i < count; i++) block_.SetByte(at + i, static_cast<uint8_t>(c_.Below(256)));
        block_.SetField(kTailAt, modelHead_ + c_.Below(uint64_t{capacity_} + 1));
        Log("adversary: bytes, tail", at, count, block_.Field(kTailAt), 0);
        tainted_ = true;
        return;
      }
      case 5:
      case 6:
        if (!onWriter) break;
        block_.SetField(kHeadAt, Interesting(c_.OneIn(2) ? modelTail_ : readerAt));
        Log("adversary: head", block_.Field(kHeadAt), 0, 0, 0);
        headTouched_ = true;
        tainted_ = true;  // the writer may now overwrite what the reader has not read
        return;
      default: break;
    }
    const uint32_t values[] = {0, 1, 2, UINT32_MAX, c_.U32()};
    block_.SetField(c_.OneIn(2) ? kReaderSleepingAt : kWriterWaitingAt, values[c_.Below(5)]);
    Log("adversary: flags", block_.Field(kReaderSleepingAt), block_.Field(kWriterWaitingAt), 0, 0);
    flagsTouched_ = true;
  }

  Choices& c_;
  RingBlock& block_;
  const uint32_t capacity_;
  const uint32_t maxFrame_;
  const uint32_t mode_;
  ring::Writer writer_;
  ring::Reader reader_;

  // The frame being written, whole and (when spans_ is not empty) in parts.
  std::unique_ptr<uint8_t[]> frame_;
  std::vector<std::unique_ptr<uint8_t[]>> parts_;
  std::vector<ring::Span> spans_;
  uint32_t frameAt_ = 0;
  uint32_t frameLength_ = 0;
  uint32_t frameOffset_ = 0;
  bool writing_ = false;
  bool noNewFrames_ = false;

  // The frame being read in pieces.
  std::unique_ptr<PieceBuffer> piece_;
  uint32_t pieceLength_ = 0;
  uint32_t pieceOffset_ = 0;
  bool pieceStarted_ = false;  // the reader has taken its length

  // The honest model: frames in the stream, the cursors, the wake requests.
  std::deque<Expected> expected_;
  uint32_t modelTail_ = 0;
  uint32_t modelHead_ = 0;
  bool readerAsked_ = false;
  bool writerAsked_ = false;
  bool readerStopped_ = false;
  bool raced_ = false;

  // What the adversary has done.
  bool tainted_ = false;
  bool headTouched_ = false;
  bool flagsTouched_ = false;
};

uint32_t ChooseCapacity(Choices& c) {
  if (c.OneIn(1024)) return 1u << 20;  // the transport's default (rarely: it is slow to set up)
  if (c.OneIn(8)) return ring::kMinCapacity;
  return 1u << (3 + c.Below(14));  // 8 .. 64 KiB: small rings wrap often
}

uint32_t ChooseMaxFrame(Choices& c, uint32_t capacity) {
  switch (c.Below(6)) {
    case 0: return UINT32_MAX - ring::kRecordHeaderBytes;  // the most shm.cc accepts
    case 1: return capacity - ring::kRecordHeaderBytes;
    case 2: return capacity - ring::kRecordHeaderBytes + 1;
    case 3: return 1 + c.Below(2ull * capacity);
    case 4: return 16;  // core's smallest limit
    default: return 4u * 1024 * 1024;
  }
}

const char* ModeName(uint32_t mode) {
  static const char* const names[] = {"honest", "hostile writer", "hostile reader", "hostile both"};
  return names[mode & 3];
}

void RunScenario(Choices& c, const std::string& label) {
  const uint32_t capacity = ChooseCapacity(c);
  const uint32_t maxFrame = ChooseMaxFrame(c, capacity);
  const uint32_t mode = c.Below(10) < 4 ? kHonest : 1 + c.Below(3);
  const uint32_t operations = 1 + c.Below(96);
  char text[160];
  std::snprintf(text, sizeof text, "%s: capacity %u, maxFrame %u, %s, %u operations", label.c_str(), capacity, maxFrame,
                ModeName(mode), operations);
  g_scenario = text;
  g_eventCount = 0;
  g_stats.scenarios[mode]++;
  RingBlock block(capacity);
  Scenario scenario(c, block, maxFrame, mode);
  scenario.Run(operations);
  scenario.Drain();
}

#ifndef PROCWIRE_LIBFUZZER
// --- Long runs (standalone only).

// One honest transfer of a little more than 2^32 bytes through a 64 KiB
// ring, so both cursors wrap; small frames around the wrap point.
void RunWrap() {
  constexpr uint32_t kCapacity = 1u << 16;
  g_scenario = "wrap: capacity 65536, honest, past 2^32 bytes";
  g_reproduce = "ring_fuzz --wrap";
  RingBlock block(kCapacity);
  ring::Writer writer(block.base(), kCapacity);
  ring::Reader reader(block.base(), kCapacity, kMaxFrameLength);
  std::unique_ptr<uint8_t[]> out = Exact<uint8_t>(kMaxFrameLength);
  uint32_t ends[64];
  std::deque<Expected> expected;
  uint64_t written = 0;  // bytes through the ring, cursor-wise
  uint64_t read = 0;
  uint64_t frames = 0;
  uint64_t state = 42;
  constexpr uint64_t kEnd = (uint64_t{1} << 32) + 8 * kCapacity;
  uint32_t frameAt = 0, frameLength = 0, frameOffset = 0;
  bool writing = false;
  std::unique_ptr<uint8_t[]> piece;
  uint32_t pieceLength = 0, pieceOffset = 0;
  const auto started = std::chrono::steady_clock::now();
  uint64_t idleRounds = 0;
  uint64_t lastMoved = 0;
  while (read < kEnd || !expected.empty()) {
    idleRounds = written + read == lastMoved ? idleRounds + 1 : 0;
    lastMoved = written + read;
    CHECK(idleRounds < 1000, "wrap: stalled after %" PRIu64 " bytes written, %" PRIu64 " read", written, read);
    if (!writing && written < kEnd) {
      const uint64_t r = SplitMix(state);
      // Large frames to get there, small ones near 2^32 so records straddle it.
      const bool nearWrap = written + 4 * kCapacity > (uint64_t{1} << 32);
      frameLength = nearWrap ? 1 + static_cast<uint32_t>(r % 300) : 1 + static_cast<uint32_t>(r % kMaxFrameLength);
      frameAt = static_cast<uint32_t>((r >> 32) % (kPatternBytes - frameLength + 1));
      frameOffset = 0;
      writing = true;
    }
    if (writing) {
      const int64_t result = writer.Write(Pattern() + frameAt, frameLength, frameOffset);
      CHECK(result >= frameOffset && result <= frameLength, "wrap: Write() = %" PRId64, result);
      if (result > frameOffset) {
        if (frameOffset == 0) {
          expected.push_back({frameAt, frameLength});
          written += ring::kRecordHeaderBytes;
        }
        written += static_cast<uint64_t>(result) - frameOffset;
        frameOffset = static_cast<uint32_t>(result);
        if (frameOffset == frameLength) writing = false;
      }
    }
    if (piece) {
      const int64_t result = reader.ReadPiece(piece.get(), pieceLength, pieceOffset);
      CHECK(result >= pieceOffset && result <= pieceLength, "wrap: ReadPiece() = %" PRId64, result);
      read += static_cast<uint64_t>(result) - pieceOffset + (pieceOffset == 0 && result > 0 ? 4 : 0);
      pieceOffset = static_cast<uint32_t>(result);
      if (pieceOffset == pieceLength) {
        const Expected e = expected.front();
        CHECK(e.length == pieceLength && std::memcmp(piece.get(), Pattern() + e.at, e.length) == 0,
              "wrap: frame %" PRIu64 " differs (%u bytes)", frames, pieceLength);
        expected.pop_front();
        frames++;
        piece.reset();
      }
      continue;
    }
    const int64_t count = reader.ReadWhole(out.get(), kMaxFrameLength, ends, 64);
    CHECK(count >= 0, "wrap: ReadWhole() = %" PRId64 " after %" PRIu64 " bytes", count, read);
    uint32_t start = 0;
    for (int64_t i = 0; i < count; i++) {
      const Expected e = expected.front();
      CHECK(ends[i] - start == e.length && std::memcmp(out.get() + start, Pattern() + e.at, e.length) == 0,
            "wrap: frame %" PRIu64 " differs", frames);
      expected.pop_front();
      frames++;
      read += ring::kRecordHeaderBytes + e.length;
      start = ends[i];
    }
    if (count == 0) {
      const int64_t length = reader.NextLength();
      CHECK(length == ring::kNotYet || length > 0, "wrap: NextLength() = %" PRId64, length);
      if (length > 0 && ring::kRecordHeaderBytes + static_cast<uint64_t>(length) > kCapacity) {
        pieceLength = static_cast<uint32_t>(length);
        piece = Exact<uint8_t>(pieceLength);
        pieceOffset = 0;
      }
    }
  }
  CHECK(written == read && read >= kEnd, "wrap: wrote %" PRIu64 ", read %" PRIu64, written, read);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::printf("ring_fuzz: wrap: %" PRIu64 " frames, %" PRIu64 " bytes (cursors wrapped at 2^32), %lld ms\n", frames,
              read, static_cast<long long>(ms));
}

// The adversary as a thread: it scribbles the peer's fields and the data
// area while the reader and writer run, so a value that changes between two
// reads of the same field (a double fetch) has a chance to be seen.
void RunRace(uint32_t millis, uint64_t seed) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(millis);
  uint64_t scenarios = 0;
  Choices c(seed);
  for (uint32_t round = 0; std::chrono::steady_clock::now() < deadline; round++) {
    const uint32_t capacity = 1u << (3 + round % 10);
    RingBlock block(capacity);
    std::atomic<bool> stop{false};
    std::thread adversary([&block, &stop, capacity, seed, round] {
      uint64_t state = seed ^ (uint64_t{round} << 32);
      while (!stop.load(std::memory_order_relaxed)) {
        const uint64_t r = SplitMix(state);
        switch (r & 7) {
          case 0:
          case 1: block.SetField(kTailAt, static_cast<uint32_t>(r >> 32) % (4 * capacity) - 2 * capacity); break;
          case 2: block.SetField(kTailAt, static_cast<uint32_t>(r >> 32)); break;
          case 3: block.SetField(kHeadAt, static_cast<uint32_t>(r >> 32) % (4 * capacity) - 2 * capacity); break;
          case 4:
          case 5: block.SetWord(static_cast<uint32_t>(r >> 8), static_cast<uint32_t>(r >> 32)); break;
          default: block.SetByte(static_cast<uint32_t>(r >> 8), static_cast<uint8_t>(r >> 40)); break;
        }
      }
    });
    for (int i = 0; i < 200; i++, scenarios++) {
      char text[120];
      std::snprintf(text, sizeof text, "race: capacity %u, round %u, scenario %d", capacity, round, i);
      g_scenario = text;
      g_eventCount = 0;
      Scenario scenario(c, block, ChooseMaxFrame(c, capacity), kHostileBoth);
      scenario.MarkRaced();
      scenario.Run(64);
    }
    stop.store(true);
    adversary.join();
  }
  std::printf("ring_fuzz: race: %" PRIu64 " scenarios against a scribbling thread in %u ms\n", scenarios, millis);
}
#endif

}  // namespace

#ifdef PROCWIRE_LIBFUZZER

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool layoutChecked = (CheckLayout(), true);
  (void)layoutChecked;
  Choices c(data, size);
  RunScenario(c, "libFuzzer input");
  return 0;
}

#else

int main(int argc, char** argv) {
#ifdef PW_ASAN
  __asan_set_death_callback(OnSanitizerDeath);
#endif
  uint64_t seed = std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32);
  uint64_t iterations = 200000;
  bool one = false;
  bool wrap = false;
  long raceMillis = -1;
  for (int i = 1; i < argc; i++) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--seed" && value) {
      seed = std::strtoull(value, nullptr, 0);
      i++;
    } else if (arg == "--iterations" && value) {
      iterations = std::strtoull(value, nullptr, 0);
      i++;
    } else if (arg == "--one" && value) {
      seed = std::strtoull(value, nullptr, 0);
      one = true;
      i++;
    } else if (arg == "--wrap") {
      wrap = true;
    } else if (arg == "--race" && value) {
      raceMillis = std::strtol(value, nullptr, 0);
      i++;
    } else {
      std::fprintf(stderr, "usage: ring_fuzz [--seed S] [--iterations N] | --one S | --wrap | --race MS\n");
      return 2;
    }
  }
  CheckLayout();
  Pattern();
  if (wrap) {
    RunWrap();
    return 0;
  }
  if (raceMillis >= 0) {
    std::printf("ring_fuzz: race seed %" PRIu64 "\n", seed);
    std::fflush(stdout);
    g_reproduce = std::string(argv[0]) + " --race " + std::to_string(raceMillis) + " --seed " + std::to_string(seed) +
                  " (timing-dependent)";
    RunRace(static_cast<uint32_t>(raceMillis), seed);
    return 0;
  }
  const auto started = std::chrono::steady_clock::now();
  if (one) iterations = 1;
  if (!one) std::printf("ring_fuzz: seed %" PRIu64 ", %" PRIu64 " scenarios\n", seed, iterations);
  std::fflush(stdout);
  for (uint64_t i = 0; i < iterations; i++) {
    uint64_t state = seed + i;
    const uint64_t scenarioSeed = one ? seed : SplitMix(state);
    char label[96];
    std::snprintf(label, sizeof label, "scenario %" PRIu64 " (seed %" PRIu64 ")", i, scenarioSeed);
    g_reproduce = std::string(argv[0]) + " --one " + std::to_string(scenarioSeed);
    Choices c(scenarioSeed);
    RunScenario(c, label);
  }
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  std::printf("ring_fuzz: %" PRIu64 " scenarios passed in %lld ms\n", iterations, static_cast<long long>(ms));
  std::printf("ring_fuzz: %" PRIu64 " honest, %" PRIu64 " hostile writer, %" PRIu64 " hostile reader, %" PRIu64
              " hostile both; %" PRIu64 " frames (%" PRIu64 " in pieces, %" PRIu64
              " bytes) read back identical; reader"
              " kCorrupt %" PRIu64 ", kTooLarge %" PRIu64 ", kNotYet %" PRIu64 "; writer kCorrupt %" PRIu64 "\n",
              g_stats.scenarios[0], g_stats.scenarios[1], g_stats.scenarios[2], g_stats.scenarios[3],
              g_stats.framesChecked, g_stats.piecesFrames, g_stats.bytesChecked, g_stats.corrupt, g_stats.tooLarge,
              g_stats.notYet, g_stats.writerCorrupt);
  return 0;
}

#endif
