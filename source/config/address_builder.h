// envoy.config.core.v3.Address → network::Address, with errors naming the field.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/core/v3/address.pb.h"
#include "source/network/address.h"

namespace remora::config {

enum class PortRule { kAnyPort, kNonZeroPort };

// `path` names `address` itself, e.g. "static_resources.listeners[0].address".
absl::StatusOr<network::Address> buildAddress(const envoy::config::core::v3::Address& address,
                                              const std::string& path, PortRule rule);

}  // namespace remora::config
