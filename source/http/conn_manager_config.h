// The http_connection_manager filter's configuration, compiled once per listener per snapshot and
// shared by every worker: codec limits, timeouts, header handling, the route table, the HTTP
// filter factories and access logs.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "api/http/filter.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "source/http/http1/parser.h"
#include "source/network/cidr.h"
#include "source/router/route_table.h"
#include "source/stats/store.h"

namespace remora::accesslog {
class AccessLog;
}

namespace remora::http {

// Envoy's http.<stat_prefix>.* names.
struct ConnManagerStats {
  ConnManagerStats(stats::Store& store, const std::string& stat_prefix);
  stats::Counter& downstream_cx_total;
  stats::Gauge& downstream_cx_active;
  stats::Counter& downstream_cx_http1_total;
  stats::Counter& downstream_cx_protocol_error;
  stats::Counter& downstream_cx_idle_timeout;
  stats::Counter& downstream_cx_rx_bytes_total;
  stats::Counter& downstream_cx_tx_bytes_total;
  stats::Counter& downstream_cx_upgrades_total;
  stats::Gauge& downstream_cx_upgrades_active;
  stats::Counter& downstream_rq_total;
  stats::Counter& downstream_rq_http1_total;
  stats::Gauge& downstream_rq_active;
  stats::Counter& downstream_rq_1xx;
  stats::Counter& downstream_rq_2xx;
  stats::Counter& downstream_rq_3xx;
  stats::Counter& downstream_rq_4xx;
  stats::Counter& downstream_rq_5xx;
  stats::Counter& downstream_rq_completed;
  stats::Counter& downstream_rq_timeout;
  stats::Counter& downstream_rq_header_timeout;
  stats::Counter& downstream_rq_idle_timeout;
  stats::Counter& downstream_rq_rx_reset;
  stats::Counter& downstream_rq_tx_reset;
  stats::Counter& downstream_rq_non_relative_path;
  stats::Counter& downstream_rq_too_large;
  stats::Counter& downstream_rq_ws_on_non_ws_route;
  stats::Counter& no_route;
  stats::Counter& no_cluster;
  stats::Counter& rq_redirect;
  stats::Counter& rq_direct_response;
};

enum class ServerHeaderMode { kOverwrite, kAppendIfAbsent, kPassThrough };

struct ConnManagerConfig {
  std::string stat_prefix;
  std::shared_ptr<ConnManagerStats> stats;
  http1::ParserLimits limits;                    // max_request_headers_kb, max_headers_count.
  std::chrono::milliseconds request_timeout{0};  // 0: disabled.
  std::chrono::milliseconds request_headers_timeout{0};  // 0: disabled.
  std::chrono::milliseconds stream_idle_timeout{300000};
  std::chrono::milliseconds idle_timeout{3600000};  // Connection idle, no active stream.
  bool use_remote_address = false;
  uint32_t xff_num_trusted_hops = 0;
  bool skip_xff_append = false;
  // internal_address_config: which peers are trusted with x-envoy-* headers. Unset: private and
  // loopback ranges.
  bool internal_ranges_set = false;
  std::vector<network::CidrRange> internal_ranges;
  bool internal_unix_sockets = false;
  bool generate_request_id = true;
  bool preserve_external_request_id = false;
  bool always_set_request_id_in_response = false;
  std::string via;
  std::string server_name = "envoy";  // Envoy's default, which clients and tests expect.
  ServerHeaderMode server_header_mode = ServerHeaderMode::kOverwrite;
  bool proxy_100_continue = false;
  // http_protocol_options: HTTP/1.0 is refused with 426 unless accepted, as in Envoy; trailers
  // are dropped unless enabled.
  bool accept_http_10 = false;
  std::string default_host_for_http_10;
  bool enable_trailers = false;
  // upgrade_configs: lowercased upgrade types allowed ("websocket", "connect").
  std::vector<std::string> upgrade_types;
  // Inline route_config; null when the routes come over RDS (rds_name), from the snapshot.
  std::shared_ptr<const router::RouteTable> route_table;
  std::string rds_name;
  envoy::config::core::v3::ConfigSource rds_config_source;
  // route_config.validate_clusters: true by default for an inline route table, as in Envoy.
  bool validate_clusters = true;
  std::vector<std::shared_ptr<const StreamFilterFactory>> filters;  // Router last.
  std::vector<std::shared_ptr<const accesslog::AccessLog>> access_logs;

  bool upgradeAllowed(absl::string_view type) const;
};

}  // namespace remora::http
