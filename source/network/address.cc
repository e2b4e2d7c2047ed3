#include "source/network/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace remora::network {

absl::StatusOr<Address> Address::fromIpPortText(absl::string_view text) {
  const size_t colon = text.rfind(':');
  const absl::string_view ip = colon == absl::string_view::npos ? text : text.substr(0, colon);
  // A bare IPv6 address has colons too but no brackets: it has no port.
  if (colon == absl::string_view::npos || colon + 1 == text.size() ||
      (ip.find(':') != absl::string_view::npos && (ip.front() != '[' || ip.back() != ']'))) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not IP:port"));
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port == 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' has no valid port"));
  }
  return fromIpPort(std::string(ip), port);
}

Address Address::withPort(uint16_t port) const {
  Address a = *this;
  if (family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_port = htons(port);
  } else if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_port = htons(port);
  } else {
    return a;
  }
  a.render();
  return a;
}

absl::StatusOr<Address> Address::fromIpPort(const std::string& ip, uint32_t port) {
  if (port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("port ", port, " is out of range (0-65535)"));
  }
  // "[::1]" as written in URLs and host:port text means the same as "::1".
  const std::string bare =
      ip.size() >= 2 && ip.front() == '[' && ip.back() == ']' ? ip.substr(1, ip.size() - 2) : ip;
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage_);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  if (inet_pton(AF_INET, bare.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    a.len_ = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, bare.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    a.len_ = sizeof(sockaddr_in6);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("'", ip, "' is not an IP address (hostnames need a DNS cluster type)"));
  }
  a.render();
  return a;
}

absl::StatusOr<Address> Address::fromPipe(const std::string& path) {
  Address a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  if (path.empty() || path.size() >= sizeof(un->sun_path)) {
    return absl::InvalidArgumentError(
        absl::StrCat("pipe path must be 1-", sizeof(un->sun_path) - 1, " bytes"));
  }
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  // Envoy's convention: a leading '@' names an abstract socket.
  if (path[0] == '@') un->sun_path[0] = '\0';
  a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                  (path[0] == '@' ? 0 : 1));
  a.text_ = path;
  return a;
}

Address Address::fromSockaddr(const sockaddr* sa, socklen_t len) {
  Address a;
  std::memcpy(&a.storage_, sa, std::min<size_t>(len, sizeof(a.storage_)));
  a.len_ = len;
  if (sa->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(sa);
    a.text_ = un->sun_path[0] == '\0' && len > offsetof(sockaddr_un, sun_path)
                  ? absl::StrCat("@", std::string(un->sun_path + 1))
                  : std::string(un->sun_path);
  } else {
    a.render();
  }
  return a;
}

std::string Address::ip() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
              sizeof(buf));
  } else if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, buf,
              sizeof(buf));
  }
  return buf;
}

uint16_t Address::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

void Address::render() {
  text_ = family() == AF_INET6 ? absl::StrCat("[", ip(), "]:", port())
                               : absl::StrCat(ip(), ":", port());
}

}  // namespace remora::network
