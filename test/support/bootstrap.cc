#include "test/support/bootstrap.h"

namespace remora::testing {

ClusterSpec staticCluster(std::string name, std::vector<uint16_t> ports) {
  ClusterSpec cluster;
  cluster.name = std::move(name);
  cluster.ports = std::move(ports);
  return cluster;
}

namespace {

std::string indent(const std::string& text, int spaces) {
  std::string out;
  std::string pad(spaces, ' ');
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out += pad + text.substr(start, end - start);
    out += "\n";
    start = end + 1;
  }
  return out;
}

const char kHeader[] =
    "node:\n"
    "  id: remora-integration-test\n"
    "  cluster: remora-integration-test\n"
    "admin:\n"
    "  address:\n"
    "    socket_address: { address: 127.0.0.1, port_value: 0 }\n"
    "static_resources:\n"
    "  listeners:\n";

// A listener on 127.0.0.1:0, up to its filter_chains.
std::string listenerHead(const std::string& name, std::optional<uint32_t> buffer_limit) {
  std::string y = "  - name: " + name +
                  "\n"
                  "    address:\n"
                  "      socket_address: { address: 127.0.0.1, port_value: 0 }\n";
  if (buffer_limit) {
    y += "    per_connection_buffer_limit_bytes: " + std::to_string(*buffer_limit) + "\n";
  }
  return y;
}

}  // namespace

std::string clustersYaml(const std::vector<ClusterSpec>& clusters) {
  std::string y;
  y += "  clusters:\n";
  for (const auto& c : clusters) {
    y += "  - name: " + c.name + "\n    type: " + c.type +
         "\n    connect_timeout: " + c.connect_timeout + "\n    lb_policy: " + c.lb_policy + "\n" +
         c.extra;
    if (c.per_connection_buffer_limit_bytes) {
      y += "    per_connection_buffer_limit_bytes: " +
           std::to_string(*c.per_connection_buffer_limit_bytes) + "\n";
    }
    y += "    load_assignment:\n      cluster_name: " + c.name +
         "\n      endpoints:\n      - lb_endpoints:\n";
    for (size_t i = 0; i < c.ports.size(); ++i) {
      y += "        - endpoint:\n"
           "            address:\n"
           "              socket_address: { address: " +
           c.address + ", port_value: " + std::to_string(c.ports[i]) + " }\n";
      if (i < c.weights.size()) {
        y += "          load_balancing_weight: " + std::to_string(c.weights[i]) + "\n";
      }
    }
  }
  return y;
}

std::string httpBootstrap(const std::vector<HttpListenerSpec>& listeners,
                          const std::vector<ClusterSpec>& clusters) {
  std::string y = kHeader;
  for (const auto& l : listeners) {
    y += listenerHead(l.listener, l.per_connection_buffer_limit_bytes);
    y += l.extra;
    y += "    filter_chains:\n"
         "    - filters:\n"
         "      - name: envoy.filters.network.http_connection_manager\n"
         "        typed_config:\n"
         "          \"@type\": type.googleapis.com/"
         "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n";
    y += indent(l.hcm_yaml, 10);
  }
  y += clustersYaml(clusters);
  return y;
}

std::string hcmYaml(const std::string& route_config_yaml, const std::string& extra) {
  std::string y =
      "stat_prefix: ingress\n"
      "http_filters:\n"
      "- name: envoy.filters.http.router\n"
      "  typed_config:\n"
      "    \"@type\": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n"
      "route_config:\n";
  y += indent(route_config_yaml, 2);
  y += extra;
  return y;
}

std::string singleRouteConfig(const std::string& cluster) {
  return "name: local\n"
         "virtual_hosts:\n"
         "- name: all\n"
         "  domains: [\"*\"]\n"
         "  routes:\n"
         "  - match: { prefix: \"/\" }\n"
         "    route: { cluster: " +
         cluster + " }\n";
}

std::string bootstrapYaml(const std::vector<TcpProxySpec>& listeners,
                          const std::vector<ClusterSpec>& clusters) {
  std::string y = kHeader;
  for (const auto& l : listeners) {
    y += listenerHead(l.listener, l.per_connection_buffer_limit_bytes);
    y += "    filter_chains:\n"
         "    - filters:\n"
         "      - name: envoy.filters.network.tcp_proxy\n"
         "        typed_config:\n"
         "          \"@type\": "
         "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy\n"
         "          stat_prefix: " +
         l.stat_prefix + "\n";
    if (!l.cluster.empty()) {
      y += "          cluster: " + l.cluster + "\n";
    } else {
      y += "          weighted_clusters:\n            clusters:\n";
      for (const auto& [name, weight] : l.weighted_clusters) {
        y += "            - name: " + name + "\n              weight: " + std::to_string(weight) +
             "\n";
      }
    }
    if (!l.idle_timeout.empty()) y += "          idle_timeout: " + l.idle_timeout + "\n";
  }
  y += clustersYaml(clusters);
  return y;
}

std::string tcpProxyBootstrap(const std::vector<uint16_t>& ports,
                              std::optional<uint32_t> per_connection_buffer_limit_bytes) {
  TcpProxySpec listener;
  listener.cluster = "backend";
  listener.per_connection_buffer_limit_bytes = per_connection_buffer_limit_bytes;
  ClusterSpec cluster;
  cluster.name = "backend";
  cluster.ports = ports;
  cluster.per_connection_buffer_limit_bytes = per_connection_buffer_limit_bytes;
  return bootstrapYaml({listener}, {cluster});
}

}  // namespace remora::testing
