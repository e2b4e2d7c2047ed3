// Bootstrap and resource config sources → where and how to subscribe: the ADS server, or a
// per-type server, with the protocol (state of the world or delta) and the gRPC target. Errors
// name the field.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/config/core/v3/config_source.pb.h"
#include "grpcpp/security/credentials.h"

namespace remora::xds {

// A gRPC server to stream from (ads_config, or an api_config_source).
struct ApiSource {
  bool delta = false;
  bool set_node_on_first_message_only = false;
  std::string target;  // gRPC target: "ipv4:127.0.0.1:18000", "unix:/path", or a target_uri.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // The channel's largest message: envoy_grpc.max_receive_message_length, where unset or 0 means
  // unlimited (-1) as in Envoy; google_grpc keeps gRPC's own default (nullopt, 4 MiB).
  std::optional<int> max_receive_message_length;
  // Identifies equal sources so that subscriptions to the same server share one stream.
  std::string key() const { return std::string(delta ? "delta:" : "sotw:") + target; }
};

// A ConfigSource: ADS, or its own server.
struct Source {
  bool ads = false;
  ApiSource api;  // When !ads.
  std::chrono::milliseconds initial_fetch_timeout{15000};
};

struct DynamicResources {
  std::optional<ApiSource> ads;
  std::optional<Source> lds;
  std::optional<Source> cds;
};

// dynamic_resources of the bootstrap; nullopt-filled when it has none. The static clusters are
// where envoy_grpc cluster_name is looked up.
absl::StatusOr<DynamicResources> parseDynamicResources(
    const envoy::config::bootstrap::v3::Bootstrap& bootstrap);

// A resource's ConfigSource (HCM rds.config_source, a cluster's eds_config), checked against the
// bootstrap (ads needs ads_config).
absl::StatusOr<Source> parseSource(const envoy::config::core::v3::ConfigSource& source,
                                   const std::string& path,
                                   const envoy::config::bootstrap::v3::Bootstrap& bootstrap,
                                   bool have_ads);

}  // namespace remora::xds
