// POSIX message queues. Every descriptor is non-blocking and every send and
// receive carries an expired deadline, so no call here can ever wait: a full
// queue is `false`, an empty one is -1, and waiting is FdWatcher's job (on
// Linux a queue descriptor is a file descriptor that epoll accepts).
#include "exports.h"

#ifdef __linux__

#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>
#include <time.h>

#include "args.h"
#include "errors.h"
#include "retry.h"
#include "state.h"

namespace procwire {

namespace {

// Already in the past: a descriptor made blocking behind our back gets
// ETIMEDOUT instead of stalling the event loop.
const struct timespec kExpired = {0, 0};

// Linux refuses attributes above /proc/sys/fs/mqueue/*_max (EINVAL) unless
// the caller has CAP_SYS_RESOURCE; the kernel is the judge, not this code.
struct mq_attr* AttrFor(int flags, long maxMessages, long messageSize, struct mq_attr* attr) {
  if ((flags & O_CREAT) == 0 || (maxMessages == 0 && messageSize == 0)) return nullptr;
  *attr = {};
  attr->mq_maxmsg = maxMessages;
  attr->mq_msgsize = messageSize;
  return attr;
}

[[noreturn]] void ThrowCreated(Napi::Env env, mqd_t mqd, const std::string& name, const char* syscall) {
  int error = errno;
  mq_close(mqd);
  mq_unlink(name.c_str());
  ThrowErrno(env, error, syscall, &name);
}

// Opens or creates a queue. A queue this call creates gets exactly `mode`:
// it is made 0400 with O_EXCL, so nobody else can open it meanwhile, then
// fchmod-ed (a queue descriptor is a file descriptor on Linux). Without
// O_EXCL the create is tried first and an existing queue is opened as it is.
mqd_t OpenQueue(Napi::Env env, const std::string& name, int flags, unsigned mode, struct mq_attr* attr) {
  const int base = flags | O_CLOEXEC | O_NONBLOCK;
  if ((flags & O_CREAT) == 0) {
    mqd_t mqd = RetryOnEintr([&] { return mq_open(name.c_str(), base); });
    if (mqd == -1) ThrowErrno(env, errno, "mq_open", &name);
    return mqd;
  }
  // Bounded: each round lost a race with another process's create or unlink.
  for (int attempt = 0; attempt < 100; attempt++) {
    mqd_t mqd = RetryOnEintr([&] { return mq_open(name.c_str(), base | O_EXCL, S_IRUSR, attr); });
    if (mqd != -1) {
      if (fchmod(mqd, mode) != 0) ThrowCreated(env, mqd, name, "fchmod");
      return mqd;
    }
    if (errno != EEXIST || (flags & O_EXCL) != 0) ThrowErrno(env, errno, "mq_open", &name);
    mqd = RetryOnEintr([&] { return mq_open(name.c_str(), base & ~O_CREAT); });
    if (mqd != -1) return mqd;
    if (errno != ENOENT) ThrowErrno(env, errno, "mq_open", &name);
  }
  ThrowErrno(env, EAGAIN, "mq_open", &name);
}

Napi::Value MqOpen(const Napi::CallbackInfo& info) {
  const std::string name = StringArg(info, 0, "name");
  const int flags = static_cast<int>(IntegerArg(info, 1, "flags", 0, INT32_MAX));
  const unsigned mode = ModeArg(info, 2, "mode");
  const long maxMessages = static_cast<long>(IntegerArg(info, 3, "maxMessages", 0, INT32_MAX));
  const long messageSize = static_cast<long>(IntegerArg(info, 4, "messageSize", 0, INT32_MAX));
  struct mq_attr attr;
  mqd_t mqd = OpenQueue(info.Env(), name, flags, mode, AttrFor(flags, maxMessages, messageSize, &attr));
  return Napi::Number::New(info.Env(), mqd);
}

Napi::Value MqSend(const Napi::CallbackInfo& info) {
  const int mqd = DescriptorArg(info, 0, "mqd");
  const ByteView data = BytesArg(info, 1, "data");
  const unsigned priority = static_cast<unsigned>(IntegerArg(info, 2, "priority", 0, UINT32_MAX));
  const char* bytes = data.data == nullptr ? "" : reinterpret_cast<const char*>(data.data);
  int result = RetryOnEintr([&] { return mq_timedsend(mqd, bytes, data.length, priority, &kExpired); });
  if (result == 0) return Napi::Boolean::New(info.Env(), true);
  if (errno == EAGAIN || errno == ETIMEDOUT) return Napi::Boolean::New(info.Env(), false);
  ThrowErrno(info.Env(), errno, "mq_send");
}

Napi::Value MqReceive(const Napi::CallbackInfo& info) {
  const int mqd = DescriptorArg(info, 0, "mqd");
  const ByteView into = BytesArg(info, 1, "into");
  char empty;
  char* bytes = into.data == nullptr ? &empty : reinterpret_cast<char*>(into.data);
  ssize_t received = RetryOnEintr([&] { return mq_timedreceive(mqd, bytes, into.length, nullptr, &kExpired); });
  if (received >= 0) return Napi::Number::New(info.Env(), static_cast<double>(received));
  if (errno == EAGAIN || errno == ETIMEDOUT) return Napi::Number::New(info.Env(), -1);
  ThrowErrno(info.Env(), errno, "mq_receive");
}

Napi::Value MqGetAttr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int mqd = DescriptorArg(info, 0, "mqd");
  struct mq_attr attr;
  if (mq_getattr(mqd, &attr) != 0) ThrowErrno(env, errno, "mq_getattr");
  Napi::Object result = Napi::Object::New(env);
  result.Set("maxMessages", Napi::Number::New(env, static_cast<double>(attr.mq_maxmsg)));
  result.Set("messageSize", Napi::Number::New(env, static_cast<double>(attr.mq_msgsize)));
  result.Set("currentMessages", Napi::Number::New(env, static_cast<double>(attr.mq_curmsgs)));
  result.Set("flags", Napi::Number::New(env, static_cast<double>(attr.mq_flags)));
  return result;
}

void MqClose(const Napi::CallbackInfo& info) {
  const int mqd = DescriptorArg(info, 0, "mqd");
  AddonState::Of(info.Env()).ReleaseWatcherOn(mqd);
  // mq_close is close() on Linux: no retry on EINTR (see retry.h).
  if (mq_close(mqd) != 0 && errno != EINTR) ThrowErrno(info.Env(), errno, "mq_close");
}

void MqUnlink(const Napi::CallbackInfo& info) {
  const std::string name = StringArg(info, 0, "name");
  if (RetryOnEintr([&] { return mq_unlink(name.c_str()); }) != 0) ThrowErrno(info.Env(), errno, "mq_unlink", &name);
}

}  // namespace

