// Envoy's listener.<address>.* stats for one listener, and its connection limit: one object shared
// by the workers that accept for the listener.
#pragma once

#include <string>

#include "source/server/connection_limit.h"
#include "source/stats/store.h"

namespace remora::server {

struct ListenerStats {
  ListenerStats(stats::Store& store, const std::string& prefix)
      : downstream_cx_total(store.counter(prefix + "downstream_cx_total")),
        downstream_cx_active(store.gauge(prefix + "downstream_cx_active")),
        downstream_cx_destroy(store.counter(prefix + "downstream_cx_destroy")),
        no_filter_chain_match(store.counter(prefix + "no_filter_chain_match")),
        downstream_cx_overflow(store.counter(prefix + "downstream_cx_overflow")),
        downstream_global_cx_overflow(store.counter(prefix + "downstream_global_cx_overflow")),
        downstream_cx_overload_reject(store.counter(prefix + "downstream_cx_overload_reject")),
        downstream_cx_accept_backoff(store.counter(prefix + "downstream_cx_accept_backoff")) {}
  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_destroy;
  stats::Counter& no_filter_chain_match;
  stats::Counter& downstream_cx_overflow;         // Over the listener's connection_limit.
  stats::Counter& downstream_global_cx_overflow;  // Over the global connection limit.
  stats::Counter& downstream_cx_overload_reject;  // reject_incoming_connections was active.
  // Remora's own: accept() failed for want of file descriptors or memory, and the listener
  // paused instead of retrying at once.
  stats::Counter& downstream_cx_accept_backoff;

  // Runtime envoy.resource_limits.listener.<name>.connection_limit, counted on every worker.
  ConnectionLimit connections;
};

}  // namespace remora::server
