// The shared-memory ring of the shm: transport: one single-producer /
// single-consumer byte ring per direction, carrying length-prefixed records
// (one record = one frame). Plain C++17 with no Node and no OS calls, so the
// POSIX and Windows builds share it and the fuzz target can drive it alone.
//
// Layout of one ring inside a mapped segment (all fields little-endian, as
// the hardware stores them; both peers run on one machine):
//
//   offset   0  uint32 tail            bytes ever written (wraps at 2^32); the writer's
//   offset  64  uint32 head            bytes ever read (wraps at 2^32); the reader's
//   offset 128  uint32 readerSleeping  1: the reader waits for data, ring its bell
//   offset 192  uint32 writerWaiting   1: the writer waits for room, ring its bell
//   offset 256  data[capacity]         capacity is a power of two
//
// A record is a uint32 length L (1 <= L <= the frame limit) then L bytes;
// both may wrap around the end of the data area. A record that fits in the
// ring is published whole (the reader never sees half of it); a record larger
// than the ring is written in pieces as room appears and read in pieces.
//
// Trust: each side keeps its own cursor privately and only *publishes* it to
// the segment; the peer's cursor is read once per call, copied, and checked
// (the distance between the cursors can never exceed the capacity; a record
// length must be within the frame limit and, for a whole record, within the
// bytes available). A violation is reported as kCorrupt and never leads to an
// access outside the data area, whatever the peer writes, whenever.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace procwire {
namespace ring {

constexpr size_t kHeaderBytes = 256;
constexpr uint32_t kRecordHeaderBytes = 4;
constexpr size_t kMinCapacity = 4096;
constexpr size_t kMaxCapacity = size_t{1} << 30;

struct Header {
  alignas(64) std::atomic<uint32_t> tail;
  alignas(64) std::atomic<uint32_t> head;
  alignas(64) std::atomic<uint32_t> readerSleeping;
  alignas(64) std::atomic<uint32_t> writerWaiting;
};
static_assert(sizeof(Header) <= kHeaderBytes, "ring header must fit its reserved area");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "shared-memory atomics must be lock-free");

// Bytes one ring occupies in a segment.
inline size_t RingBytes(size_t capacity) {
  return kHeaderBytes + capacity;
}

inline bool ValidCapacity(size_t capacity) {
  return capacity >= kMinCapacity && capacity <= kMaxCapacity && (capacity & (capacity - 1)) == 0;
}

enum : int64_t {
  kCorrupt = -1,   // the peer's cursor or a record length is impossible
  kTooLarge = -2,  // a record announces more than the frame limit
  kNotYet = -3,    // the next record's length has not arrived
};

// Copies between a linear buffer and the circular data area.
class Area {
 public:
  Area(uint8_t* data, uint32_t capacity) : data_(data), mask_(capacity - 1) {}

  // (Empty copies return first: an empty JavaScript buffer may have no
  // memory at all, and memcpy from a null pointer is undefined even for 0 bytes.)
  void CopyIn(uint32_t position, const uint8_t* from, uint32_t length) const {
    if (length == 0) return;
    const uint32_t at = position & mask_;
    const uint32_t first = Min(length, mask_ + 1 - at);
    std::memcpy(data_ + at, from, first);
    if (length > first) std::memcpy(data_, from + first, length - first);
  }

  void CopyOut(uint32_t position, uint8_t* to, uint32_t length) const {
    if (length == 0) return;
    const uint32_t at = position & mask_;
    const uint32_t first = Min(length, mask_ + 1 - at);
    std::memcpy(to, data_ + at, first);
    if (length > first) std::memcpy(to + first, data_, length - first);
  }

  uint32_t capacity() const { return mask_ + 1; }

 private:
  static uint32_t Min(uint32_t a, uint32_t b) { return a < b ? a : b; }
  uint8_t* data_;
  uint32_t mask_;
};

// A piece of a frame given in parts.
struct Span {
  const uint8_t* data;
  uint32_t length;
};

inline Header* HeaderAt(uint8_t* ring) {
  return reinterpret_cast<Header*>(ring);
}

// The producing end of one ring.
class Writer {
 public:
  Writer(uint8_t* ring, uint32_t capacity) : header_(HeaderAt(ring)), area_(ring + kHeaderBytes, capacity) {}

  // Writes the frame from `offset` on. offset 0 starts a record: a frame whose
  // record fits the ring goes in whole or not at all; a larger one starts as
  // soon as its length and one byte fit. Returns the new offset (== offset
  // when there was no room), or kCorrupt. Publishes the tail.
  int64_t Write(const uint8_t* frame, uint32_t length, uint32_t offset) {
    const Span span{frame, length};
    return WriteGathered(&span, 1, length, offset);
  }

