// Socket addresses (IPv4, IPv6, unix pipe) as resolved values: parsed once at config time so the
// accept and connect paths never parse strings.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace remora::network {

class Address {
 public:
  Address() = default;
  // An IP literal and port; hostnames are rejected (STATIC clusters and listeners take IPs only).
  static absl::StatusOr<Address> fromIpPort(const std::string& ip, uint32_t port);
  static absl::StatusOr<Address> fromPipe(const std::string& path);
  // "10.0.0.1:80" or "[::1]:80", as x-envoy-original-dst-host carries it; the port is required.
  static absl::StatusOr<Address> fromIpPortText(absl::string_view text);
  // The same IP with another port.
  Address withPort(uint16_t port) const;
  static Address fromSockaddr(const sockaddr* sa, socklen_t len);

  const sockaddr* sockAddr() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t sockLen() const { return len_; }
  int family() const { return storage_.ss_family; }
  bool isPipe() const { return family() == AF_UNIX; }
  // "127.0.0.1:80", "[::1]:80" or the pipe path.
  const std::string& asString() const { return text_; }
  // The IP without port ("" for pipes) and the port (0 for pipes).
  std::string ip() const;
  uint16_t port() const;

 private:
  void render();
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
  std::string text_;
};

}  // namespace remora::network
