#include "source/upstream/cluster.h"

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
      upstream_cx_rx_bytes_total(store.counter(statName(c, "upstream_cx_rx_bytes_total"))),
      upstream_cx_tx_bytes_total(store.counter(statName(c, "upstream_cx_tx_bytes_total"))),
      upstream_cx_none_healthy(store.counter(statName(c, "upstream_cx_none_healthy"))),
      membership_total(store.gauge(statName(c, "membership_total"))) {}

}  // namespace remora::upstream
