// Every call this addon makes is non-blocking, so a signal can only interrupt
// it before it did anything: retrying on EINTR is always correct here, and it
// keeps EINTR out of the JavaScript error surface. (close() is the exception
// and does not use this: Linux releases the descriptor even when close()
// reports EINTR, so retrying could close a descriptor another thread just got.)
#pragma once

#include <cerrno>

namespace procwire {

template <typename Call>
auto RetryOnEintr(Call call) -> decltype(call()) {
  decltype(call()) result;
  do {
    result = call();
  } while (result == -1 && errno == EINTR);
  return result;
}

}  // namespace procwire
