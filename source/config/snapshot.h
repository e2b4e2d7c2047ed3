// The immutable configuration workers run with. The main thread builds one per accepted update and
// publishes it; connections keep the snapshot they were accepted under until they close.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "api/network/filter.h"
#include "source/network/address.h"
#include "source/upstream/cluster.h"

namespace remora::router {
class RouteTable;
}

namespace remora::config {

struct FilterChainConfig {
  std::string name;
  // The terminal network filter (tcp_proxy); built once, shared by every worker.
  std::shared_ptr<const network::NetworkFilterFactory> terminal_filter;
};

struct ListenerConfig {
  std::string name;
  network::Address address;  // As configured; port 0 means "any", resolved at bind time.
  std::string stat_prefix;   // Empty: stats are named after the bound address, as Envoy's.
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  // listen()'s backlog: connections the kernel completes before they are accepted (Envoy's
  // default; the kernel caps it at net.core.somaxconn).
  uint32_t tcp_backlog_size = 1024;
  // The envoy.filters.listener.original_dst listener filter (or use_original_dst): connections'
  // local address is where they were going before an iptables redirection.
  bool use_original_dst = false;
  std::vector<FilterChainConfig> filter_chains;
};
using ListenerConfigConstSharedPtr = std::shared_ptr<const ListenerConfig>;

struct Snapshot {
  uint64_t version = 0;
  // In config order, so workers and the admin list listeners as the user wrote them.
  std::vector<ListenerConfigConstSharedPtr> listeners;
  absl::flat_hash_map<std::string, upstream::ClusterConstSharedPtr> clusters;
  // Route configurations received over RDS, by name.
  absl::flat_hash_map<std::string, std::shared_ptr<const router::RouteTable>> routes;

  const upstream::Cluster* findCluster(absl::string_view name) const {
    auto it = clusters.find(name);
    return it == clusters.end() ? nullptr : it->second.get();
  }
  const router::RouteTable* findRoutes(absl::string_view name) const {
    auto it = routes.find(name);
    return it == routes.end() ? nullptr : it->second.get();
  }
  const ListenerConfig* findListener(absl::string_view name) const {
    for (const auto& l : listeners) {
      if (l->name == name) return l.get();
    }
    return nullptr;
  }
};
using SnapshotConstSharedPtr = std::shared_ptr<const Snapshot>;

}  // namespace remora::config
