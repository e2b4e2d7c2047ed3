#include "source/http/conn_manager_builder.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "envoy/extensions/filters/http/router/v3/router.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "source/accesslog/access_log.h"
#include "source/config/field_path.h"
#include "source/router/router_filter.h"

namespace remora::http {

namespace {

using config::atPath;
using config::fieldPath;
using config::indexPath;
using config::invalidAt;
using envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager;

constexpr char kRouterType[] = "envoy.extensions.filters.http.router.v3.Router";

std::chrono::milliseconds millis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(d));
}

std::string typeName(const google::protobuf::Any& any) {
  const auto& url = any.type_url();
  return url.substr(url.rfind('/') + 1);
}

absl::Status buildFilters(const HttpConnectionManager& proto, const std::string& path,
                          ConnManagerConfig& config, config::ParseReport& report) {
  const std::string fpath = fieldPath(path, "http_filters");
  if (proto.http_filters().empty()) {
    return invalidAt(fpath,
                     "at least one HTTP filter is required, and the last must be "
                     "envoy.filters.http.router");
  }
  for (int i = 0; i < proto.http_filters_size(); ++i) {
    const auto& filter = proto.http_filters(i);
    const std::string ipath = indexPath(fpath, i);
    const bool last = i + 1 == proto.http_filters_size();
    if (filter.disabled()) continue;
    if (!filter.has_typed_config()) {
      if (filter.has_config_discovery()) {
        return invalidAt(fieldPath(ipath, "config_discovery"),
                         "filter config discovery (ECDS) is not supported");
      }
      return invalidAt(fieldPath(ipath, "typed_config"),
                       absl::StrCat("required (filter '", filter.name(), "')"));
    }
    const std::string type = typeName(filter.typed_config());
    if (type == kRouterType) {
      if (!last) return invalidAt(ipath, "the router is a terminal filter and must be last");
      envoy::extensions::filters::http::router::v3::Router router;
      if (!filter.typed_config().UnpackTo(&router)) {
        return invalidAt(fieldPath(ipath, "typed_config"), "cannot decode Router");
      }
      router::RouterConfig rc;
      rc.suppress_envoy_headers = router.suppress_envoy_headers();
      config.filters.push_back(std::make_shared<router::RouterFilterFactory>(rc));
      continue;
    }
    if (filter.is_optional()) {
      report.warnings.push_back(atPath(
          ipath, absl::StrCat("optional HTTP filter '", type, "' is not supported; skipped")));
      continue;
    }
    return invalidAt(fieldPath(ipath, "typed_config"),
                     absl::StrCat("unsupported HTTP filter type '", type, "'"));
  }
  if (config.filters.empty() ||
      dynamic_cast<const router::RouterFilterFactory*>(config.filters.back().get()) == nullptr) {
    return invalidAt(fpath, "the last HTTP filter must be envoy.filters.http.router");
  }
  return absl::OkStatus();
}

}  // namespace

accesslog::AccessLogFiles& processAccessLogFiles() {
  static auto* files = new accesslog::AccessLogFiles();
  return *files;
}

