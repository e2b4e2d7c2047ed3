#include "source/config/supported_fields.h"

namespace remora::config {

const absl::flat_hash_set<std::string>& supportedFields() {
  static const auto* fields = new absl::flat_hash_set<std::string>{
      // Bootstrap
      "envoy.config.bootstrap.v3.Bootstrap.node",
      "envoy.config.bootstrap.v3.Bootstrap.static_resources",
      "envoy.config.bootstrap.v3.Bootstrap.admin",
      "envoy.config.bootstrap.v3.Bootstrap.StaticResources.listeners",
      "envoy.config.bootstrap.v3.Bootstrap.StaticResources.clusters",
      "envoy.config.bootstrap.v3.Admin.address",
      // Node: reported by /server_info now, sent to the control plane with xDS.
      "envoy.config.core.v3.Node.id",
      "envoy.config.core.v3.Node.cluster",
      "envoy.config.core.v3.Node.metadata",
      "envoy.config.core.v3.Node.locality",
      "envoy.config.core.v3.Node.user_agent_name",
      "envoy.config.core.v3.Node.user_agent_version",
      "envoy.config.core.v3.Metadata.filter_metadata",
      "envoy.config.core.v3.Metadata.typed_filter_metadata",
      "envoy.config.core.v3.Locality.region",
      "envoy.config.core.v3.Locality.zone",
      "envoy.config.core.v3.Locality.sub_zone",
      // Addresses
      "envoy.config.core.v3.Address.socket_address",
      "envoy.config.core.v3.Address.pipe",
      "envoy.config.core.v3.SocketAddress.protocol",
      "envoy.config.core.v3.SocketAddress.address",
      "envoy.config.core.v3.SocketAddress.port_value",
      "envoy.config.core.v3.Pipe.path",
      // Listeners
      "envoy.config.listener.v3.Listener.name",
      "envoy.config.listener.v3.Listener.address",
      "envoy.config.listener.v3.Listener.stat_prefix",
      "envoy.config.listener.v3.Listener.filter_chains",
      "envoy.config.listener.v3.Listener.per_connection_buffer_limit_bytes",
      "envoy.config.listener.v3.FilterChain.name",
      "envoy.config.listener.v3.FilterChain.filters",
      "envoy.config.listener.v3.Filter.name",
      "envoy.config.listener.v3.Filter.typed_config",
      // tcp_proxy
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.stat_prefix",
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.cluster",
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.weighted_clusters",
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.idle_timeout",
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.clusters",
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight.name",
      "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight.weight",
      // Clusters
      "envoy.config.cluster.v3.Cluster.name",
      "envoy.config.cluster.v3.Cluster.type",
      "envoy.config.cluster.v3.Cluster.connect_timeout",
      "envoy.config.cluster.v3.Cluster.per_connection_buffer_limit_bytes",
      "envoy.config.cluster.v3.Cluster.lb_policy",
      "envoy.config.cluster.v3.Cluster.load_assignment",
      "envoy.config.endpoint.v3.ClusterLoadAssignment.cluster_name",
      "envoy.config.endpoint.v3.ClusterLoadAssignment.endpoints",
      "envoy.config.endpoint.v3.LocalityLbEndpoints.lb_endpoints",
      "envoy.config.endpoint.v3.LbEndpoint.endpoint",
      "envoy.config.endpoint.v3.Endpoint.address",
  };
  return *fields;
}

}  // namespace remora::config