  // As Write, for a frame given as `count` spans written back to back
  // (`length` is their sum).
  int64_t WriteGathered(const Span* spans, size_t count, uint32_t length, uint32_t offset) {
    const int64_t room = Room();
    if (room < 0) return room;
    const uint32_t free = static_cast<uint32_t>(room);
    uint32_t take;
    if (offset == 0) {
      const uint64_t record = uint64_t{kRecordHeaderBytes} + length;
      if (record <= area_.capacity()) {
        if (free < record) return 0;
        take = length;
      } else {
        if (free <= kRecordHeaderBytes) return 0;
        take = free - kRecordHeaderBytes;
      }
      uint8_t prefix[kRecordHeaderBytes];
      std::memcpy(prefix, &length, sizeof prefix);
      area_.CopyIn(tail_, prefix, kRecordHeaderBytes);
      tail_ += kRecordHeaderBytes;
    } else {
      take = length - offset < free ? length - offset : free;
      if (take == 0) return offset;
    }
    CopySpans(spans, count, offset, take);
    header_->tail.store(tail_, std::memory_order_seq_cst);
    return int64_t{offset} + take;
  }

  // Writes whole records for frames[0..count) while they fit, publishing the
  // tail once for all of them (one store the reader's cache must fetch, not
  // one per frame). Returns how many were written, or kCorrupt. Every frame's
  // record must fit the ring (4 + length <= capacity).
  int64_t WriteWhole(const Span* frames, size_t count) {
    const int64_t room = Room();
    if (room < 0) return room;
    uint32_t free = static_cast<uint32_t>(room);
    size_t written = 0;
    while (written < count) {
      const Span& frame = frames[written];
      const uint64_t record = uint64_t{kRecordHeaderBytes} + frame.length;
      if (frame.length == 0 || record > free) break;
      uint8_t prefix[kRecordHeaderBytes];
      std::memcpy(prefix, &frame.length, sizeof prefix);
      area_.CopyIn(tail_, prefix, kRecordHeaderBytes);
      area_.CopyIn(tail_ + kRecordHeaderBytes, frame.data, frame.length);
      tail_ += static_cast<uint32_t>(record);
      free -= static_cast<uint32_t>(record);
      written++;
    }
    if (written > 0) header_->tail.store(tail_, std::memory_order_seq_cst);
    return static_cast<int64_t>(written);
  }

  // Free bytes, or kCorrupt when the published head is impossible.
  int64_t Room() const {
    const uint32_t used = tail_ - header_->head.load(std::memory_order_acquire);
    if (used > area_.capacity()) return kCorrupt;
    return area_.capacity() - used;
  }

  // Whether the reader asked to be woken; clears the request (so it is rung once).
  bool TakeWakeRequest() {
    return header_->readerSleeping.load(std::memory_order_seq_cst) != 0 &&
           header_->readerSleeping.exchange(0, std::memory_order_seq_cst) != 0;
  }

