// A cluster as built from config: immutable, shared by every worker through the snapshot.
// Per-worker mutable state (balancer cursors, pools) lives in upstream::WorkerClusters, not here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source/network/address.h"
#include "source/stats/store.h"

namespace remora::upstream {

struct Host {
  network::Address address;
  uint32_t weight = 1;
};

// An endpoint list; replaced whole when endpoints change, so a balancer built for one set never
// sees hosts vanish under it.
struct HostSet {
  std::vector<Host> hosts;
};
using HostSetConstSharedPtr = std::shared_ptr<const HostSet>;

enum class LbPolicy { kRoundRobin };

// Envoy's cluster.<name>.* stats that this cluster updates.
struct ClusterStats {
  ClusterStats(stats::Store& store, const std::string& cluster_name);
  stats::Counter& upstream_cx_total;
  stats::Gauge& upstream_cx_active;
  stats::Counter& upstream_cx_connect_fail;
  stats::Counter& upstream_cx_connect_timeout;
  stats::Counter& upstream_cx_destroy;
  stats::Counter& upstream_cx_rx_bytes_total;
  stats::Counter& upstream_cx_tx_bytes_total;
  stats::Counter& upstream_cx_none_healthy;
  stats::Gauge& membership_total;
};

struct Cluster {
  std::string name;
  std::chrono::milliseconds connect_timeout{5000};
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  HostSetConstSharedPtr host_set;
  std::shared_ptr<ClusterStats> stats;
};
using ClusterConstSharedPtr = std::shared_ptr<const Cluster>;

}  // namespace remora::upstream
