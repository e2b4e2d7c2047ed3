// envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy → the tcp_proxy network filter factory.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "source/stats/store.h"
#include "source/tcp_proxy/tcp_proxy_config.h"

namespace remora::tcp_proxy {

// `path` names the TcpProxy message (a filter's typed_config).
absl::StatusOr<std::shared_ptr<const TcpProxyFactory>> buildTcpProxy(
    const envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy& proto,
    const std::string& path, stats::Store& store);

}  // namespace remora::tcp_proxy
