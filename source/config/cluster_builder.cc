#include "source/config/cluster_builder.h"

#include <cmath>

#include "google/protobuf/util/time_util.h"
#include "source/config/address_builder.h"
#include "source/config/field_path.h"

namespace remora::config {

namespace {

using envoy::config::cluster::v3::Cluster;

absl::StatusOr<std::shared_ptr<upstream::HostSet>> buildHosts(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& cla, const std::string& path) {
  auto set = std::make_shared<upstream::HostSet>();
  for (int i = 0; i < cla.endpoints_size(); ++i) {
    const auto& locality = cla.endpoints(i);
    const std::string lpath = indexPath(fieldPath(path, "endpoints"), i);
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      const auto& lbe = locality.lb_endpoints(j);
      const std::string epath = indexPath(fieldPath(lpath, "lb_endpoints"), j);
      if (!lbe.has_endpoint()) {
        return invalidAt(epath, "endpoint is required (named endpoints are not supported)");
      }
      auto address =
          buildAddress(lbe.endpoint().address(), fieldPath(fieldPath(epath, "endpoint"), "address"),
                       PortRule::kNonZeroPort);
      if (!address.ok()) return address.status();
      upstream::Host host;
      host.address = *std::move(address);
      if (lbe.has_load_balancing_weight()) {
        if (lbe.load_balancing_weight().value() == 0) {
          return invalidAt(fieldPath(epath, "load_balancing_weight"), "must be at least 1");
        }
        host.weight = lbe.load_balancing_weight().value();
      }
      set->hosts.push_back(std::move(host));
    }
  }
  return set;
}

// lb_policy and its settings. Policies Remora lacks fall back to ROUND_ROBIN with a warning, so a
// config written for Envoy still loads.
absl::Status buildLbPolicy(const Cluster& proto, const std::string& path,
                           upstream::Cluster& cluster, ParseReport& report) {
  switch (proto.lb_policy()) {
    case Cluster::ROUND_ROBIN:
      cluster.lb_policy = upstream::LbPolicy::kRoundRobin;
      return absl::OkStatus();
    case Cluster::RANDOM:
      cluster.lb_policy = upstream::LbPolicy::kRandom;
      return absl::OkStatus();
    case Cluster::LEAST_REQUEST:
      break;
    default:
      report.warnings.push_back(
          atPath(fieldPath(path, "lb_policy"),
                 absl::StrCat(Cluster::LbPolicy_Name(proto.lb_policy()),
                              " is not supported yet; ROUND_ROBIN is used instead")));
      cluster.lb_policy = upstream::LbPolicy::kRoundRobin;
      return absl::OkStatus();
  }
  cluster.lb_policy = upstream::LbPolicy::kLeastRequest;
  if (!proto.has_least_request_lb_config()) return absl::OkStatus();
  const auto& config = proto.least_request_lb_config();
  const std::string config_path = fieldPath(path, "least_request_lb_config");
  if (config.has_choice_count()) {
    // Envoy's validation: at least two choices, or there is nothing to compare.
    if (config.choice_count().value() < 2) {
      return invalidAt(fieldPath(config_path, "choice_count"), "must be at least 2");
    }
    cluster.least_request.choice_count = config.choice_count().value();
  }
  if (config.has_active_request_bias()) {
    const double bias = config.active_request_bias().default_value();
    // Envoy accepts such a config and falls back to the default bias; so do we, but say so.
    if (std::isnan(bias) || bias < 0.0) {
      report.warnings.push_back(
          atPath(fieldPath(fieldPath(config_path, "active_request_bias"), "default_value"),
                 absl::StrCat("must be >= 0.0, got ", bias, "; 1.0 is used")));
    } else {
      cluster.least_request.active_request_bias = bias;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<upstream::HostSetConstSharedPtr> buildHostSet(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& cla, const std::string& path) {
  auto hosts = buildHosts(cla, path);
  if (!hosts.ok()) return hosts.status();
  return upstream::HostSetConstSharedPtr(*std::move(hosts));
}

upstream::ClusterConstSharedPtr withHosts(const upstream::Cluster& cluster,
                                          upstream::HostSetConstSharedPtr hosts) {
  auto copy = std::make_shared<upstream::Cluster>(cluster);
  copy->host_set = std::move(hosts);
  copy->stats->membership_total.set(static_cast<int64_t>(copy->host_set->hosts.size()));
  return copy;
}

absl::StatusOr<upstream::ClusterConstSharedPtr> buildCluster(const Cluster& proto,
                                                             const std::string& path,
                                                             stats::Store& store,
                                                             ParseReport& report) {
  auto cluster = std::make_shared<upstream::Cluster>();
  if (proto.name().empty()) return invalidAt(fieldPath(path, "name"), "required");
  cluster->name = proto.name();

  if (proto.cluster_discovery_type_case() == Cluster::kClusterType) {
    return invalidAt(fieldPath(path, "cluster_type"), "custom cluster types are not supported");
  }
  if (proto.type() == Cluster::EDS) {
    const std::string eds_path = fieldPath(path, "eds_cluster_config");
    const auto& source = proto.eds_cluster_config().eds_config();
    if (!source.has_ads() && !source.has_api_config_source()) {
      return invalidAt(fieldPath(eds_path, "eds_config"),
                       "required: ads or api_config_source (path and self sources are not "
                       "supported)");
    }
    cluster->eds = true;
    cluster->eds_service_name = proto.eds_cluster_config().service_name().empty()
                                    ? proto.name()
                                    : proto.eds_cluster_config().service_name();
  } else if (proto.type() != Cluster::STATIC) {
    return invalidAt(fieldPath(path, "type"),
                     absl::StrCat(Cluster::DiscoveryType_Name(proto.type()),
                                  " is not supported yet; use STATIC or EDS"));
  }
  if (proto.has_transport_socket()) {
    return invalidAt(fieldPath(path, "transport_socket"),
                     "upstream TLS is not supported yet; refusing to send plaintext instead");
  }

  if (proto.has_connect_timeout()) {
    const int64_t ms =
        google::protobuf::util::TimeUtil::DurationToMilliseconds(proto.connect_timeout());
    if (ms <= 0) return invalidAt(fieldPath(path, "connect_timeout"), "must be greater than 0s");
    cluster->connect_timeout = std::chrono::milliseconds(ms);
  }
  if (proto.has_per_connection_buffer_limit_bytes()) {
    const uint32_t limit = proto.per_connection_buffer_limit_bytes().value();
    if (limit == 0) {
      return invalidAt(fieldPath(path, "per_connection_buffer_limit_bytes"), "must be at least 1");
    }
    cluster->per_connection_buffer_limit_bytes = limit;
  }
  if (absl::Status lb = buildLbPolicy(proto, path, *cluster, report); !lb.ok()) return lb;

  if (cluster->eds) {
    // Endpoints arrive over EDS; until then the cluster has none.
    cluster->host_set = std::make_shared<upstream::HostSet>();
  } else {
    auto hosts = buildHosts(proto.load_assignment(), fieldPath(path, "load_assignment"));
    if (!hosts.ok()) return hosts.status();
    cluster->host_set = *std::move(hosts);
  }
  cluster->stats = std::make_shared<upstream::ClusterStats>(store, cluster->name);
  cluster->http_stats = std::make_shared<upstream::ClusterHttpStats>(store, cluster->name);
  cluster->stats->membership_total.set(static_cast<int64_t>(cluster->host_set->hosts.size()));
  return cluster;
}

}  // namespace remora::config
