#include "test/support/sockets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace remora::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Waits for `events` on fd until the deadline; returns the revents, or 0 on timeout.
short pollOne(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, remainingMs(deadline));
    if (rc > 0) return p.revents;
    if (rc == 0) return 0;
    if (errno != EINTR) return POLLERR;
  }
}

sockaddr_in loopback(uint16_t port, const std::string& ip = "127.0.0.1") {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  return addr;
}

// Reads until done(result) or EOF/error/deadline.
ReadResult readLoop(int fd, Millis timeout, size_t max, bool stop_on_first) {
  ReadResult result;
  auto deadline = Clock::now() + timeout;
  char buf[64 * 1024];
  while (result.data.size() < max) {
    short revents = pollOne(fd, POLLIN, deadline);
    if (revents == 0) {
      result.timed_out = true;
      break;
    }
    size_t want = std::min(sizeof(buf), max - result.data.size());
    ssize_t n = ::recv(fd, buf, want, 0);
    if (n > 0) {
      result.data.append(buf, static_cast<size_t>(n));
      if (stop_on_first) break;
      continue;
    }
    if (n == 0) {
      result.eof = true;
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
    result.reset = true;
    break;
  }
  return result;
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

int Fd::release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool waitFor(const std::function<bool()>& cond, Millis timeout, Millis interval) {
  auto deadline = Clock::now() + timeout;
  while (true) {
    if (cond()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

Fd connectTcp(uint16_t port, Millis timeout, int* error, const std::string& ip) {
  auto fail = [&](int err) {
    if (error != nullptr) *error = err;
    return Fd();
  };
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail(errno);
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr = loopback(port, ip);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    if (errno != EINPROGRESS) return fail(errno);
    short revents = pollOne(fd.get(), POLLOUT, Clock::now() + timeout);
    if (revents == 0) return fail(ETIMEDOUT);
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) return fail(so_error);
  }
  if (error != nullptr) *error = 0;
  return fd;
}

Fd listenTcp(int backlog) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  sockaddr_in addr = loopback(0);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(fd.get(), backlog) != 0) {
    return Fd();
  }
  return fd;
}

uint16_t localPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.sin_port);
}

bool writeAll(int fd, std::string_view data, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    short revents = pollOne(fd, POLLOUT, deadline);
    if (revents == 0 || (revents & (POLLERR | POLLNVAL)) != 0) return false;
  }
  return true;
}

ReadResult readExactly(int fd, size_t n, Millis timeout) { return readLoop(fd, timeout, n, false); }

ReadResult readUntilEof(int fd, Millis timeout) {
  return readLoop(fd, timeout, std::string::npos, false);
}

ReadResult readSome(int fd, size_t max, Millis timeout) { return readLoop(fd, timeout, max, true); }

std::string roundTrip(int fd, std::string_view payload, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  std::string received;
  size_t sent = 0;
  char buf[64 * 1024];
  while (received.size() < payload.size()) {
    short events = POLLIN | (sent < payload.size() ? POLLOUT : 0);
    short revents = pollOne(fd, events, deadline);
    if (revents == 0) break;
    if ((revents & POLLOUT) != 0 && sent < payload.size()) {
      ssize_t n = ::send(fd, payload.data() + sent, payload.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0) received.append(buf, static_cast<size_t>(n));
      if (n == 0) break;
      if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    }
  }
  return received;
}

void shutdownWrite(int fd) { ::shutdown(fd, SHUT_WR); }

void closeWithReset(Fd& fd) {
  if (!fd) return;
  linger abortive{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
  fd.reset();
}

ReservedPort::ReservedPort() {
  fd_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr = loopback(0);
  if (fd_ && ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    port_ = localPort(fd_.get());
  }
}

std::string patternBytes(size_t offset, size_t n) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    uint64_t x = (offset + i) * 0x9E3779B97F4A7C15ull;
    out[i] = static_cast<char>((x >> 29) ^ (x >> 47));
  }
  return out;
}

void Checksum::update(std::string_view data) {
  for (unsigned char c : data) {
    hash_ ^= c;
    hash_ *= 1099511628211ull;
  }
}

}  // namespace remora::testing
