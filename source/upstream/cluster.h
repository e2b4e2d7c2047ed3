// A cluster as built from config: immutable, shared by every worker through the snapshot.
// Per-worker mutable state (balancer cursors, pools) lives in upstream::WorkerClusters, not here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/network/address.h"
#include "source/stats/store.h"
#include "source/upstream/cluster_http_stats.h"

namespace remora::upstream {

struct Host {
  network::Address address;
  uint32_t weight = 1;
};

// An endpoint list; replaced whole when endpoints change, so a balancer built for one set never
// sees hosts vanish under it.
struct HostSet {
  std::vector<Host> hosts;

  // True when every host has the same weight (or there are none): balancers then skip weighting.
  bool weightsEqual() const;
  // The position of `host` if it is an element of this set (by identity, not by address), so a
  // host from a replaced set is never mistaken for one of this set's.
  std::optional<size_t> indexOf(const Host& host) const;
};
using HostSetConstSharedPtr = std::shared_ptr<const HostSet>;

// The lb_policy values Remora implements; upstream::WorkerClusters picks the balancer by it.
enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom };

// Cluster.least_request_lb_config, with Envoy's defaults.
struct LeastRequestConfig {
  uint32_t choice_count = 2;  // Hosts sampled per pick when all weights are equal.
  // Exponent on (active requests + 1) dividing a host's weight when weights differ.
  double active_request_bias = 1.0;
};

// Envoy's cluster.<name>.* stats that this cluster updates.
struct ClusterStats {
  ClusterStats(stats::Store& store, const std::string& cluster_name);
  stats::Counter& upstream_cx_total;
  stats::Gauge& upstream_cx_active;
  stats::Counter& upstream_cx_connect_fail;
  stats::Counter& upstream_cx_connect_timeout;
  stats::Counter& upstream_cx_destroy;
  stats::Counter& upstream_cx_destroy_local;   // We closed it (pool full, error, reset).
  stats::Counter& upstream_cx_destroy_remote;  // The upstream closed or reset it.
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
  LeastRequestConfig least_request;  // Meaningful for kLeastRequest only.
  HostSetConstSharedPtr host_set;
  // type: EDS: host_set comes from the ClusterLoadAssignment named eds_service_name.
  bool eds = false;
  std::string eds_service_name;
  std::shared_ptr<ClusterStats> stats;
  std::shared_ptr<ClusterHttpStats> http_stats;  // upstream_rq_*, updated by the router.
};
using ClusterConstSharedPtr = std::shared_ptr<const Cluster>;

}  // namespace remora::upstream
