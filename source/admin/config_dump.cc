#include "source/admin/config_dump.h"

#include <map>
#include <vector>

#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "google/protobuf/util/json_util.h"

namespace remora::admin {
namespace {

using envoy::admin::v3::ClustersConfigDump;
using envoy::admin::v3::EndpointsConfigDump;
using envoy::admin::v3::ListenersConfigDump;
using envoy::admin::v3::RoutesConfigDump;
using HttpConnectionManager =
    envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

// Whether the JSON printer can expand `any`. A resource from a control plane may hold a type
// Remora has no descriptor for (an unknown filter's typed_config, most often in a rejected one);
// printing it would fail the whole dump, so such a resource is left out of its entry instead.
bool printable(const google::protobuf::Any& any) {
  if (any.type_url().empty()) return false;
  std::string scratch;
  return google::protobuf::util::MessageToJsonString(any, &scratch).ok();
}

void fillErrorState(const ResourceErrorInfo& error, envoy::admin::v3::UpdateFailureState* state) {
  if (printable(error.failed_configuration)) {
    *state->mutable_failed_configuration() = error.failed_configuration;
  }
  *state->mutable_last_update_attempt() = error.last_update_attempt;
  state->set_details(error.details);
  state->set_version_info(error.version_info);
}

// The DynamicCluster / DynamicRouteConfig / DynamicEndpointConfig entries share this shape.
template <typename Entry>
void fillDynamic(const DynamicResourceInfo& info, Entry* entry,
                 google::protobuf::Any* (Entry::*resource)()) {
  entry->set_version_info(info.version_info);
  if (printable(info.resource)) *(entry->*resource)() = info.resource;
  *entry->mutable_last_updated() = info.last_updated;
}

// Puts each error on the entry of the same name among `entries`, or on a new entry holding only
// the error when no version of that resource was ever accepted.
template <typename Entry>
void attachErrors(const std::vector<ResourceErrorInfo>& errors,
                  const std::map<std::string, Entry*>& by_name,
                  google::protobuf::RepeatedPtrField<Entry>* new_entries) {
  for (const ResourceErrorInfo& error : errors) {
    const auto it = by_name.find(error.name);
    Entry* entry = it != by_name.end() ? it->second : new_entries->Add();
    fillErrorState(error, entry->mutable_error_state());
  }
}

// Maps each resource's name to its entry: unlike DynamicListener, these entries have no name field,
// and a rejected resource's Any may be missing, so errors are matched by the state's names.
template <typename Entry>
void indexByName(const std::vector<DynamicResourceInfo>& infos,
                 google::protobuf::RepeatedPtrField<Entry>& entries,
                 std::map<std::string, Entry*>& by_name) {
  for (size_t i = 0; i < infos.size(); ++i) by_name.try_emplace(infos[i].name, &entries[i]);
}

ClustersConfigDump clustersDump(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                const google::protobuf::Timestamp& loaded_at,
                                const DynamicConfigState& dynamic) {
  ClustersConfigDump dump;
  dump.set_version_info(dynamic.cds_version_info);
  for (const auto& c : bootstrap.static_resources().clusters()) {
    auto* entry = dump.add_static_clusters();
    entry->mutable_cluster()->PackFrom(c);
    *entry->mutable_last_updated() = loaded_at;
  }
  using Dynamic = ClustersConfigDump::DynamicCluster;
  for (const auto& info : dynamic.active_clusters) {
    fillDynamic(info, dump.add_dynamic_active_clusters(), &Dynamic::mutable_cluster);
  }
  for (const auto& info : dynamic.warming_clusters) {
    fillDynamic(info, dump.add_dynamic_warming_clusters(), &Dynamic::mutable_cluster);
  }
  // A rejected update of a serving cluster belongs with the version still serving.
  std::map<std::string, Dynamic*> by_name;
  indexByName(dynamic.active_clusters, *dump.mutable_dynamic_active_clusters(), by_name);
  indexByName(dynamic.warming_clusters, *dump.mutable_dynamic_warming_clusters(), by_name);
  attachErrors(dynamic.cluster_errors, by_name, dump.mutable_dynamic_active_clusters());
  return dump;
}

// Envoy lists the endpoints of every cluster not discovered through EDS as static, whether the
// cluster came from the bootstrap or from CDS.
void addStaticEndpoints(const envoy::config::cluster::v3::Cluster& cluster,
                        const google::protobuf::Timestamp& last_updated,
                        EndpointsConfigDump& dump) {
  if (cluster.type() == envoy::config::cluster::v3::Cluster::EDS ||
      !cluster.has_load_assignment()) {
    return;
  }
  envoy::config::endpoint::v3::ClusterLoadAssignment assignment = cluster.load_assignment();
  if (assignment.cluster_name().empty()) assignment.set_cluster_name(cluster.name());
  auto* entry = dump.add_static_endpoint_configs();
  entry->mutable_endpoint_config()->PackFrom(assignment);
  *entry->mutable_last_updated() = last_updated;
}

EndpointsConfigDump endpointsDump(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                  const google::protobuf::Timestamp& loaded_at,
                                  const DynamicConfigState& dynamic) {
  EndpointsConfigDump dump;
  for (const auto& c : bootstrap.static_resources().clusters()) {
    addStaticEndpoints(c, loaded_at, dump);
  }
  for (const auto& info : dynamic.active_clusters) {
    envoy::config::cluster::v3::Cluster cluster;
    if (info.resource.UnpackTo(&cluster)) addStaticEndpoints(cluster, info.last_updated, dump);
  }
  using Dynamic = EndpointsConfigDump::DynamicEndpointConfig;
  for (const auto& info : dynamic.endpoint_configs) {
    fillDynamic(info, dump.add_dynamic_endpoint_configs(), &Dynamic::mutable_endpoint_config);
  }
  std::map<std::string, Dynamic*> by_name;
  indexByName(dynamic.endpoint_configs, *dump.mutable_dynamic_endpoint_configs(), by_name);
  attachErrors(dynamic.endpoint_errors, by_name, dump.mutable_dynamic_endpoint_configs());
  return dump;
}

ListenersConfigDump listenersDump(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                  const google::protobuf::Timestamp& loaded_at,
                                  const DynamicConfigState& dynamic) {
  ListenersConfigDump dump;
  dump.set_version_info(dynamic.lds_version_info);
  for (const auto& l : bootstrap.static_resources().listeners()) {
    auto* entry = dump.add_static_listeners();
    entry->mutable_listener()->PackFrom(l);
    *entry->mutable_last_updated() = loaded_at;
  }
  // One DynamicListener per name holds all its states and its last error, in order of first
  // appearance.
  std::map<std::string, ListenersConfigDump::DynamicListener*> by_name;
  const auto entry = [&](const std::string& name) {
    auto [it, inserted] = by_name.try_emplace(name, nullptr);
    if (inserted) {
      it->second = dump.add_dynamic_listeners();
      it->second->set_name(name);
    }
    return it->second;
  };
  const auto fill = [](const DynamicResourceInfo& info,
                       ListenersConfigDump::DynamicListenerState* state) {
    state->set_version_info(info.version_info);
    if (printable(info.resource)) *state->mutable_listener() = info.resource;
    *state->mutable_last_updated() = info.last_updated;
  };
  for (const auto& info : dynamic.active_listeners) {
    fill(info, entry(info.name)->mutable_active_state());
  }
  for (const auto& info : dynamic.warming_listeners) {
    fill(info, entry(info.name)->mutable_warming_state());
  }
  for (const auto& info : dynamic.draining_listeners) {
    fill(info, entry(info.name)->mutable_draining_state());
  }
  for (const auto& error : dynamic.listener_errors) {
    fillErrorState(error, entry(error.name)->mutable_error_state());
  }
  return dump;
}

// Route configurations written inline in a listener's HTTP connection managers, which Envoy
// lists as static route configs.
void addInlineRoutes(const envoy::config::listener::v3::Listener& listener,
                     const google::protobuf::Timestamp& last_updated, RoutesConfigDump& dump) {
  std::vector<const envoy::config::listener::v3::FilterChain*> chains;
  for (const auto& chain : listener.filter_chains()) chains.push_back(&chain);
  if (listener.has_default_filter_chain()) chains.push_back(&listener.default_filter_chain());
  for (const auto* chain : chains) {
    for (const auto& filter : chain->filters()) {
      HttpConnectionManager hcm;
      if (!filter.typed_config().Is<HttpConnectionManager>() ||
          !filter.typed_config().UnpackTo(&hcm) || !hcm.has_route_config()) {
        continue;
      }
      auto* entry = dump.add_static_route_configs();
      entry->mutable_route_config()->PackFrom(hcm.route_config());
      *entry->mutable_last_updated() = last_updated;
    }
  }
}

RoutesConfigDump routesDump(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                            const google::protobuf::Timestamp& loaded_at,
                            const DynamicConfigState& dynamic) {
  RoutesConfigDump dump;
  for (const auto& l : bootstrap.static_resources().listeners()) {
    addInlineRoutes(l, loaded_at, dump);
  }
  for (const auto& info : dynamic.active_listeners) {
    envoy::config::listener::v3::Listener listener;
    if (info.resource.UnpackTo(&listener)) addInlineRoutes(listener, info.last_updated, dump);
  }
  using Dynamic = RoutesConfigDump::DynamicRouteConfig;
  for (const auto& info : dynamic.route_configs) {
    fillDynamic(info, dump.add_dynamic_route_configs(), &Dynamic::mutable_route_config);
  }
  std::map<std::string, Dynamic*> by_name;
  indexByName(dynamic.route_configs, *dump.mutable_dynamic_route_configs(), by_name);
  attachErrors(dynamic.route_errors, by_name, dump.mutable_dynamic_route_configs());
  return dump;
}

}  // namespace

std::string configDumpJson(const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                           const google::protobuf::Timestamp& loaded_at,
                           const DynamicConfigState* dynamic, bool include_eds) {
  const DynamicConfigState none;
  const DynamicConfigState& state = dynamic != nullptr ? *dynamic : none;
  envoy::admin::v3::ConfigDump dump;

  envoy::admin::v3::BootstrapConfigDump boot;
  *boot.mutable_bootstrap() = bootstrap;
  *boot.mutable_last_updated() = loaded_at;
  dump.add_configs()->PackFrom(boot);
  dump.add_configs()->PackFrom(clustersDump(bootstrap, loaded_at, state));
  if (include_eds) dump.add_configs()->PackFrom(endpointsDump(bootstrap, loaded_at, state));
  dump.add_configs()->PackFrom(listenersDump(bootstrap, loaded_at, state));
  dump.add_configs()->PackFrom(routesDump(bootstrap, loaded_at, state));

  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  auto status = google::protobuf::util::MessageToJsonString(dump, &json, options);
  if (!status.ok()) return "{\"error\": \"config dump failed\"}\n";
  return json;
}

}  // namespace remora::admin
