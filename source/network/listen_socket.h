// Creating bound, listening sockets: one per worker with SO_REUSEPORT so the kernel spreads
// accepted connections across workers without a shared accept lock.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "source/network/address.h"

namespace remora::network {

// An owned file descriptor, closed on destruction.
class SocketFd {
 public:
  SocketFd() = default;
  explicit SocketFd(int fd) : fd_(fd) {}
  ~SocketFd() { reset(); }
  SocketFd(SocketFd&& o) noexcept : fd_(o.release()) {}
  SocketFd& operator=(SocketFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset();

 private:
  int fd_ = -1;
};

// Binds `count` listening sockets to `address`. Port 0 picks one ephemeral port shared by all of
// them; the returned address carries the real port. Without reuse_port (the admin endpoint), a
// second process cannot silently share the port.
struct BoundListener {
  Address address;
  std::vector<SocketFd> sockets;
};
absl::StatusOr<BoundListener> bindListener(const Address& address, int count, int backlog = 1024,
                                           bool reuse_port = true);

}  // namespace remora::network
