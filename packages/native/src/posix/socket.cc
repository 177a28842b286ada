// Unix seqpacket sockets that carry descriptors (SCM_RIGHTS) and tell who
// the peer is (SO_PEERCRED): what Node's `net` cannot do. The shm: transport
// meets its clients on one: each connection's segment and doorbells travel
// over it, and the kernel closing it is how either side learns the other died.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"
#include "retry.h"
#include "state.h"

namespace procwire {

namespace {

// Descriptors one message may carry (the shm: handshake passes three).
constexpr size_t kMaxPassedFds = 8;

sockaddr_un AddressOf(Napi::Env env, const std::string& path, socklen_t* length) {
  sockaddr_un address;
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) ThrowErrno(env, ENAMETOOLONG, "bind", &path);
  std::memcpy(address.sun_path, path.data(), path.size());
  *length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return address;
}

// One descriptor held in reserve for the moment the process has none left.
// accept() then fails with EMFILE and leaves the connection in the backlog,
// so the listener stays readable and a level-triggered poll reports it again
// at once, for as long as descriptors stay short: a busy loop, with the
// client waiting for its handshake to time out. Closing the reserve frees one
// slot to take the waiting connections and close them at once (their
// clients learn right away), then the reserve is taken again. libuv does the
// same for Node's own servers. Process-wide, like the descriptor table.
std::mutex spareLock;
int spareFd = -1;

void ReserveSpareLocked() {
  if (spareFd < 0) spareFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

void ReserveSpare() {
  std::lock_guard<std::mutex> guard(spareLock);
  ReserveSpareLocked();
}

// Turns away the connections waiting on `listener` while descriptors are
// short. False when there was no reserve to do it with.
bool ShedWaitingConnections(int listener) {
  std::lock_guard<std::mutex> guard(spareLock);
  ReserveSpareLocked();  // released earlier and not taken back yet: try now
  if (spareFd < 0) return false;
  close(spareFd);
  spareFd = -1;
  for (;;) {
#ifdef __linux__
    int turnedAway = RetryOnEintr([&] { return accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); });
#else
    int turnedAway = RetryOnEintr([&] { return accept(listener, nullptr, nullptr); });
#endif
    if (turnedAway < 0) break;  // EAGAIN: none left; EMFILE: another thread took the slot
    close(turnedAway);
  }
  ReserveSpareLocked();
  return true;
}

int NewSocket(Napi::Env env) {
#ifdef SOCK_CLOEXEC
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, errno, "socket");
#else
  int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
  if (fd < 0) ThrowErrno(env, errno, "socket");
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
#endif
  return fd;
}

// seqpacketListen(path, backlog) -> fd. The socket file gets the process's
// umask; callers bind inside a private directory.
Napi::Value SeqpacketListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  const int backlog = static_cast<int>(IntegerArg(info, 1, "backlog", 1, 65535));
  socklen_t length;
  sockaddr_un address = AddressOf(env, path, &length);
  ReserveSpare();
  int fd = NewSocket(env);
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 || listen(fd, backlog) != 0) {
    int error = errno;
    close(fd);
    ThrowErrno(env, error, "bind", &path);
  }
  return Napi::Number::New(env, fd);
}

// seqpacketConnect(path) -> fd, connected (a Unix socket connects at once or
// fails: ECONNREFUSED nobody listens, ENOENT no such file, EAGAIN backlog full).
Napi::Value SeqpacketConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  socklen_t length;
  sockaddr_un address = AddressOf(env, path, &length);
  int fd = NewSocket(env);
  if (RetryOnEintr([&] { return connect(fd, reinterpret_cast<sockaddr*>(&address), length); }) != 0) {
    int error = errno;
    close(fd);
    ThrowErrno(env, error, "connect", &path);
  }
  return Napi::Number::New(env, fd);
}

// socketAccept(fd) -> new fd (non-blocking, close-on-exec), or -1 when no
// connection is waiting. Out of descriptors (EMFILE, ENFILE), the waiting
// connections are closed and -1 returned, so that the caller's poll does not
// spin on a listener that stays readable (see ShedWaitingConnections).
Napi::Value SocketAccept(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = DescriptorArg(info, 0, "fd");
#ifdef __linux__
  int client = RetryOnEintr([&] { return accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); });
#else
  int client = RetryOnEintr([&] { return accept(fd, nullptr, nullptr); });
  if (client >= 0) {
    fcntl(client, F_SETFD, FD_CLOEXEC);
    fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
  }
