#include "source/config/cluster_builder.h"

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

}  // namespace

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
  if (proto.type() != Cluster::STATIC) {
    return invalidAt(fieldPath(path, "type"),
                     absl::StrCat(Cluster::DiscoveryType_Name(proto.type()),
                                  " is not supported yet; this version serves STATIC clusters"));
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
  if (proto.lb_policy() != Cluster::ROUND_ROBIN) {
    report.warnings.push_back(
        atPath(fieldPath(path, "lb_policy"),
               absl::StrCat(Cluster::LbPolicy_Name(proto.lb_policy()),
                            " is not supported yet; ROUND_ROBIN is used instead")));
  }

  auto hosts = buildHosts(proto.load_assignment(), fieldPath(path, "load_assignment"));
  if (!hosts.ok()) return hosts.status();
  cluster->host_set = *std::move(hosts);
  cluster->stats = std::make_shared<upstream::ClusterStats>(store, cluster->name);
  cluster->stats->membership_total.set(static_cast<int64_t>(cluster->host_set->hosts.size()));
  return cluster;
}

}  // namespace remora::config
