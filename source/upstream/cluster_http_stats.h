// Envoy's cluster.<name>.upstream_rq_* stats, which the router updates per request attempt.
#pragma once

#include <string>

#include "source/stats/store.h"

namespace remora::upstream {

struct ClusterHttpStats {
  ClusterHttpStats(stats::Store& store, const std::string& cluster_name);
  stats::Counter& upstream_rq_total;
  stats::Gauge& upstream_rq_active;
  stats::Counter& upstream_rq_completed;
  stats::Counter& upstream_rq_1xx;
  stats::Counter& upstream_rq_2xx;
  stats::Counter& upstream_rq_3xx;
  stats::Counter& upstream_rq_4xx;
  stats::Counter& upstream_rq_5xx;
  stats::Counter& upstream_rq_retry;
  stats::Counter& upstream_rq_retry_success;
  stats::Counter& upstream_rq_retry_limit_exceeded;
  stats::Counter& upstream_rq_timeout;
  stats::Counter& upstream_rq_per_try_timeout;
  stats::Counter& upstream_rq_rx_reset;
  stats::Counter& upstream_rq_tx_reset;
  stats::Counter& upstream_rq_pending_total;
  stats::Counter& upstream_cx_http1_total;
  stats::Counter& upstream_cx_protocol_error;

  void countResponse(uint32_t status) {
    switch (status / 100) {
      case 1:
        upstream_rq_1xx.inc();
        break;
      case 2:
        upstream_rq_2xx.inc();
        break;
      case 3:
        upstream_rq_3xx.inc();
        break;
      case 4:
        upstream_rq_4xx.inc();
        break;
      case 5:
        upstream_rq_5xx.inc();
        break;
      default:
        break;
    }
  }
};

}  // namespace remora::upstream
