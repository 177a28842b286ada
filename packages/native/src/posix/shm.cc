// Shared memory for the shm: transport: sealed memfd segments, eventfd
// doorbells, and ShmChannel, one end of a connection's pair of rings
// (src/common/shmChannel.h over src/common/ring.h). All mechanism: who
// creates, how the pieces meet and when to sleep is decided in TypeScript.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <cstdint>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "retry.h"
#include "ring.h"
#include "shmChannel.h"

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

// The POSIX side of ShmChannel (src/common/shmChannel.h): a sealed segment
// the peer handed over as a descriptor, mapped whole, and two eventfds as
// the bells.
class PosixSegment {
 public:
  static constexpr bool kDescribesSecurity = false;

  // new ShmChannel(fd, side, capacity, maxFrameBytes, ownBellFd, peerBellFd)
  explicit PosixSegment(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const int fd = DescriptorArg(info, 0, "fd");
    shape_ = RingShapeArgs(info);
    ownBell_ = DescriptorArg(info, 4, "ownBellFd");
    peerBell_ = DescriptorArg(info, 5, "peerBellFd");
    CheckCapacity(env, shape_);
    if (!kHaveSegments) ThrowErrno(env, ENOSYS, "mmap");
    const size_t length = shape_.SegmentBytes();
    struct stat st;
    if (fstat(fd, &st) != 0) ThrowErrno(env, errno, "fstat");
    // A segment of another size was not made for these rings: mapping it
    // could reach past its end (SIGBUS).
    if (static_cast<uint64_t>(st.st_size) != length) ThrowErrno(env, EINVAL, "mmap");
    void* base = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) ThrowErrno(env, errno, "mmap");
    base_ = static_cast<uint8_t*>(base);
  }

  PosixSegment(const PosixSegment&) = delete;
  PosixSegment& operator=(const PosixSegment&) = delete;
  ~PosixSegment() { Release(); }

  const RingShape& shape() const { return shape_; }
  uint8_t* base() const { return base_; }

  // The bells are the caller's descriptors: they stay open.
  void Release() {
    if (base_ == nullptr) return;
    munmap(base_, shape_.SegmentBytes());
    base_ = nullptr;
  }

  void RingPeer() {
    const uint64_t one = 1;
    // EAGAIN (the counter is full) still leaves the bell ringing; any other
    // failure means the descriptor is gone, and the link is closing anyway.
    (void)RetryOnEintr([&] { return write(peerBell_, &one, sizeof one); });
  }

  // One read of the eventfd zeroes its counter.
  void SilenceOwnBell() {
    uint64_t count;
    (void)RetryOnEintr([&] { return read(ownBell_, &count, sizeof count); });
  }

  static void Relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  static void YieldCpu() { sched_yield(); }

  static uint64_t NowNs() {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000000000u + static_cast<uint64_t>(now.tv_nsec);
  }

  // What the peer wrote cannot be right: EPROTO (bad cursor or length) or
  // EMSGSIZE (a record above the frame limit).
  [[noreturn]] static void ThrowRingError(Napi::Env env, int64_t status, const char* syscall) {
    ThrowErrno(env, status == ring::kTooLarge ? EMSGSIZE : EPROTO, syscall);
  }

 private:
  RingShape shape_{};
  uint8_t* base_ = nullptr;
  int ownBell_ = -1;
  int peerBell_ = -1;
};

}  // namespace

void InitShm(Napi::Env env, Napi::Object exports) {
  exports.Set("createSegment", Napi::Function::New<CreateSegment>(env, "createSegment"));
  exports.Set("segmentInfo", Napi::Function::New<SegmentInfo>(env, "segmentInfo"));
  exports.Set("createEventFd", Napi::Function::New<CreateEventFd>(env, "createEventFd"));
  exports.Set("ShmChannel", ShmChannel<PosixSegment>::DefineClass(env));
}

}  // namespace procwire
