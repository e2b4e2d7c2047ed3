// GET /clusters: every active cluster and its hosts, in Envoy's text lines or as
// envoy.admin.v3.Clusters JSON, limited to what Remora tracks (no per-host counters yet).
#pragma once

#include <string>
#include <vector>

#include "source/admin/dynamic_config_state.h"

namespace remora::admin {

// Per cluster `<cluster>::added_via_api::<bool>`, then per host `<cluster>::<host>::health_flags::
// healthy` (or Envoy's flags: `/failed_active_hc/failed_eds_health`...), then its weight, region,
// zone, sub_zone and priority lines.
std::string clustersText(const std::vector<ClusterInfo>& clusters);

// {"cluster_statuses":[{"name":...,"added_via_api":true,"host_statuses":[{"address":
// {"socket_address":{"address":...,"port_value":N}},"health_status":{"eds_health_status":
// "HEALTHY"},"weight":N,"locality":{...},"priority":N}]}]}. Fields at their default value are left
// out, as Envoy's proto JSON does.
std::string clustersJson(const std::vector<ClusterInfo>& clusters);

}  // namespace remora::admin