ConnManagerStats::ConnManagerStats(stats::Store& store, const std::string& prefix)
#define HTTP_COUNTER(n) n(store.counter(absl::StrCat("http.", prefix, "." #n)))
#define HTTP_GAUGE(n) n(store.gauge(absl::StrCat("http.", prefix, "." #n)))
    : HTTP_COUNTER(downstream_cx_total),
      HTTP_GAUGE(downstream_cx_active),
      HTTP_COUNTER(downstream_cx_http1_total),
      HTTP_COUNTER(downstream_cx_protocol_error),
      HTTP_COUNTER(downstream_cx_idle_timeout),
      HTTP_COUNTER(downstream_cx_rx_bytes_total),
      HTTP_COUNTER(downstream_cx_tx_bytes_total),
      HTTP_COUNTER(downstream_cx_upgrades_total),
      HTTP_GAUGE(downstream_cx_upgrades_active),
      HTTP_COUNTER(downstream_rq_total),
      HTTP_COUNTER(downstream_rq_http1_total),
      HTTP_GAUGE(downstream_rq_active),
      HTTP_COUNTER(downstream_rq_1xx),
      HTTP_COUNTER(downstream_rq_2xx),
      HTTP_COUNTER(downstream_rq_3xx),
      HTTP_COUNTER(downstream_rq_4xx),
      HTTP_COUNTER(downstream_rq_5xx),
      HTTP_COUNTER(downstream_rq_completed),
      HTTP_COUNTER(downstream_rq_timeout),
      HTTP_COUNTER(downstream_rq_header_timeout),
      HTTP_COUNTER(downstream_rq_idle_timeout),
      HTTP_COUNTER(downstream_rq_rx_reset),
      HTTP_COUNTER(downstream_rq_tx_reset),
      HTTP_COUNTER(downstream_rq_non_relative_path),
      HTTP_COUNTER(downstream_rq_too_large),
      HTTP_COUNTER(downstream_rq_ws_on_non_ws_route),
      HTTP_COUNTER(no_route),
      HTTP_COUNTER(no_cluster),
      HTTP_COUNTER(rq_redirect),
      HTTP_COUNTER(rq_direct_response) {
}
#undef HTTP_COUNTER
#undef HTTP_GAUGE

bool ConnManagerConfig::upgradeAllowed(absl::string_view type) const {
  for (const auto& t : upgrade_types) {
    if (t == type) return true;
  }
  return false;
}