  // Asks the reader to ring when it frees room; then re-checks, so a read that
  // raced with the request is not missed. True: sleep; false: room is there.
  bool RequestWakeWhenRoom(uint32_t needed) {
    header_->writerWaiting.store(1, std::memory_order_seq_cst);
    const int64_t room = Room();
    if (room < 0 || room >= needed) {
      header_->writerWaiting.store(0, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  void CancelWakeRequest() { header_->writerWaiting.store(0, std::memory_order_relaxed); }

  uint32_t capacity() const { return area_.capacity(); }

 private:
  // Copies `take` bytes of the spans' concatenation, from `offset`, to the tail.
  void CopySpans(const Span* spans, size_t count, uint32_t offset, uint32_t take) {
    size_t i = 0;
    while (i < count && offset >= spans[i].length) offset -= spans[i++].length;
    while (take > 0 && i < count) {
      const uint32_t chunk = spans[i].length - offset < take ? spans[i].length - offset : take;
      area_.CopyIn(tail_, spans[i].data + offset, chunk);
      tail_ += chunk;
      take -= chunk;
      offset = 0;
      i++;
    }
  }

  Header* header_;
  Area area_;
  // Starts at 0: a segment is zeroed when created, and nothing the peer
  // wrote there before is believed.
  uint32_t tail_ = 0;
};

// The consuming end of one ring.
class Reader {
 public:
  Reader(uint8_t* ring, uint32_t capacity, uint32_t maxFrame)
      : header_(HeaderAt(ring)), area_(ring + kHeaderBytes, capacity), maxFrame_(maxFrame) {}

  // Bytes the writer has published and this side has not read, or kCorrupt.
  int64_t Available() const {
    const uint32_t used = header_->tail.load(std::memory_order_acquire) - head_;
    if (used > area_.capacity()) return kCorrupt;
    return used;
  }

  bool HasInput() const { return header_->tail.load(std::memory_order_acquire) != head_; }

  // Copies whole records that are complete in the ring and fit in
  // out[0, outLength) back to back, storing each frame's end (relative to
  // `out`) in ends[]. Returns the number of frames, or kCorrupt / kTooLarge.
  // Stops at a record that is incomplete, too big for `out`, or mid-piece.
  int64_t ReadWhole(uint8_t* out, uint32_t outLength, uint32_t* ends, uint32_t maxEnds) {
    if (pieceLeft_ != 0) return 0;
    const int64_t available = Available();
    if (available < 0) return available;
    uint32_t left = static_cast<uint32_t>(available);
    uint32_t written = 0;
    uint32_t count = 0;
    while (count < maxEnds && left >= kRecordHeaderBytes) {
      const int64_t length = PeekLength(left);
      // A bad record after good ones: hand over the good ones first; the
      // next call reports it.
      if (length < 0) {
        if (count > 0) break;
        return length;
      }
      const uint32_t body = static_cast<uint32_t>(length);
      if (body > left - kRecordHeaderBytes || body > outLength - written) break;
      area_.CopyOut(head_ + kRecordHeaderBytes, out + written, body);
      head_ += kRecordHeaderBytes + body;
      left -= kRecordHeaderBytes + body;
      written += body;
      ends[count++] = written;
    }
    if (count > 0) Publish();
    return count;
  }

  // The length of the next record (the one in pieces, if one is), kNotYet
  // when its length has not arrived, or kCorrupt / kTooLarge.
  int64_t NextLength() const {
    if (pieceLeft_ != 0) return pieceLength_;
    const int64_t available = Available();
    if (available < 0) return available;
    if (available < kRecordHeaderBytes) return kNotYet;
    return PeekLength(static_cast<uint32_t>(available));
  }

  // Copies what has arrived of the next record into out[offset, length) where
  // `length` is that record's length (from NextLength). Returns the new
  // offset, or kCorrupt / kTooLarge. Used for records that cannot be read whole.
  int64_t ReadPiece(uint8_t* out, uint32_t length, uint32_t offset) {
    const int64_t available = Available();
    if (available < 0) return available;
    uint32_t left = static_cast<uint32_t>(available);
    if (pieceLeft_ == 0) {
      if (offset != 0) return kCorrupt;
      if (left < kRecordHeaderBytes) return 0;
      const int64_t announced = PeekLength(left);
      if (announced < 0) return announced;
      if (static_cast<uint32_t>(announced) != length) return kCorrupt;
      head_ += kRecordHeaderBytes;
      left -= kRecordHeaderBytes;
      pieceLength_ = length;
      pieceLeft_ = length;
    } else if (length != pieceLength_ || offset != pieceLength_ - pieceLeft_) {
      return kCorrupt;
    }
    const uint32_t take = left < pieceLeft_ ? left : pieceLeft_;
    area_.CopyOut(head_, out + offset, take);
    head_ += take;
    pieceLeft_ -= take;
    Publish();
    return int64_t{offset} + take;
  }

  bool TakeWakeRequest() {
    return header_->writerWaiting.load(std::memory_order_seq_cst) != 0 &&
           header_->writerWaiting.exchange(0, std::memory_order_seq_cst) != 0;
  }

  // Asks the writer to ring on new data, then re-checks. True: sleep.
  bool RequestWakeOnData() {
    header_->readerSleeping.store(1, std::memory_order_seq_cst);
    if (HasInput()) {
      header_->readerSleeping.store(0, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  void CancelWakeRequest() { header_->readerSleeping.store(0, std::memory_order_relaxed); }

 private:
  // The length at head_, of which `available` (at least four) bytes are
  // published. A record that fits the ring is published whole by an honest
  // writer, so one that is visible only in part is corrupt (waiting for the
  // rest would wait forever, busy).
  int64_t PeekLength(uint32_t available) const {
    uint8_t prefix[kRecordHeaderBytes];
    area_.CopyOut(head_, prefix, kRecordHeaderBytes);
    uint32_t length;
    std::memcpy(&length, prefix, sizeof length);
    if (length == 0) return kCorrupt;
    if (length > maxFrame_) return kTooLarge;
    const uint64_t record = uint64_t{kRecordHeaderBytes} + length;
    if (record <= area_.capacity() && record > available) return kCorrupt;
    return length;
  }

  void Publish() { header_->head.store(head_, std::memory_order_seq_cst); }

  Header* header_;
  Area area_;
  uint32_t maxFrame_;
  uint32_t head_ = 0;
  uint32_t pieceLength_ = 0;
  uint32_t pieceLeft_ = 0;
};

}  // namespace ring
}  // namespace procwire
