// Builds /config_dump as Envoy's envoy.admin.v3.ConfigDump: bootstrap, clusters, endpoints (only
// with ?include_eds), listeners, routes, in Envoy's order, with every dynamic resource's version,
// lifecycle state and last rejected update.
#pragma once

#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "source/admin/dynamic_config_state.h"

namespace remora::admin {

// Static resources are dumped as loaded, including fields Remora reports as unsupported; `dynamic`
// is null when nothing comes from xDS. A rejected update is shown as the resource's error_state,
// on an entry of its own (with no accepted version) when the resource was never accepted.
std::string configDumpJson(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                           const google::protobuf::Timestamp& loaded_at,
                           const DynamicConfigState* dynamic, bool include_eds);

}  // namespace remora::admin
