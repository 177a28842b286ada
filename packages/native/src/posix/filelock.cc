// Byte-range locks owned by an open file description (Linux "OFD" locks,
// fcntl F_OFD_SETLK / F_OFD_GETLK). Unlike classic POSIX record locks, which
// belong to a process and vanish when *any* of its descriptors on the file
// closes, an OFD lock belongs to one open(2) of the file: two opens conflict
// even inside one process, and the kernel drops the lock when the last
// descriptor of that open closes, which includes the death of the holder by
// any signal. Every call here is a try: nothing ever waits for a lock
// (F_OFD_SETLKW is never used), so waiting is the caller's policy.
#include "exports.h"

#include <fcntl.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "retry.h"

namespace procwire {

namespace {

// Offsets and lengths are JavaScript numbers: exact up to 2^53 - 1.
constexpr int64_t kMaxSafeInteger = 9007199254740991;

struct Range {
  int fd;
  off_t start;
  off_t length;
};

// (fd, start, length): length 0 ("to the end of the file and beyond" in
// fcntl) is refused, so every range names the bytes it locks.
Range RangeArgs(const Napi::CallbackInfo& info) {
  Range range;
  range.fd = DescriptorArg(info, 0, "fd");
  range.start = static_cast<off_t>(IntegerArg(info, 1, "start", 0, kMaxSafeInteger));
  range.length = static_cast<off_t>(IntegerArg(info, 2, "length", 1, kMaxSafeInteger));
  return range;
}

#ifdef F_OFD_SETLK

struct flock LockOf(const Range& range, short type) {
  struct flock lock;
  // l_pid must be 0 for OFD commands (EINVAL otherwise).
  std::memset(&lock, 0, sizeof lock);
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = range.start;
  lock.l_len = range.length;
  return lock;
}

// true when locked; false when another open file description holds a
// conflicting lock (EAGAIN, or EACCES as POSIX also allows).
Napi::Value TryLock(const Napi::CallbackInfo& info, short type) {
  const Range range = RangeArgs(info);
  struct flock lock = LockOf(range, type);
  if (RetryOnEintr([&] { return fcntl(range.fd, F_OFD_SETLK, &lock); }) == 0) {
    return Napi::Boolean::New(info.Env(), true);
  }
  if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(info.Env(), false);
  ThrowErrno(info.Env(), errno, "fcntl");
}

Napi::Value FileLockTry(const Napi::CallbackInfo& info) {
  return TryLock(info, F_WRLCK);
}

Napi::Value FileLockTryShared(const Napi::CallbackInfo& info) {
  return TryLock(info, F_RDLCK);
}

void FileUnlock(const Napi::CallbackInfo& info) {
  const Range range = RangeArgs(info);
  struct flock lock = LockOf(range, F_UNLCK);
  if (RetryOnEintr([&] { return fcntl(range.fd, F_OFD_SETLK, &lock); }) != 0) ThrowErrno(info.Env(), errno, "fcntl");
}

// The first lock of another open file description that would conflict with
// an exclusive lock on the range, or null. Locks of `fd`'s own description
// never conflict with it and are not reported.
Napi::Value FileLockQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Range range = RangeArgs(info);
  struct flock lock = LockOf(range, F_WRLCK);
  if (RetryOnEintr([&] { return fcntl(range.fd, F_OFD_GETLK, &lock); }) != 0) ThrowErrno(env, errno, "fcntl");
  if (lock.l_type == F_UNLCK) return env.Null();
  Napi::Object result = Napi::Object::New(env);
  result.Set("start", Napi::Number::New(env, static_cast<double>(lock.l_start)));
  // 0 from the kernel means "to the end of the file and beyond".
  result.Set("length", lock.l_len == 0 ? Napi::Number::New(env, INFINITY)
                                       : Napi::Number::New(env, static_cast<double>(lock.l_len)));
  result.Set("shared", Napi::Boolean::New(env, lock.l_type == F_RDLCK));
  return result;
}

#else  // no OFD locks (macOS, the BSDs): classic POSIX locks cannot stand in

// Process-owned locks would make two permits of one process not conflict and
// drop every permit when any descriptor closes, so there is no fallback: the
// arguments are still checked, then the call fails with ENOSYS.
Napi::Value Unsupported(const Napi::CallbackInfo& info) {
  RangeArgs(info);
  ThrowErrno(info.Env(), ENOSYS, "fcntl");
}

Napi::Value FileLockTry(const Napi::CallbackInfo& info) {
  return Unsupported(info);
}

Napi::Value FileLockTryShared(const Napi::CallbackInfo& info) {
  return Unsupported(info);
}

void FileUnlock(const Napi::CallbackInfo& info) {
  Unsupported(info);
}

Napi::Value FileLockQuery(const Napi::CallbackInfo& info) {
  return Unsupported(info);
}

#endif

}  // namespace

void InitFileLock(Napi::Env env, Napi::Object exports) {
  exports.Set("fileLockTry", Napi::Function::New<FileLockTry>(env, "fileLockTry"));
  exports.Set("fileLockTryShared", Napi::Function::New<FileLockTryShared>(env, "fileLockTryShared"));
  exports.Set("fileUnlock", Napi::Function::New<FileUnlock>(env, "fileUnlock"));
  exports.Set("fileLockQuery", Napi::Function::New<FileLockQuery>(env, "fileLockQuery"));
}

}  // namespace procwire
