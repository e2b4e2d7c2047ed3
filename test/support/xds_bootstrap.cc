#include "test/support/xds_bootstrap.h"

namespace remora::testing {
namespace {

std::string grpcService(const XdsBootstrapSpec& spec) {
  if (spec.google_grpc) {
    return "{google_grpc: {target_uri: \"127.0.0.1:" + std::to_string(spec.xds_port) +
           "\", stat_prefix: xds}}";
  }
  return "{envoy_grpc: {cluster_name: xds_cluster}}";
}

std::string apiConfigSource(const XdsBootstrapSpec& spec) {
  std::string y = "{api_type: " + apiTypeName(spec.delta) + ", transport_api_version: V3";
  if (spec.set_node_on_first_message_only) y += ", set_node_on_first_message_only: true";
  return y + ", grpc_services: [" + grpcService(spec) + "]}";
}

std::string socketAddress(uint16_t port) {
  return "{socket_address: {address: 127.0.0.1, port_value: " + std::to_string(port) + "}}";
}

std::string xdsServerAddress(const XdsBootstrapSpec& spec) {
  if (spec.xds_pipe.empty()) return socketAddress(spec.xds_port);
  return "{pipe: {path: \"" + spec.xds_pipe + "\"}}";
}

}  // namespace

std::string apiTypeName(bool delta) { return delta ? "DELTA_GRPC" : "GRPC"; }

std::string configSource(const XdsBootstrapSpec& spec, const std::string& initial_fetch_timeout) {
  std::string y = spec.aggregated ? "{ads: {}" : "{api_config_source: " + apiConfigSource(spec);
  y += ", resource_api_version: V3";
  if (!initial_fetch_timeout.empty()) y += ", initial_fetch_timeout: " + initial_fetch_timeout;
  return y + "}";
}

std::string xdsBootstrap(const XdsBootstrapSpec& spec) {
  std::string y = "node:\n  id: " + spec.node_id + "\n  cluster: " + spec.node_cluster +
                  "\n"
                  "admin:\n"
                  "  address: " +
                  socketAddress(0) +
                  "\n"
                  "static_resources:\n"
                  "  clusters:\n"
                  "  - name: xds_cluster\n"
                  "    type: STATIC\n"
                  "    connect_timeout: 1s\n"
                  "    load_assignment:\n"
                  "      cluster_name: xds_cluster\n"
                  "      endpoints:\n"
                  "      - lb_endpoints:\n"
                  "        - endpoint: {address: " +
                  xdsServerAddress(spec) +
                  "}\n"
                  "dynamic_resources:\n";
  if (spec.aggregated) y += "  ads_config: " + apiConfigSource(spec) + "\n";
  const std::string source = configSource(spec);
  y += "  lds_config: " + source + "\n  cds_config: " + source + "\n";
  return y;
}

std::string resourcesYaml(const std::vector<std::string>& items) {
  std::string y = "resources:\n";
  for (const auto& item : items) y += item;
  return y;
}

std::string rdsListener(const std::string& name, const std::string& route_name,
                        const std::string& source, uint16_t port) {
  return std::string("- \"@type\": ") + kListenerType + "\n  name: " + name +
         "\n  address: " + socketAddress(port) +
         "\n"
         "  filter_chains:\n"
         "  - filters:\n"
         "    - name: envoy.filters.network.http_connection_manager\n"
         "      typed_config:\n"
         "        \"@type\": type.googleapis.com/"
         "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
         "        stat_prefix: " +
         name +
         "\n"
         "        rds: {route_config_name: " +
         route_name + ", config_source: " + source +
         "}\n"
         "        http_filters:\n"
         "        - name: envoy.filters.http.router\n"
         "          typed_config:\n"
         "            \"@type\": "
         "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router\n";
}

std::string routeTo(const std::string& name, const std::string& cluster) {
  return std::string("- \"@type\": ") + kRouteType + "\n  name: " + name +
         "\n"
         "  virtual_hosts:\n"
         "  - name: all\n"
         "    domains: [\"*\"]\n"
         "    routes:\n"
         "    - match: {prefix: /}\n"
         "      route: {cluster: " +
         cluster + "}\n";
}

std::string regexRoute(const std::string& name, const std::string& regex,
                       const std::string& cluster) {
  return std::string("- \"@type\": ") + kRouteType + "\n  name: " + name +
         "\n"
         "  virtual_hosts:\n"
         "  - name: all\n"
         "    domains: [\"*\"]\n"
         "    routes:\n"
         "    - match: {safe_regex: {regex: '" +
         regex + "'}}\n      route: {cluster: " + cluster + "}\n";
}

std::string edsCluster(const std::string& name, const std::string& source,
                       const std::string& connect_timeout) {
  return std::string("- \"@type\": ") + kClusterType + "\n  name: " + name +
         "\n  type: EDS\n  connect_timeout: " + connect_timeout +
         "\n  lb_policy: ROUND_ROBIN\n  eds_cluster_config: {eds_config: " + source + "}\n";
}

std::string endpoints(const std::string& cluster, const std::vector<uint16_t>& ports) {
  std::string y = std::string("- \"@type\": ") + kEndpointType + "\n  cluster_name: " + cluster +
                  "\n  endpoints:\n  - lb_endpoints:";
  if (ports.empty()) return y + " []\n";
  y += "\n";
  for (uint16_t port : ports) y += "    - endpoint: {address: " + socketAddress(port) + "}\n";
  return y;
}

}  // namespace remora::testing
