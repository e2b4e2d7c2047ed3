#include "source/admin/config_dump.h"

#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "google/protobuf/util/json_util.h"

namespace remora::admin {

std::string staticConfigDumpJson(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                 const google::protobuf::Timestamp& loaded_at) {
  envoy::admin::v3::ConfigDump dump;

  envoy::admin::v3::BootstrapConfigDump boot;
  *boot.mutable_bootstrap() = bootstrap;
  *boot.mutable_last_updated() = loaded_at;
  dump.add_configs()->PackFrom(boot);

  envoy::admin::v3::ClustersConfigDump clusters;
  for (const auto& c : bootstrap.static_resources().clusters()) {
    auto* entry = clusters.add_static_clusters();
    entry->mutable_cluster()->PackFrom(c);
    *entry->mutable_last_updated() = loaded_at;
  }
  dump.add_configs()->PackFrom(clusters);

  envoy::admin::v3::ListenersConfigDump listeners;
  for (const auto& l : bootstrap.static_resources().listeners()) {
    auto* entry = listeners.add_static_listeners();
    entry->mutable_listener()->PackFrom(l);
    *entry->mutable_last_updated() = loaded_at;
  }
  dump.add_configs()->PackFrom(listeners);

  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(dump, &json, options);
  if (!status.ok()) return "{\"error\": \"config dump failed\"}\n";
  return json;
}

}  // namespace remora::admin
