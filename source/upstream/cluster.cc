#include "source/upstream/cluster.h"

#include <functional>

namespace remora::upstream {

namespace {
std::string statName(const std::string& cluster, const char* stat) {
  return "cluster." + cluster + "." + stat;
}
}  // namespace

bool HostSet::weightsEqual() const {
  for (const Host& host : hosts) {
    if (host.weight != hosts.front().weight) return false;
  }
  return true;
}

std::optional<size_t> HostSet::indexOf(const Host& host) const {
  // std::less gives a total order even across unrelated objects, unlike a raw pointer '<'.
  const Host* begin = hosts.data();
  const Host* end = begin + hosts.size();
  if (std::less<const Host*>()(&host, begin) || !std::less<const Host*>()(&host, end)) {
    return std::nullopt;
  }
  return static_cast<size_t>(&host - begin);
}

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
      membership_total(store.gauge(statName(c, "membership_total"))) {}

}  // namespace remora::upstream
