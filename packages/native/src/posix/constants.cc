// The numbers a caller combines into flags or compares errors against, taken
// from this platform's headers rather than hard-coded in TypeScript.
#include <fcntl.h>
#include <uv.h>

#include <cerrno>

#include "exports.h"

namespace procwire {

namespace {

#ifdef __linux__
// Where Linux keeps the defaults and ceilings of mq_open's attributes.
constexpr const char* kMqDefaultMaxMessages = "/proc/sys/fs/mqueue/msg_default";
constexpr const char* kMqDefaultMessageSize = "/proc/sys/fs/mqueue/msgsize_default";
constexpr const char* kMqMaxMessages = "/proc/sys/fs/mqueue/msg_max";
constexpr const char* kMqMaxMessageSize = "/proc/sys/fs/mqueue/msgsize_max";
#else
constexpr const char* kMqDefaultMaxMessages = "";
constexpr const char* kMqDefaultMessageSize = "";
constexpr const char* kMqMaxMessages = "";
constexpr const char* kMqMaxMessageSize = "";
#endif

}  // namespace

void InitConstants(Napi::Env env, Napi::Object exports) {
  Napi::Object constants = Napi::Object::New(env);
  auto number = [&](const char* name, int value) { constants.Set(name, Napi::Number::New(env, value)); };
  number("O_RDONLY", O_RDONLY);
  number("O_WRONLY", O_WRONLY);
  number("O_RDWR", O_RDWR);
  number("O_CREAT", O_CREAT);
  number("O_EXCL", O_EXCL);
  number("O_NONBLOCK", O_NONBLOCK);
  number("O_NOFOLLOW", O_NOFOLLOW);
  number("POLL_READABLE", UV_READABLE);
  number("POLL_WRITABLE", UV_WRITABLE);
  number("POLL_DISCONNECT", UV_DISCONNECT);
  // Positive, as in os.constants.errno; an Error's `errno` is the negation.
  number("EAGAIN", EAGAIN);
  number("ENXIO", ENXIO);
  number("EEXIST", EEXIST);
  number("ENOENT", ENOENT);
  number("EACCES", EACCES);
  number("EINTR", EINTR);
  number("EBADF", EBADF);
  number("EINVAL", EINVAL);
  number("EMSGSIZE", EMSGSIZE);
  number("EPIPE", EPIPE);
  number("ENOSYS", ENOSYS);
  constants.Set("MQ_DEFAULT_MAX_MESSAGES_PATH", kMqDefaultMaxMessages);
  constants.Set("MQ_DEFAULT_MESSAGE_SIZE_PATH", kMqDefaultMessageSize);
  constants.Set("MQ_MAX_MESSAGES_PATH", kMqMaxMessages);
  constants.Set("MQ_MAX_MESSAGE_SIZE_PATH", kMqMaxMessageSize);
  constants.Freeze();
  exports.Set("constants", constants);
}

}  // namespace procwire
