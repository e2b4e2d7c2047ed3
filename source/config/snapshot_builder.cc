#include "source/config/snapshot_builder.h"

#include "absl/container/flat_hash_map.h"
#include "source/config/cluster_builder.h"
#include "source/config/field_path.h"
#include "source/config/listener_builder.h"
#include "source/http/conn_manager.h"
#include "source/tcp_proxy/tcp_proxy_config.h"

namespace remora::config {

absl::StatusOr<SnapshotConstSharedPtr> buildStaticSnapshot(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap, stats::Store& store,
    ParseReport& report) {
  auto snapshot = std::make_shared<Snapshot>();
  const auto& resources = bootstrap.static_resources();

  absl::flat_hash_map<std::string, int> cluster_index;
  for (int i = 0; i < resources.clusters_size(); ++i) {
    const std::string path = indexPath("static_resources.clusters", i);
    auto cluster = buildCluster(resources.clusters(i), path, store, report);
    if (!cluster.ok()) return cluster.status();
    auto [it, inserted] = cluster_index.emplace((*cluster)->name, i);
    if (!inserted) {
      return invalidAt(fieldPath(path, "name"),
                       absl::StrCat("duplicate cluster name '", (*cluster)->name,
                                    "' (also static_resources.clusters[", it->second, "])"));
    }
    snapshot->clusters.emplace((*cluster)->name, *std::move(cluster));
  }

  absl::flat_hash_map<std::string, int> listener_names;
  absl::flat_hash_map<std::string, int> listener_addresses;
  for (int i = 0; i < resources.listeners_size(); ++i) {
    const std::string path = indexPath("static_resources.listeners", i);
    auto listener = buildListener(resources.listeners(i), path, store, report);
    if (!listener.ok()) return listener.status();
    const ListenerConfig& l = **listener;
    if (auto [it, ok] = listener_names.emplace(l.name, i); !ok) {
      return invalidAt(fieldPath(path, "name"),
                       absl::StrCat("duplicate listener name '", l.name,
                                    "' (also static_resources.listeners[", it->second, "])"));
    }
    if (l.address.port() != 0 || l.address.isPipe()) {
      if (auto [it, ok] = listener_addresses.emplace(l.address.asString(), i); !ok) {
        return invalidAt(
            fieldPath(path, "address"),
            absl::StrCat("address ", l.address.asString(),
                         " is already used by static_resources.listeners[", it->second, "]"));
      }
    }
    for (size_t c = 0; c < l.filter_chains.size(); ++c) {
      const auto* filter = l.filter_chains[c].terminal_filter.get();
      if (const auto* hcm = dynamic_cast<const http::ConnManagerFactory*>(filter)) {
        if (!hcm->config().validate_clusters || hcm->config().route_table == nullptr) continue;
        for (const auto& name : hcm->config().route_table->referencedClusters()) {
          if (snapshot->findCluster(name) != nullptr) continue;
          // With CDS, the cluster may come later: say so, as Envoy cannot check it either.
          if (bootstrap.dynamic_resources().has_cds_config()) {
            report.warnings.push_back(
                atPath(fieldPath(path, "filter_chains"),
                       absl::StrCat("route refers to cluster '", name,
                                    "', which is not static; it must come over CDS")));
            continue;
          }
          // As Envoy with an inline route table (validate_clusters defaults to true).
          return invalidAt(
              fieldPath(
                  indexPath(fieldPath(indexPath(fieldPath(path, "filter_chains"), c), "filters"),
                            0),
                  "typed_config.route_config"),
              absl::StrCat("route refers to unknown cluster '", name,
                           "' (set validate_clusters: false to allow it)"));
        }
        continue;
      }
      const auto* tcp = dynamic_cast<const tcp_proxy::TcpProxyFactory*>(filter);
      if (tcp == nullptr) continue;
      for (const auto& wc : tcp->config().clusters) {
        if (snapshot->findCluster(wc.name) == nullptr) {
          report.warnings.push_back(
              atPath(indexPath(fieldPath(path, "filter_chains"), c),
                     absl::StrCat("tcp_proxy refers to unknown cluster '", wc.name,
                                  "'; its connections will be closed (downstream_cx_no_route)")));
        }
      }
    }
    snapshot->listeners.push_back(*std::move(listener));
  }
  return snapshot;
}

}  // namespace remora::config
