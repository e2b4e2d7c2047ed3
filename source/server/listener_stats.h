// Envoy's listener.<address>.* stats for one listener.
#pragma once

#include <string>

#include "source/stats/store.h"

namespace remora::server {

struct ListenerStats {
  ListenerStats(stats::Store& store, const std::string& prefix)
      : downstream_cx_total(store.counter(prefix + "downstream_cx_total")),
        downstream_cx_active(store.gauge(prefix + "downstream_cx_active")),
        downstream_cx_destroy(store.counter(prefix + "downstream_cx_destroy")),
        no_filter_chain_match(store.counter(prefix + "no_filter_chain_match")) {}
  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& no_filter_chain_match;
};

}  // namespace remora::server
