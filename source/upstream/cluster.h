// A cluster as built from config: immutable, shared by every worker through the snapshot.
// Per-worker mutable state (balancer cursors, pools) lives in upstream::WorkerClusters, not here.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "source/network/address.h"
#include "source/stats/store.h"
#include "source/upstream/cluster_http_stats.h"
#include "source/upstream/host_set.h"
#include "source/upstream/resource_manager.h"
#include "source/upstream/ring_hash.h"

namespace remora::upstream {

// The lb_policy values Remora implements; upstream::WorkerClusters picks the balancer by it.
enum class LbPolicy { kRoundRobin, kLeastRequest, kRandom, kRingHash, kMaglev };

class PrioritySet;
struct DnsClusterConfig;
struct HealthCheckConfig;
struct OutlierDetectionConfig;

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
  stats::Counter& lb_healthy_panic;      // Picks made from all hosts because too few were healthy.
  stats::Counter& upstream_cx_overflow;  // A connection the max_connections breaker held back.
  stats::Counter&
      upstream_rq_pending_overflow;  // Requests failed by max_pending_requests/max_requests.
  stats::Counter& upstream_rq_retry_overflow;  // Retries not made because of max_retries/budget.
  // ORIGINAL_DST requests whose destination header held no IP:port.
  stats::Counter& original_dst_host_invalid;
  stats::Gauge& membership_total;
  stats::Gauge& membership_healthy;
  stats::Gauge& membership_degraded;
};

// type: ORIGINAL_DST (Cluster.original_dst_lb_config and cleanup_interval): every request goes to
// the address it was originally sent to, a host made on the fly by each worker.
struct OriginalDstConfig {
  // use_http_header: the address comes from this header when the request has it.
  bool use_http_header = false;
  std::string http_header_name = "x-envoy-original-dst-host";  // Lowercase.
  uint32_t upstream_port_override = 0;  // Replaces the destination's port when set.
  // Hosts unused for this long are dropped, with their connections.
  std::chrono::milliseconds cleanup_interval{5000};
};

// The hosts an ORIGINAL_DST cluster's workers currently keep, by address with how many workers
// keep each: what /clusters lists. Changed only when a worker makes or drops a host, never per
// request, so a mutex is cheap enough.
class OriginalDstHosts {
 public:
  void add(const std::string& address);
  void remove(const std::string& address);
  std::vector<std::string> addresses() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, uint32_t> workers_by_address_;
};

struct Cluster {
  std::string name;
  std::chrono::milliseconds connect_timeout{5000};
  uint32_t per_connection_buffer_limit_bytes = 1024 * 1024;
  LbPolicy lb_policy = LbPolicy::kRoundRobin;
  LeastRequestConfig least_request;    // Meaningful for kLeastRequest only.
  RingHashConfig ring_hash;            // kRingHash only.
  uint64_t maglev_table_size = 65537;  // kMaglev only; prime.
  // common_lb_config: percent of healthy (plus degraded) hosts below which a priority level is
  // balanced over all its hosts; and locality_weighted_lb_config.
  uint32_t healthy_panic_threshold = 50;
  bool locality_weighted = false;
  HostSetConstSharedPtr host_set;
  // host_set arranged by priority and health with the settings above; rebuilt (refreshHosts())
  // whenever either changes. Workers rebuild their balancer when this pointer changes.
  std::shared_ptr<const PrioritySet> priority_set;
  // type: EDS: host_set comes from the ClusterLoadAssignment named eds_service_name.
  bool eds = false;
  std::string eds_service_name;
  // type: STRICT_DNS or LOGICAL_DNS: host_set comes from resolving these targets
  // (upstream::DnsClusters). The fingerprint covers what resolution depends on; when it changes,
  // the names are resolved afresh.
  std::shared_ptr<const DnsClusterConfig> dns;
  std::string dns_fingerprint;
  // type: ORIGINAL_DST; null otherwise. `original_dst_hosts` is shared by the cluster's versions.
  std::shared_ptr<const OriginalDstConfig> original_dst;
  std::shared_ptr<OriginalDstHosts> original_dst_hosts;
  // health_checks[0]; null when the cluster is not actively checked. The fingerprint (the
  // serialized proto) tells a changed check from the same one in a new cluster version, so an
  // update that leaves the check alone keeps the hosts' health.
  std::shared_ptr<const HealthCheckConfig> health_check;
  std::string health_check_fingerprint;
  // outlier_detection; null when unset. Fingerprinted likewise: an unchanged one keeps ejections.
  std::shared_ptr<const OutlierDetectionConfig> outlier_detection;
  std::string outlier_detection_fingerprint;
  // circuit_breakers: shared by this cluster's EDS versions; a CDS update starts afresh.
  ClusterResourcesSharedPtr resources;
  std::shared_ptr<ClusterStats> stats;
  std::shared_ptr<ClusterHttpStats> http_stats;  // upstream_rq_*, updated by the router.
};
using ClusterConstSharedPtr = std::shared_ptr<const Cluster>;

// Rebuilds cluster.priority_set from its host_set and settings, and updates its membership gauges.
// Main thread only: the result is shared with every worker.
void refreshHosts(Cluster& cluster);

}  // namespace remora::upstream