#endif
  if (client < 0) {
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK || error == ECONNABORTED) {
      // Nothing waits: a moment to take back the reserve if shedding used it
      // while descriptors were still short (the count returns to what it was).
      ReserveSpare();
      return Napi::Number::New(env, -1);
    }
    if ((error == EMFILE || error == ENFILE) && ShedWaitingConnections(fd)) return Napi::Number::New(env, -1);
    ThrowErrno(env, error, "accept");
  }
  return Napi::Number::New(env, client);
}

// socketSend(fd, data, fds) -> true when sent, false when the socket is full.
Napi::Value SocketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = DescriptorArg(info, 0, "fd");
  ByteView data = BytesArg(info, 1, "data");
  Napi::Value fdsValue = info[2];
  if (!fdsValue.IsArray())
    ThrowWithCode(Napi::TypeError::New(env, "The \"fds\" argument must be an array of descriptors"),
                  "ERR_INVALID_ARG_TYPE");
  Napi::Array fdsArray = fdsValue.As<Napi::Array>();
  if (fdsArray.Length() > kMaxPassedFds) ThrowErrno(env, E2BIG, "sendmsg");
  std::vector<int> fds;
  for (uint32_t i = 0; i < fdsArray.Length(); i++) {
    Napi::Value value = fdsArray.Get(i);
    double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
    if (!(number >= 0 && number <= INT32_MAX && static_cast<int>(number) == number)) ThrowErrno(env, EBADF, "sendmsg");
    fds.push_back(static_cast<int>(number));
  }
  iovec vector{data.data, data.length};
  msghdr message;
  std::memset(&message, 0, sizeof message);
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  if (!fds.empty()) {
    std::memset(control, 0, sizeof control);
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
#ifdef MSG_NOSIGNAL
  const int flags = MSG_NOSIGNAL;
#else
  const int flags = 0;
#endif
  ssize_t sent = RetryOnEintr([&] { return sendmsg(fd, &message, flags); });
  if (sent < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
    ThrowErrno(env, errno, "sendmsg");
  }
  return Napi::Boolean::New(env, true);
}

void CloseAll(const std::vector<int>& fds) {
  for (int fd : fds) close(fd);
}

// socketReceive(fd, into) -> { bytes, fds } (bytes 0: the peer closed), or
// null when nothing is waiting. A message longer than `into`, or carrying
// more descriptors than one message may, is refused with EMSGSIZE and any
// descriptors it carried are closed.
Napi::Value SocketReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = DescriptorArg(info, 0, "fd");
  ByteView into = BytesArg(info, 1, "into");
  iovec vector{into.data, into.length};
  msghdr message;
  std::memset(&message, 0, sizeof message);
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  message.msg_control = control;
  message.msg_controllen = sizeof control;
#ifdef MSG_CMSG_CLOEXEC
  const int flags = MSG_CMSG_CLOEXEC;
#else
  const int flags = 0;
#endif
  ssize_t received = RetryOnEintr([&] { return recvmsg(fd, &message, flags); });
  if (received < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return env.Null();
    ThrowErrno(env, errno, "recvmsg");
  }
  std::vector<int> fds;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(header) + i * sizeof(int), sizeof passed);
      fds.push_back(passed);
    }
  }
  if ((message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
    CloseAll(fds);
    ThrowErrno(env, EMSGSIZE, "recvmsg");
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("bytes", Napi::Number::New(env, static_cast<double>(received)));
  Napi::Array list = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) list.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
  result.Set("fds", list);
  return result;
}

// socketPeerCredentials(fd) -> { pid, uid, gid } of the process at the other
// end, as the kernel recorded it at connect (Linux SO_PEERCRED).
Napi::Value SocketPeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int fd = DescriptorArg(info, 0, "fd");
#ifdef SO_PEERCRED
  ucred credentials;
  socklen_t length = sizeof credentials;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) ThrowErrno(env, errno, "getsockopt");
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, credentials.pid));
  result.Set("uid", Napi::Number::New(env, credentials.uid));
  result.Set("gid", Napi::Number::New(env, credentials.gid));
  return result;
#else
  (void)fd;
  ThrowErrno(env, ENOSYS, "getsockopt");
#endif
}

}  // namespace

void InitSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("seqpacketListen", Napi::Function::New<SeqpacketListen>(env, "seqpacketListen"));
  exports.Set("seqpacketConnect", Napi::Function::New<SeqpacketConnect>(env, "seqpacketConnect"));
  exports.Set("socketAccept", Napi::Function::New<SocketAccept>(env, "socketAccept"));
  exports.Set("socketSend", Napi::Function::New<SocketSend>(env, "socketSend"));
  exports.Set("socketReceive", Napi::Function::New<SocketReceive>(env, "socketReceive"));
  exports.Set("socketPeerCredentials", Napi::Function::New<SocketPeerCredentials>(env, "socketPeerCredentials"));
}

}  // namespace procwire
