// IP prefixes (10.0.0.0/8, fc00::/7) parsed once and matched against addresses without
// allocating; IPv4-mapped IPv6 peers match IPv4 ranges.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "source/network/address.h"

namespace remora::network {

class CidrRange {
 public:
  static absl::StatusOr<CidrRange> create(const std::string& ip, uint32_t prefix_len);
  bool contains(const Address& address) const;

 private:
  int family_ = 0;
  std::array<uint8_t, 16> bytes_{};
  uint32_t prefix_len_ = 0;
};

// Loopback, RFC 1918 and IPv6 unique-local/loopback: the ranges Envoy treats as internal when
// internal_address_config does not list any.
bool isPrivateOrLoopback(const Address& address);

}  // namespace remora::network
