#include "source/upstream/cluster_http_stats.h"

#include "absl/strings/str_cat.h"

namespace remora::upstream {

namespace {
std::string name(const std::string& cluster, const char* stat) {
  return absl::StrCat("cluster.", cluster, ".", stat);
}
}  // namespace

ClusterHttpStats::ClusterHttpStats(stats::Store& store, const std::string& c)
    : upstream_rq_total(store.counter(name(c, "upstream_rq_total"))),
      upstream_rq_active(store.gauge(name(c, "upstream_rq_active"))),
      upstream_rq_completed(store.counter(name(c, "upstream_rq_completed"))),
      upstream_rq_1xx(store.counter(name(c, "upstream_rq_1xx"))),
      upstream_rq_2xx(store.counter(name(c, "upstream_rq_2xx"))),
      upstream_rq_3xx(store.counter(name(c, "upstream_rq_3xx"))),
      upstream_rq_4xx(store.counter(name(c, "upstream_rq_4xx"))),
      upstream_rq_5xx(store.counter(name(c, "upstream_rq_5xx"))),
      upstream_rq_retry(store.counter(name(c, "upstream_rq_retry"))),
      upstream_rq_retry_success(store.counter(name(c, "upstream_rq_retry_success"))),
      upstream_rq_retry_limit_exceeded(store.counter(name(c, "upstream_rq_retry_limit_exceeded"))),
      upstream_rq_timeout(store.counter(name(c, "upstream_rq_timeout"))),
      upstream_rq_per_try_timeout(store.counter(name(c, "upstream_rq_per_try_timeout"))),
      upstream_rq_rx_reset(store.counter(name(c, "upstream_rq_rx_reset"))),
      upstream_rq_tx_reset(store.counter(name(c, "upstream_rq_tx_reset"))),
      upstream_rq_pending_total(store.counter(name(c, "upstream_rq_pending_total"))),
      upstream_cx_http1_total(store.counter(name(c, "upstream_cx_http1_total"))),
      upstream_cx_protocol_error(store.counter(name(c, "upstream_cx_protocol_error"))) {}

}  // namespace remora::upstream
