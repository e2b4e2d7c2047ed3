#include "source/upstream/cluster.h"

#include "source/upstream/priority_set.h"

namespace remora::upstream {

namespace {
std::string statName(const std::string& cluster, const char* stat) {
  return "cluster." + cluster + "." + stat;
}
}  // namespace

ClusterStats::ClusterStats(stats::Store& store, const std::string& c)
    : upstream_cx_total(store.counter(statName(c, "upstream_cx_total"))),
      upstream_cx_active(store.gauge(statName(c, "upstream_cx_active"))),
      upstream_cx_connect_fail(store.counter(statName(c, "upstream_cx_connect_fail"))),
      upstream_cx_connect_timeout(store.counter(statName(c, "upstream_cx_connect_timeout"))),
      upstream_cx_destroy(store.counter(statName(c, "upstream_cx_destroy"))),
      upstream_cx_destroy_local(store.counter(statName(c, "upstream_cx_destroy_local"))),
      upstream_cx_destroy_remote(store.counter(statName(c, "upstream_cx_destroy_remote"))),
      upstream_cx_rx_bytes_total(store.counter(statName(c, "upstream_cx_rx_bytes_total"))),
      upstream_cx_tx_bytes_total(store.counter(statName(c, "upstream_cx_tx_bytes_total"))),
      upstream_cx_none_healthy(store.counter(statName(c, "upstream_cx_none_healthy"))),
      lb_healthy_panic(store.counter(statName(c, "lb_healthy_panic"))),
      upstream_cx_overflow(store.counter(statName(c, "upstream_cx_overflow"))),
      upstream_rq_pending_overflow(store.counter(statName(c, "upstream_rq_pending_overflow"))),
      upstream_rq_retry_overflow(store.counter(statName(c, "upstream_rq_retry_overflow"))),
      original_dst_host_invalid(store.counter(statName(c, "original_dst_host_invalid"))),
      membership_total(store.gauge(statName(c, "membership_total"))),
      membership_healthy(store.gauge(statName(c, "membership_healthy"))),
      membership_degraded(store.gauge(statName(c, "membership_degraded"))) {}

void OriginalDstHosts::add(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  ++workers_by_address_[address];
}

void OriginalDstHosts::remove(const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_by_address_.find(address);
  if (it != workers_by_address_.end() && --it->second == 0) workers_by_address_.erase(it);
}

std::vector<std::string> OriginalDstHosts::addresses() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  out.reserve(workers_by_address_.size());
  for (const auto& [address, workers] : workers_by_address_) out.push_back(address);
  return out;
}

void refreshHosts(Cluster& cluster) {
  auto set = std::make_shared<const PrioritySet>(cluster);
  if (cluster.stats) {
    cluster.stats->membership_total.set(static_cast<int64_t>(cluster.host_set->hosts.size()));
    cluster.stats->membership_healthy.set(set->healthyCount());
    cluster.stats->membership_degraded.set(set->degradedCount());
  }
  cluster.priority_set = std::move(set);
}

}  // namespace remora::upstream
