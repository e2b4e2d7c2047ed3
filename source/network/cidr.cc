#include "source/network/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace remora::network {

namespace {

// The address's bytes in network order; IPv4-mapped IPv6 is unwrapped to IPv4.
int addressBytes(const Address& address, std::array<uint8_t, 16>& out) {
  if (address.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(address.sockAddr());
    std::memcpy(out.data(), &sin->sin_addr, 4);
    return AF_INET;
  }
  if (address.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(address.sockAddr());
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      std::memcpy(out.data(), sin6->sin6_addr.s6_addr + 12, 4);
      return AF_INET;
    }
    std::memcpy(out.data(), sin6->sin6_addr.s6_addr, 16);
    return AF_INET6;
  }
  return 0;
}

bool prefixMatch(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b,
                 uint32_t bits) {
  uint32_t full = bits / 8;
  if (std::memcmp(a.data(), b.data(), full) != 0) return false;
  uint32_t rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

absl::StatusOr<CidrRange> CidrRange::create(const std::string& ip, uint32_t prefix_len) {
  CidrRange range;
  if (inet_pton(AF_INET, ip.c_str(), range.bytes_.data()) == 1) {
    range.family_ = AF_INET;
    if (prefix_len > 32)
      return absl::InvalidArgumentError("prefix_len: must be at most 32 for IPv4");
  } else if (inet_pton(AF_INET6, ip.c_str(), range.bytes_.data()) == 1) {
    range.family_ = AF_INET6;
    if (prefix_len > 128) {
      return absl::InvalidArgumentError("prefix_len: must be at most 128 for IPv6");
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("address_prefix: '", ip, "' is not an IP"));
  }
  range.prefix_len_ = prefix_len;
  return range;
}

bool CidrRange::contains(const Address& address) const {
  std::array<uint8_t, 16> bytes{};
  if (addressBytes(address, bytes) != family_) return false;
  return prefixMatch(bytes, bytes_, prefix_len_);
}

bool isPrivateOrLoopback(const Address& address) {
  std::array<uint8_t, 16> b{};
  const int family = addressBytes(address, b);
  if (family == AF_INET) {
    return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) ||
           (b[0] == 192 && b[1] == 168);
  }
  if (family == AF_INET6) {
    static const std::array<uint8_t, 16> kLoopback = {0, 0, 0, 0, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0, 0, 1};
    return b == kLoopback || (b[0] & 0xfe) == 0xfc;
  }
  return address.isPipe();
}

}  // namespace remora::network
