// Builds /config_dump as Envoy's envoy.admin.v3.ConfigDump: bootstrap, then clusters, then
// listeners.
#pragma once

#include <string>

#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "google/protobuf/timestamp.pb.h"

namespace remora::admin {

// Static resources are dumped as loaded, including fields Remora reports as unsupported.
std::string staticConfigDumpJson(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                 const google::protobuf::Timestamp& loaded_at);

}  // namespace remora::admin
