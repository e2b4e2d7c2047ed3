// Bootstraps that take listeners and clusters from an xDS server (the mock control plane) over ADS
// or per-type services, and the YAML of the resources the xDS integration tests serve it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace remora::testing {

inline constexpr char kListenerType[] = "type.googleapis.com/envoy.config.listener.v3.Listener";
inline constexpr char kRouteType[] = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
inline constexpr char kClusterType[] = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
inline constexpr char kEndpointType[] =
    "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

struct XdsBootstrapSpec {
  uint16_t xds_port = 0;  // The control plane, on 127.0.0.1.
  bool delta = false;     // api_type DELTA_GRPC instead of GRPC.
  // False: no ads_config; lds_config and cds_config each name their own api_config_source.
  bool aggregated = true;
  // google_grpc target_uri instead of envoy_grpc naming the static cluster "xds_cluster".
  bool google_grpc = false;
  bool set_node_on_first_message_only = false;
  std::string node_id = "remora-xds-test";
  std::string node_cluster = "remora-xds-test-cluster";
  // Not empty: "xds_cluster" reaches the control plane at this unix socket (a pipe address, as
  // in Istio's bootstrap) instead of 127.0.0.1:xds_port. google_grpc ignores it.
  std::string xds_pipe;
};

// "GRPC" or "DELTA_GRPC": for test output.
std::string apiTypeName(bool delta);

// Admin on 127.0.0.1:0, the static cluster "xds_cluster" pointing at the control plane, and
// dynamic_resources subscribing to LDS and CDS as `spec` says.
std::string xdsBootstrap(const XdsBootstrapSpec& spec);

// The ConfigSource (a YAML flow mapping) that resources use for RDS and EDS under `spec`: ads, or
// an api_config_source of the same server. `initial_fetch_timeout` (e.g. "1s") when not empty.
std::string configSource(const XdsBootstrapSpec& spec,
                         const std::string& initial_fetch_timeout = "");

// `resources:` followed by the items below (each a YAML list item at column 0).
std::string resourcesYaml(const std::vector<std::string>& items);

// Listener `name` on 127.0.0.1:`port` (0: any) whose HTTP connection manager takes
// RouteConfiguration `route_name` by RDS from `source`.
std::string rdsListener(const std::string& name, const std::string& route_name,
                        const std::string& source, uint16_t port = 0);
// RouteConfiguration `name` sending every request to `cluster`.
std::string routeTo(const std::string& name, const std::string& cluster);
// RouteConfiguration `name` whose only route matches paths with safe_regex `regex` (which may be
// invalid: that is what some tests send).
std::string regexRoute(const std::string& name, const std::string& regex,
                       const std::string& cluster);
// An EDS Cluster `name` whose endpoints come from `source`.
std::string edsCluster(const std::string& name, const std::string& source,
                       const std::string& connect_timeout = "1s");
// The ClusterLoadAssignment of `cluster`: one endpoint 127.0.0.1:<port> each.
std::string endpoints(const std::string& cluster, const std::vector<uint16_t>& ports);

}  // namespace remora::testing
