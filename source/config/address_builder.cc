#include "source/config/address_builder.h"

#include "source/config/field_path.h"

namespace remora::config {

absl::StatusOr<network::Address> buildAddress(const envoy::config::core::v3::Address& address,
                                              const std::string& path, PortRule rule) {
  using envoy::config::core::v3::Address;
  switch (address.address_case()) {
    case Address::kSocketAddress: {
      const auto& sa = address.socket_address();
      const std::string sa_path = fieldPath(path, "socket_address");
      if (sa.protocol() != envoy::config::core::v3::SocketAddress::TCP) {
        return invalidAt(fieldPath(sa_path, "protocol"), "only TCP is supported");
      }
      if (sa.address().empty()) return invalidAt(fieldPath(sa_path, "address"), "required");
      if (!sa.resolver_name().empty()) {
        return invalidAt(fieldPath(sa_path, "resolver_name"), "custom resolvers are not supported");
      }
      if (sa.port_specifier_case() == envoy::config::core::v3::SocketAddress::kNamedPort) {
        return invalidAt(fieldPath(sa_path, "named_port"), "named ports are not supported");
      }
      const uint32_t port = sa.port_value();
      if (port > 65535 || (rule == PortRule::kNonZeroPort && port == 0)) {
        return invalidAt(fieldPath(sa_path, "port_value"),
                         absl::StrCat(port, " is out of range (",
                                      rule == PortRule::kNonZeroPort ? 1 : 0, "-65535)"));
      }
      auto result = network::Address::fromIpPort(sa.address(), port);
      if (!result.ok()) return invalidAt(fieldPath(sa_path, "address"), result.status().message());
      return result;
    }
    case Address::kPipe: {
      auto result = network::Address::fromPipe(address.pipe().path());
      if (!result.ok()) {
        return invalidAt(fieldPath(fieldPath(path, "pipe"), "path"), result.status().message());
      }
      return result;
    }
    case Address::kEnvoyInternalAddress:
      return invalidAt(fieldPath(path, "envoy_internal_address"),
                       "internal listeners are not supported");
    case Address::ADDRESS_NOT_SET:
      break;
  }
  return invalidAt(path, "required: socket_address or pipe");
}

}  // namespace remora::config