absl::StatusOr<std::shared_ptr<const ConnManagerFactory>> buildConnManager(
    const HttpConnectionManager& proto, const std::string& path, stats::Store& store,
    config::ParseReport& report) {
  auto config = std::make_shared<ConnManagerConfig>();
  if (proto.stat_prefix().empty()) return invalidAt(fieldPath(path, "stat_prefix"), "required");
  config->stat_prefix = proto.stat_prefix();
  config->stats = std::make_shared<ConnManagerStats>(store, config->stat_prefix);

  if (proto.codec_type() == HttpConnectionManager::HTTP2 ||
      proto.codec_type() == HttpConnectionManager::HTTP3) {
    return invalidAt(fieldPath(path, "codec_type"),
                     absl::StrCat(HttpConnectionManager::CodecType_Name(proto.codec_type()),
                                  " is not supported yet; use AUTO or HTTP1"));
  }
  if (proto.has_rds()) {
    const std::string rds_path = fieldPath(path, "rds");
    if (proto.rds().route_config_name().empty()) {
      return invalidAt(fieldPath(rds_path, "route_config_name"), "required");
    }
    const auto& source = proto.rds().config_source();
    if (!source.has_ads() && !source.has_api_config_source()) {
      return invalidAt(
          fieldPath(rds_path, "config_source"),
          "must be ads or api_config_source (path and self sources are not supported)");
    }
    config->rds_name = proto.rds().route_config_name();
    config->rds_config_source = source;
    // Routes loaded over RDS are not checked against clusters, as in Envoy.
    config->validate_clusters = false;
  } else {
    if (!proto.has_route_config()) {
      return invalidAt(fieldPath(path, "route_config"), "required: an inline route table or rds");
    }
    auto table = router::RouteTable::compile(proto.route_config(), fieldPath(path, "route_config"));
    if (!table.ok()) return table.status();
    config->route_table = *std::move(table);
    if (proto.route_config().has_validate_clusters()) {
      config->validate_clusters = proto.route_config().validate_clusters().value();
    }
  }

  if (proto.has_max_request_headers_kb()) {
    const uint32_t kb = proto.max_request_headers_kb().value();
    if (kb == 0 || kb > 8192) {
      return invalidAt(fieldPath(path, "max_request_headers_kb"), "must be in 1..8192");
    }
    config->limits.max_headers_bytes = kb * 1024;
  }
  const auto& common = proto.common_http_protocol_options();
  if (common.has_max_headers_count()) {
    if (common.max_headers_count().value() == 0) {
      return invalidAt(
          fieldPath(fieldPath(path, "common_http_protocol_options"), "max_headers_count"),
          "must be at least 1");
    }
    config->limits.max_headers_count = common.max_headers_count().value();
  }
  if (common.has_idle_timeout()) config->idle_timeout = millis(common.idle_timeout());
  if (proto.has_request_timeout()) config->request_timeout = millis(proto.request_timeout());
  if (proto.has_request_headers_timeout()) {
    config->request_headers_timeout = millis(proto.request_headers_timeout());
  }
  if (proto.has_stream_idle_timeout()) {
    config->stream_idle_timeout = millis(proto.stream_idle_timeout());
  }

  config->use_remote_address = proto.use_remote_address().value();
  config->xff_num_trusted_hops = proto.xff_num_trusted_hops();
  config->skip_xff_append = proto.skip_xff_append();
  if (proto.has_internal_address_config()) {
    const auto& iac = proto.internal_address_config();
    config->internal_unix_sockets = iac.unix_sockets();
    config->internal_ranges_set = iac.cidr_ranges_size() > 0 || iac.unix_sockets();
    for (int i = 0; i < iac.cidr_ranges_size(); ++i) {
      const auto& r = iac.cidr_ranges(i);
      auto range = network::CidrRange::create(r.address_prefix(), r.prefix_len().value());
      if (!range.ok()) {
        return invalidAt(
            indexPath(fieldPath(fieldPath(path, "internal_address_config"), "cidr_ranges"), i),
            std::string(range.status().message()));
      }
      config->internal_ranges.push_back(*range);
    }
  }
  if (proto.has_generate_request_id()) {
    config->generate_request_id = proto.generate_request_id().value();
  }
  config->preserve_external_request_id = proto.preserve_external_request_id();
  config->always_set_request_id_in_response = proto.always_set_request_id_in_response();
  config->via = proto.via();
  if (!proto.server_name().empty()) config->server_name = proto.server_name();
  switch (proto.server_header_transformation()) {
    case HttpConnectionManager::APPEND_IF_ABSENT:
      config->server_header_mode = ServerHeaderMode::kAppendIfAbsent;
      break;
    case HttpConnectionManager::PASS_THROUGH:
      config->server_header_mode = ServerHeaderMode::kPassThrough;
      break;
    default:
      config->server_header_mode = ServerHeaderMode::kOverwrite;
      break;
  }
  config->proxy_100_continue = proto.proxy_100_continue();
  config->accept_http_10 = proto.http_protocol_options().accept_http_10();
  config->default_host_for_http_10 = proto.http_protocol_options().default_host_for_http_10();
  config->enable_trailers = proto.http_protocol_options().enable_trailers();
  for (int i = 0; i < proto.upgrade_configs_size(); ++i) {
    const auto& u = proto.upgrade_configs(i);
    if (u.has_enabled() && !u.enabled().value()) continue;
    if (u.filters_size() > 0) {
      return invalidAt(fieldPath(indexPath(fieldPath(path, "upgrade_configs"), i), "filters"),
                       "per-upgrade filter chains are not supported");
    }
    config->upgrade_types.push_back(absl::AsciiStrToLower(u.upgrade_type()));
  }

  if (auto status = buildFilters(proto, path, *config, report); !status.ok()) return status;

  auto logs = accesslog::buildAccessLogs(proto.access_log(), fieldPath(path, "access_log"),
                                         processAccessLogFiles());
  if (!logs.ok()) return logs.status();
  config->access_logs = *std::move(logs);
  return std::make_shared<const ConnManagerFactory>(std::move(config));
}

}  // namespace remora::http
