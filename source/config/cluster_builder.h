// envoy.config.cluster.v3.Cluster → upstream::Cluster: validation with field paths, defaults as
// Envoy's, endpoints resolved once.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "source/config/yaml_to_proto.h"
#include "source/stats/store.h"
#include "source/upstream/cluster.h"

namespace remora::config {

// `path` names the cluster, e.g. "static_resources.clusters[2]".
absl::StatusOr<upstream::ClusterConstSharedPtr> buildCluster(
    const envoy::config::cluster::v3::Cluster& proto, const std::string& path, stats::Store& store,
    ParseReport& report);

// The hosts of a ClusterLoadAssignment (from a cluster's load_assignment or from EDS).
absl::StatusOr<upstream::HostSetConstSharedPtr> buildHostSet(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& cla, const std::string& path);

// A copy of `cluster` serving `hosts` (an EDS update); stats are shared with the original.
upstream::ClusterConstSharedPtr withHosts(const upstream::Cluster& cluster,
                                          upstream::HostSetConstSharedPtr hosts);

}  // namespace remora::config
