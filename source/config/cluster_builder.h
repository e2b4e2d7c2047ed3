// envoy.config.cluster.v3.Cluster → upstream::Cluster: validation with field paths, defaults as
// Envoy's, endpoints resolved once.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "source/config/yaml_to_proto.h"
#include "source/stats/store.h"
#include "source/upstream/cluster.h"

namespace remora::config {

// `path` names the cluster, e.g. "static_resources.clusters[2]".
absl::StatusOr<upstream::ClusterConstSharedPtr> buildCluster(
    const envoy::config::cluster::v3::Cluster& proto, const std::string& path, stats::Store& store,
    ParseReport& report);

}  // namespace remora::config
