#include "source/xds/config_source.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/security/credentials.h"
#include "source/config/data_source.h"
#include "source/config/field_path.h"

namespace remora::xds {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;
using envoy::config::core::v3::ApiConfigSource;

namespace {

// envoy_grpc names a static cluster: stream to its first endpoint, as Envoy would connect to it.
absl::StatusOr<std::string> clusterTarget(
    const std::string& cluster_name, const std::string& path,
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap) {
  for (const auto& c : bootstrap.static_resources().clusters()) {
    if (c.name() != cluster_name) continue;
    for (const auto& locality : c.load_assignment().endpoints()) {
      for (const auto& lbe : locality.lb_endpoints()) {
        const auto& address = lbe.endpoint().address();
        if (address.has_pipe()) return absl::StrCat("unix:", address.pipe().path());
        if (address.has_socket_address()) {
          const auto& sa = address.socket_address();
          const bool v6 = sa.address().find(':') != std::string::npos;
          return absl::StrCat(v6 ? "ipv6:[" : "ipv4:", sa.address(), v6 ? "]:" : ":",
                              sa.port_value());
        }
      }
    }
    return invalidAt(path, absl::StrCat("static cluster '", cluster_name, "' has no endpoint"));
  }
  return invalidAt(path, absl::StrCat("'", cluster_name,
                                      "' is not a static cluster (xDS servers must be reachable "
                                      "before any dynamic cluster exists)"));
}

absl::StatusOr<ApiSource> parseApi(const ApiConfigSource& api, const std::string& path,
                                   const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                   bool aggregated) {
  ApiSource out;
  switch (api.api_type()) {
    case ApiConfigSource::GRPC:
    case ApiConfigSource::AGGREGATED_GRPC:
      out.delta = false;
      break;
    case ApiConfigSource::DELTA_GRPC:
    case ApiConfigSource::AGGREGATED_DELTA_GRPC:
      out.delta = true;
      break;
    default:
      return invalidAt(fieldPath(path, "api_type"),
                       absl::StrCat(ApiConfigSource::ApiType_Name(api.api_type()),
                                    " is not supported; use GRPC or DELTA_GRPC"));
  }
  if (!aggregated && (api.api_type() == ApiConfigSource::AGGREGATED_GRPC ||
                      api.api_type() == ApiConfigSource::AGGREGATED_DELTA_GRPC)) {
    return invalidAt(fieldPath(path, "api_type"),
                     "AGGREGATED_* types belong in ads_config; use GRPC or DELTA_GRPC here");
  }
  if (api.transport_api_version() == envoy::config::core::v3::V2) {
    return invalidAt(fieldPath(path, "transport_api_version"), "V2 is gone; use V3");
  }
  out.set_node_on_first_message_only = api.set_node_on_first_message_only();
  if (api.grpc_services_size() != 1) {
    return invalidAt(fieldPath(path, "grpc_services"), "exactly one gRPC service is required");
  }
  const std::string gpath = indexPath(fieldPath(path, "grpc_services"), 0);
  const auto& service = api.grpc_services(0);
  out.credentials = grpc::InsecureChannelCredentials();
  if (service.has_envoy_grpc()) {
    auto target =
        clusterTarget(service.envoy_grpc().cluster_name(),
                      fieldPath(fieldPath(gpath, "envoy_grpc"), "cluster_name"), bootstrap);
    if (!target.ok()) return target.status();
    out.target = *std::move(target);
    // Envoy's own gRPC client has no message limit unless this sets one; gRPC's default of 4 MiB
    // would refuse a CDS or EDS response of a large mesh and retry it forever.
    const uint32_t limit = service.envoy_grpc().max_receive_message_length().value();
    out.max_receive_message_length =
        limit == 0 ? -1 : static_cast<int>(std::min<uint32_t>(limit, INT32_MAX));
  } else if (service.has_google_grpc()) {
    const auto& g = service.google_grpc();
    const std::string ggpath = fieldPath(gpath, "google_grpc");
    if (g.target_uri().empty()) return invalidAt(fieldPath(ggpath, "target_uri"), "required");
    out.target = g.target_uri();
    if (g.channel_credentials().has_ssl_credentials()) {
      const auto& ssl = g.channel_credentials().ssl_credentials();
      const std::string spath =
          fieldPath(fieldPath(ggpath, "channel_credentials"), "ssl_credentials");
      grpc::SslCredentialsOptions options;
      auto roots = config::readDataSource(ssl.root_certs(), fieldPath(spath, "root_certs"));
      if (!roots.ok()) return roots.status();
      auto key = config::readDataSource(ssl.private_key(), fieldPath(spath, "private_key"));
      if (!key.ok()) return key.status();
      auto chain = config::readDataSource(ssl.cert_chain(), fieldPath(spath, "cert_chain"));
      if (!chain.ok()) return chain.status();
      options.pem_root_certs = *roots;
      options.pem_private_key = *key;
      options.pem_cert_chain = *chain;
      out.credentials = grpc::SslCredentials(options);
    }
  } else {
    return invalidAt(gpath, "envoy_grpc or google_grpc is required");
  }
  return out;
}

std::chrono::milliseconds fetchTimeout(const envoy::config::core::v3::ConfigSource& source) {
  if (!source.has_initial_fetch_timeout()) return std::chrono::milliseconds(15000);
  return std::chrono::milliseconds(
      google::protobuf::util::TimeUtil::DurationToMilliseconds(source.initial_fetch_timeout()));
}

}  // namespace

absl::StatusOr<Source> parseSource(const envoy::config::core::v3::ConfigSource& source,
                                   const std::string& path,
                                   const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                   bool have_ads) {
  Source out;
  out.initial_fetch_timeout = fetchTimeout(source);
  if (out.initial_fetch_timeout.count() < 0) {
    return invalidAt(fieldPath(path, "initial_fetch_timeout"), "must not be negative");
  }
  if (source.has_ads()) {
    if (!have_ads) {
      return invalidAt(fieldPath(path, "ads"),
                       "ADS is selected but dynamic_resources.ads_config is not set");
    }
    out.ads = true;
    return out;
  }
  if (source.has_api_config_source()) {
    auto api = parseApi(source.api_config_source(), fieldPath(path, "api_config_source"), bootstrap,
                        false);
    if (!api.ok()) return api.status();
    out.api = *std::move(api);
    return out;
  }
  return invalidAt(path,
                   "ads or api_config_source is required (path and self sources are not "
                   "supported)");
}

absl::StatusOr<DynamicResources> parseDynamicResources(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap) {
  DynamicResources out;
  if (!bootstrap.has_dynamic_resources()) return out;
  const auto& dr = bootstrap.dynamic_resources();
  const std::string path = "dynamic_resources";
  if (dr.has_ads_config()) {
    auto ads = parseApi(dr.ads_config(), fieldPath(path, "ads_config"), bootstrap, true);
    if (!ads.ok()) return ads.status();
    out.ads = *std::move(ads);
  }
  if (dr.has_lds_config()) {
    auto lds =
        parseSource(dr.lds_config(), fieldPath(path, "lds_config"), bootstrap, out.ads.has_value());
    if (!lds.ok()) return lds.status();
    out.lds = *std::move(lds);
  }
  if (dr.has_cds_config()) {
    auto cds =
        parseSource(dr.cds_config(), fieldPath(path, "cds_config"), bootstrap, out.ads.has_value());
    if (!cds.ok()) return cds.status();
    out.cds = *std::move(cds);
  }
  return out;
}

}  // namespace remora::xds
