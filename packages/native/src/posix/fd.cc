// Descriptors Node cannot make or inspect by itself: anonymous pipes (Node's
// stdio 'pipe' is a socketpair), FIFOs with an exact mode, open() with the
// caller's flags, and fstat fields for owner checks.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "retry.h"
#include "state.h"

namespace procwire {

namespace {

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
#ifdef __linux__
  if (pipe2(fds, O_CLOEXEC) != 0) ThrowErrno(info.Env(), errno, "pipe2");
#else
  // No pipe2: a fork between pipe() and fcntl() may leak these into a child.
  if (pipe(fds) != 0) ThrowErrno(info.Env(), errno, "pipe");
  fcntl(fds[0], F_SETFD, FD_CLOEXEC);
  fcntl(fds[1], F_SETFD, FD_CLOEXEC);
#endif
  Napi::Array result = Napi::Array::New(info.Env(), 2);
  result.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  result.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return result;
}

// The FIFO is created 0400 (nobody else can open it meanwhile), then opened
// without following symlinks and fchmod-ed to exactly `mode`: the umask never
// applies, and a path swapped in between is never chmod-ed.
void MakeFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const unsigned mode = ModeArg(info, 1, "mode");
  if (RetryOnEintr([&] { return mkfifo(path.c_str(), S_IRUSR); }) != 0) ThrowErrno(env, errno, "mkfifo", &path);
  // A FIFO opened for reading with O_NONBLOCK does not wait for a writer.
  int fd = RetryOnEintr([&] { return open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC); });
  if (fd < 0) {
    int error = errno;
    // ELOOP: a symlink replaced our FIFO, and that is not ours to remove.
    if (error != ELOOP) unlink(path.c_str());
    ThrowErrno(env, error, "open", &path);
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
    close(fd);  // someone replaced our FIFO: it is not ours to remove
    ThrowErrno(env, EEXIST, "mkfifo", &path);
  }
  if (fchmod(fd, mode) != 0) {
    int error = errno;
    close(fd);
    unlink(path.c_str());
    ThrowErrno(env, error, "fchmod", &path);
  }
  close(fd);
}

Napi::Value Open(const Napi::CallbackInfo& info) {
  const std::string path = StringArg(info, 0, "path");
  const int flags = static_cast<int>(IntegerArg(info, 1, "flags", 0, INT32_MAX));
  const unsigned mode = ModeArg(info, 2, "mode");
  int fd = RetryOnEintr([&] { return open(path.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode)); });
  if (fd < 0) ThrowErrno(info.Env(), errno, "open", &path);
  return Napi::Number::New(info.Env(), fd);
}

void Close(const Napi::CallbackInfo& info) {
  const int fd = DescriptorArg(info, 0, "fd");
  AddonState::Of(info.Env()).ReleaseWatcherOn(fd);
  // EINTR is not an error here: Linux has released the descriptor anyway.
  if (close(fd) != 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "close");
}

Napi::Value Fstat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = DescriptorArg(info, 0, "fd");
  struct stat st;
  if (fstat(fd, &st) != 0) ThrowErrno(env, errno, "fstat");
  Napi::Object result = Napi::Object::New(env);
  result.Set("mode", Napi::Number::New(env, st.st_mode));
  result.Set("uid", Napi::Number::New(env, st.st_uid));
  result.Set("gid", Napi::Number::New(env, st.st_gid));
  // Numbers, like fs.Stats without bigint: exact up to 2^53.
  result.Set("ino", Napi::Number::New(env, static_cast<double>(st.st_ino)));
  result.Set("dev", Napi::Number::New(env, static_cast<double>(st.st_dev)));
  result.Set("size", Napi::Number::New(env, static_cast<double>(st.st_size)));
  result.Set("isFifo", Napi::Boolean::New(env, S_ISFIFO(st.st_mode)));
  result.Set("isSocket", Napi::Boolean::New(env, S_ISSOCK(st.st_mode)));
  return result;
}

}  // namespace

void InitFd(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New<Pipe>(env, "pipe"));
  exports.Set("mkfifo", Napi::Function::New<MakeFifo>(env, "mkfifo"));
  exports.Set("open", Napi::Function::New<Open>(env, "open"));
  exports.Set("close", Napi::Function::New<Close>(env, "close"));
  exports.Set("fstat", Napi::Function::New<Fstat>(env, "fstat"));
}

}  // namespace procwire
