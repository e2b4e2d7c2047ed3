// Envoy bootstrap YAML for integration tests: tcp_proxy listeners on 127.0.0.1:0 in front of STATIC
// clusters of loopback endpoints, with the admin endpoint on 127.0.0.1:0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace remora::testing {

struct ClusterSpec {
  std::string name;
  std::vector<uint16_t> ports;  // one endpoint <address>:<port> each
  std::string type = "STATIC";  // STRICT_DNS and LOGICAL_DNS resolve `address`.
  std::string address = "127.0.0.1";
  std::string lb_policy = "ROUND_ROBIN";
  std::string connect_timeout = "1s";
  // The cluster's limit: bounds what is buffered towards the upstream (the upstream connection).
  std::optional<uint32_t> per_connection_buffer_limit_bytes;
  std::vector<uint32_t> weights;  // load_balancing_weight per endpoint, when given.
  std::string extra;  // More cluster fields: YAML lines indented by 4 (e.g. circuit_breakers).
};

// A ROUND_ROBIN cluster `name` with one endpoint per port and every other field at its default.
ClusterSpec staticCluster(std::string name, std::vector<uint16_t> ports);

struct TcpProxySpec {
  std::string listener = "ingress";
  std::string stat_prefix = "ingress";
  std::string cluster;  // `cluster: ...` when set, otherwise `weighted_clusters` from below
  std::vector<std::pair<std::string, uint32_t>> weighted_clusters;
  std::string idle_timeout;  // e.g. "10s"; unset when empty
  // The listener's limit: bounds what is buffered towards the client (the downstream connection).
  std::optional<uint32_t> per_connection_buffer_limit_bytes;
};

std::string bootstrapYaml(const std::vector<TcpProxySpec>& listeners,
                          const std::vector<ClusterSpec>& clusters);

// The common case: listener "ingress" proxying to cluster "backend" with these endpoint ports;
// a buffer limit, when given, is set on both the listener and the cluster.
std::string tcpProxyBootstrap(const std::vector<uint16_t>& ports,
                              std::optional<uint32_t> per_connection_buffer_limit_bytes = {});

// The `clusters:` section (STATIC clusters on 127.0.0.1) of static_resources.
std::string clustersYaml(const std::vector<ClusterSpec>& clusters);

struct HttpListenerSpec {
  std::string listener = "ingress";
  // The HttpConnectionManager's fields (no "@type"), as YAML starting at column 0.
  std::string hcm_yaml;
  std::optional<uint32_t> per_connection_buffer_limit_bytes;
  std::string extra;  // More listener fields: YAML lines indented by 4 (e.g. listener_filters).
};
// http_connection_manager listeners on 127.0.0.1:0 in front of `clusters`.
std::string httpBootstrap(const std::vector<HttpListenerSpec>& listeners,
                          const std::vector<ClusterSpec>& clusters);
// An HCM with stat_prefix "ingress" and only the router, serving `route_config_yaml` (column 0);
// `extra` (column 0) adds further HCM fields.
std::string hcmYaml(const std::string& route_config_yaml, const std::string& extra = "");
// A route table sending everything to `cluster`.
std::string singleRouteConfig(const std::string& cluster);

}  // namespace remora::testing
