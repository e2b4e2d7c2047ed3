#include "source/network/listen_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace remora::network {

void SocketFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {

absl::StatusOr<SocketFd> bindOne(const Address& address, int backlog, bool reuse_port) {
  SocketFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return absl::InternalError(absl::StrCat("socket(): ", std::strerror(errno)));
  int one = 1;
  if (!address.isPipe()) {
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuse_port) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (address.family() == AF_INET6) {
      setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
  } else if (address.asString()[0] != '@') {
    ::unlink(address.asString().c_str());  // A stale socket file from an earlier run.
  }
  if (::bind(fd.get(), address.sockAddr(), address.sockLen()) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind ", address.asString(), ": ", std::strerror(errno)));
  }
  if (::listen(fd.get(), backlog) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address.asString(), ": ", std::strerror(errno)));
  }
  return fd;
}

}  // namespace

absl::StatusOr<BoundListener> bindListener(const Address& address, int count, int backlog,
                                           bool reuse_port) {
  BoundListener out;
  // Unix sockets have no SO_REUSEPORT load spreading: one socket, shared by every worker.
  const bool pipe = address.isPipe();
  auto first = bindOne(address, backlog, reuse_port && !pipe);
  if (!first.ok()) return first.status();
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  ::getsockname(first->get(), reinterpret_cast<sockaddr*>(&ss), &len);
  out.address = pipe ? address : Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  out.sockets.push_back(std::move(*first));
  for (int i = 1; i < count; ++i) {
    if (pipe) {
      out.sockets.emplace_back(::fcntl(out.sockets[0].get(), F_DUPFD_CLOEXEC, 0));
      continue;
    }
    auto next = bindOne(out.address, backlog, true);
    if (!next.ok()) return next.status();
    out.sockets.push_back(std::move(*next));
  }
  return out;
}

}  // namespace remora::network