void InitMqueue(Napi::Env env, Napi::Object exports) {
  exports.Set("mqOpen", Napi::Function::New<MqOpen>(env, "mqOpen"));
  exports.Set("mqSend", Napi::Function::New<MqSend>(env, "mqSend"));
  exports.Set("mqReceive", Napi::Function::New<MqReceive>(env, "mqReceive"));
  exports.Set("mqGetAttr", Napi::Function::New<MqGetAttr>(env, "mqGetAttr"));
  exports.Set("mqClose", Napi::Function::New<MqClose>(env, "mqClose"));
  exports.Set("mqUnlink", Napi::Function::New<MqUnlink>(env, "mqUnlink"));
}

}  // namespace procwire

#else  // no POSIX message queues with descriptors (macOS has none at all)

#include <cerrno>

#include "errors.h"

namespace procwire {

namespace {

Napi::Value Unsupported(const Napi::CallbackInfo& info) {
  ThrowErrno(info.Env(), ENOSYS, static_cast<const char*>(info.Data()));
}

}  // namespace

void InitMqueue(Napi::Env env, Napi::Object exports) {
  static const char* const kNames[][2] = {{"mqOpen", "mq_open"},       {"mqSend", "mq_send"},
                                          {"mqReceive", "mq_receive"}, {"mqGetAttr", "mq_getattr"},
                                          {"mqClose", "mq_close"},     {"mqUnlink", "mq_unlink"}};
  for (const auto& name : kNames) {
    exports.Set(name[0], Napi::Function::New<Unsupported>(env, name[0], const_cast<char*>(name[1])));
  }
}

}  // namespace procwire

#endif
