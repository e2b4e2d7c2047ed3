#include "source/config/cluster_builder.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "envoy/extensions/network/dns_resolver/cares/v3/cares_dns_resolver.pb.h"
#include "google/protobuf/util/time_util.h"
#include "source/config/address_builder.h"
#include "source/config/duration_fields.h"
#include "source/config/field_path.h"
#include "source/upstream/dns_cluster_config.h"
#include "source/upstream/health_check_config.h"
#include "source/upstream/outlier_detection_config.h"
#include "source/upstream/priority_set.h"

namespace remora::config {

namespace {

using envoy::config::cluster::v3::Cluster;

upstream::EdsHealthStatus edsHealth(envoy::config::core::v3::HealthStatus status) {
  switch (status) {
    case envoy::config::core::v3::HEALTHY:
      return upstream::EdsHealthStatus::kHealthy;
    case envoy::config::core::v3::UNHEALTHY:
      return upstream::EdsHealthStatus::kUnhealthy;
    case envoy::config::core::v3::DRAINING:
      return upstream::EdsHealthStatus::kDraining;
    case envoy::config::core::v3::TIMEOUT:
      return upstream::EdsHealthStatus::kTimeout;
    case envoy::config::core::v3::DEGRADED:
      return upstream::EdsHealthStatus::kDegraded;
    default:
      return upstream::EdsHealthStatus::kUnknown;
  }
}

// An endpoint of a DNS cluster: a name (or IP) and a port.
absl::StatusOr<upstream::DnsClusterConfig::Target> dnsTarget(
    const envoy::config::core::v3::Address& address, const std::string& path) {
  if (!address.has_socket_address()) {
    return invalidAt(path, "a DNS cluster's endpoints need a socket_address");
  }
  const auto& sa = address.socket_address();
  const std::string sa_path = fieldPath(path, "socket_address");
  if (sa.address().empty()) return invalidAt(fieldPath(sa_path, "address"), "required");
  if (!sa.resolver_name().empty()) {
    return invalidAt(fieldPath(sa_path, "resolver_name"), "custom resolvers are not supported");
  }
  if (sa.port_specifier_case() != envoy::config::core::v3::SocketAddress::kPortValue ||
      sa.port_value() == 0 || sa.port_value() > 65535) {
    return invalidAt(fieldPath(sa_path, "port_value"), "must be in [1, 65535]");
  }
  upstream::DnsClusterConfig::Target target;
  target.hostname = sa.address();
  target.port = sa.port_value();
  return target;
}

// With `dns_targets`, endpoint addresses are names to resolve: each endpoint becomes a target
// whose host prototype has no address, and the set gets no hosts.
absl::StatusOr<std::shared_ptr<upstream::HostSet>> buildHosts(
    const envoy::config::endpoint::v3::ClusterLoadAssignment& cla, const std::string& path,
    std::vector<upstream::DnsClusterConfig::Target>* dns_targets = nullptr) {
  auto set = std::make_shared<upstream::HostSet>();
  if (cla.has_policy()) {
    const std::string policy_path = fieldPath(path, "policy");
    if (cla.policy().has_overprovisioning_factor()) {
      if (cla.policy().overprovisioning_factor().value() == 0) {
        return invalidAt(fieldPath(policy_path, "overprovisioning_factor"),
                         "must be greater than 0");
      }
      set->overprovisioning_factor = cla.policy().overprovisioning_factor().value();
    }
    set->weighted_priority_health = cla.policy().weighted_priority_health();
  }
  // Sized once: growing the vector host by host moved every Host again at each doubling, a
  // visible share of applying thousands of EDS clusters.
  size_t endpoints = 0;
  for (const auto& locality : cla.endpoints()) endpoints += locality.lb_endpoints_size();
  set->localities.reserve(cla.endpoints_size());
  if (dns_targets != nullptr) {
    dns_targets->reserve(dns_targets->size() + endpoints);
  } else {
    set->hosts.reserve(endpoints);
  }
  for (int i = 0; i < cla.endpoints_size(); ++i) {
    const auto& locality = cla.endpoints(i);
    const std::string lpath = indexPath(fieldPath(path, "endpoints"), i);
    upstream::Locality entry;
    entry.region = locality.locality().region();
    entry.zone = locality.locality().zone();
    entry.sub_zone = locality.locality().sub_zone();
    // Envoy's bound: the priority set holds one level per number up to the highest, so an
    // unbounded value from a control plane would be an allocation of its choosing.
    if (locality.priority() > 128) {
      return invalidAt(fieldPath(lpath, "priority"),
                       absl::StrCat(locality.priority(), " is over the maximum of 128"));
    }
    entry.priority = locality.priority();
    if (locality.has_load_balancing_weight()) {
      if (locality.load_balancing_weight().value() == 0) {
        return invalidAt(fieldPath(lpath, "load_balancing_weight"), "must be at least 1");
      }
      entry.weight = locality.load_balancing_weight().value();
    }
    const uint32_t locality_index = static_cast<uint32_t>(set->localities.size());
    set->localities.push_back(std::move(entry));
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      const auto& lbe = locality.lb_endpoints(j);
      const std::string epath = indexPath(fieldPath(lpath, "lb_endpoints"), j);
      if (!lbe.has_endpoint()) {
        return invalidAt(epath, "endpoint is required (named endpoints are not supported)");
      }
      const std::string apath = fieldPath(fieldPath(epath, "endpoint"), "address");
      upstream::Host host;
      upstream::DnsClusterConfig::Target target;
      if (dns_targets != nullptr) {
        auto named = dnsTarget(lbe.endpoint().address(), apath);
        if (!named.ok()) return named.status();
        target = *std::move(named);
      } else {
        auto address = buildAddress(lbe.endpoint().address(), apath, PortRule::kNonZeroPort);
        if (!address.ok()) return address.status();
        host.address = *std::move(address);
      }
      if (lbe.has_load_balancing_weight()) {
        if (lbe.load_balancing_weight().value() == 0) {
          return invalidAt(fieldPath(epath, "load_balancing_weight"), "must be at least 1");
        }
        host.weight = lbe.load_balancing_weight().value();
      }
      host.priority = locality.priority();
      host.locality = locality_index;
      host.eds_health = edsHealth(lbe.health_status());
      if (dns_targets != nullptr) {
        target.prototype = std::move(host);
        dns_targets->push_back(std::move(target));
      } else {
        set->hosts.push_back(std::move(host));
      }
    }
  }
  return set;
}

bool isPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

// ring_hash_lb_config, with Envoy's bounds (1024 and 8M entries by default, 8M at most).
absl::Status buildRingHash(const Cluster& proto, const std::string& path,
                           upstream::Cluster& cluster, ParseReport& report) {
  if (!proto.has_ring_hash_lb_config()) return absl::OkStatus();
  const auto& config = proto.ring_hash_lb_config();
  const std::string config_path = fieldPath(path, "ring_hash_lb_config");
  constexpr uint64_t kMaxRing = 8 * 1024 * 1024;
  if (config.has_minimum_ring_size()) {
    if (config.minimum_ring_size().value() > kMaxRing) {
      return invalidAt(fieldPath(config_path, "minimum_ring_size"), "must be at most 8388608");
    }
    cluster.ring_hash.min_ring_size = config.minimum_ring_size().value();
  }
  if (config.has_maximum_ring_size()) {
    if (config.maximum_ring_size().value() > kMaxRing) {
      return invalidAt(fieldPath(config_path, "maximum_ring_size"), "must be at most 8388608");
    }
    cluster.ring_hash.max_ring_size = config.maximum_ring_size().value();
  }
  if (cluster.ring_hash.min_ring_size > cluster.ring_hash.max_ring_size) {
    return invalidAt(
        fieldPath(config_path, "minimum_ring_size"),
        absl::StrCat("must not exceed maximum_ring_size (", cluster.ring_hash.max_ring_size, ")"));
  }
  if (config.hash_function() != Cluster::RingHashLbConfig::XX_HASH) {
    report.warnings.push_back(atPath(fieldPath(config_path, "hash_function"),
                                     "only XX_HASH is supported; XX_HASH is used"));
  }
  return absl::OkStatus();
}

absl::Status buildMaglev(const Cluster& proto, const std::string& path,
                         upstream::Cluster& cluster) {
  if (!proto.has_maglev_lb_config() || !proto.maglev_lb_config().has_table_size()) {
    return absl::OkStatus();
  }
  const uint64_t size = proto.maglev_lb_config().table_size().value();
  const std::string size_path = fieldPath(fieldPath(path, "maglev_lb_config"), "table_size");
  // Envoy's bound; a prime keeps every host's permutation a full cycle of the table.
  if (size > 5000011) return invalidAt(size_path, "must be at most 5000011");
  if (!isPrime(size)) return invalidAt(size_path, absl::StrCat(size, " is not a prime number"));
  cluster.maglev_table_size = size;
  return absl::OkStatus();
}

// circuit_breakers.thresholds: one entry per routing priority; the other priority keeps Envoy's
// defaults.
absl::Status buildCircuitBreakers(const Cluster& proto, const std::string& path,
                                  stats::Store& store, upstream::Cluster& cluster) {
  upstream::CircuitBreakerConfig configs[2];
  bool seen[2] = {false, false};
  const std::string breakers_path = fieldPath(path, "circuit_breakers");
  for (int i = 0; i < proto.circuit_breakers().thresholds_size(); ++i) {
    const auto& t = proto.circuit_breakers().thresholds(i);
    const std::string tpath = indexPath(fieldPath(breakers_path, "thresholds"), i);
    const size_t priority = t.priority() == envoy::config::core::v3::HIGH ? 1 : 0;
    if (seen[priority]) {
      return invalidAt(fieldPath(tpath, "priority"),
                       "a second thresholds entry for the same priority");
    }
    seen[priority] = true;
    upstream::CircuitBreakerConfig& c = configs[priority];
    if (t.has_max_connections()) c.max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) c.max_pending_requests = t.max_pending_requests().value();
    if (t.has_max_requests()) c.max_requests = t.max_requests().value();
    if (t.has_max_retries()) c.max_retries = t.max_retries().value();
    c.track_remaining = t.track_remaining();
    if (t.has_retry_budget()) {
      upstream::CircuitBreakerConfig::RetryBudget budget;
      const auto& rb = t.retry_budget();
      if (rb.has_budget_percent()) {
        const double percent = rb.budget_percent().value();
        if (std::isnan(percent) || percent < 0.0 || percent > 100.0) {
          return invalidAt(
              fieldPath(fieldPath(fieldPath(tpath, "retry_budget"), "budget_percent"), "value"),
              "must be between 0 and 100");
        }
        budget.budget_percent = percent;
      }
      if (rb.has_min_retry_concurrency()) {
        budget.min_retry_concurrency = rb.min_retry_concurrency().value();
      }
      c.retry_budget = budget;
    }
  }
  auto resources = std::make_shared<upstream::ClusterResources>();
  for (auto priority : {upstream::RoutingPriority::kDefault, upstream::RoutingPriority::kHigh}) {
    resources->by_priority[static_cast<size_t>(priority)] =
        std::make_unique<upstream::ResourceManager>(configs[static_cast<size_t>(priority)], store,
                                                    cluster.name, priority);
  }
  cluster.resources = std::move(resources);
  return absl::OkStatus();
}

// common_lb_config: the panic threshold and locality weighting; zone-aware routing is not
// implemented, which the report says rather than silently ignoring it.
absl::Status buildCommonLbConfig(const Cluster& proto, const std::string& path,
                                 upstream::Cluster& cluster, ParseReport& report) {
  if (!proto.has_common_lb_config()) return absl::OkStatus();
  const auto& common = proto.common_lb_config();
  const std::string common_path = fieldPath(path, "common_lb_config");
  if (common.has_healthy_panic_threshold()) {
    const double value = common.healthy_panic_threshold().value();
    if (std::isnan(value) || value < 0.0 || value > 100.0) {
      return invalidAt(fieldPath(fieldPath(common_path, "healthy_panic_threshold"), "value"),
                       "must be between 0 and 100");
    }
    cluster.healthy_panic_threshold = static_cast<uint32_t>(std::lround(value));
  }
  if (common.has_zone_aware_lb_config()) {
    report.warnings.push_back(
        atPath(fieldPath(common_path, "zone_aware_lb_config"),
               "zone-aware routing is not supported; load is balanced without regard to zones"));
  }
  cluster.locality_weighted = common.has_locality_weighted_lb_config();
  return absl::OkStatus();
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
    case Cluster::RING_HASH:
      cluster.lb_policy = upstream::LbPolicy::kRingHash;
      return buildRingHash(proto, path, cluster, report);
    case Cluster::MAGLEV:
      cluster.lb_policy = upstream::LbPolicy::kMaglev;
      return buildMaglev(proto, path, cluster);
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

// ORIGINAL_DST: where the destination comes from, and how long unused hosts stay.
absl::StatusOr<std::shared_ptr<const upstream::OriginalDstConfig>> buildOriginalDst(
    const Cluster& proto, const std::string& path) {
  auto config = std::make_shared<upstream::OriginalDstConfig>();
  if (proto.has_cleanup_interval()) {
    if (absl::Status s =
            positiveMillis(proto.cleanup_interval(), fieldPath(path, "cleanup_interval"),
                           config->cleanup_interval);
        !s.ok()) {
      return s;
    }
  }
  if (proto.has_original_dst_lb_config()) {
    const auto& lb = proto.original_dst_lb_config();
    const std::string lb_path = fieldPath(path, "original_dst_lb_config");
    config->use_http_header = lb.use_http_header();
    if (!lb.http_header_name().empty()) {
      config->http_header_name = absl::AsciiStrToLower(lb.http_header_name());
    }
    if (lb.has_upstream_port_override()) {
      const uint32_t port = lb.upstream_port_override().value();
      if (port == 0 || port > 65535) {
        return invalidAt(fieldPath(lb_path, "upstream_port_override"), "must be in [1, 65535]");
      }
      config->upstream_port_override = port;
    }
    if (lb.has_metadata_key()) {
      return invalidAt(fieldPath(lb_path, "metadata_key"), "not supported");
    }
  }
  return std::shared_ptr<const upstream::OriginalDstConfig>(std::move(config));
}

// STRICT_DNS / LOGICAL_DNS: how and how often the endpoints' names are resolved.
absl::StatusOr<std::shared_ptr<upstream::DnsClusterConfig>> buildDnsConfig(
    const Cluster& proto, const std::string& path) {
  auto dns = std::make_shared<upstream::DnsClusterConfig>();
  dns->logical = proto.type() == Cluster::LOGICAL_DNS;
  if (proto.has_dns_refresh_rate()) {
    if (absl::Status s = positiveMillis(proto.dns_refresh_rate(),
                                        fieldPath(path, "dns_refresh_rate"), dns->refresh_rate);
        !s.ok()) {
      return s;
    }
  }
  if (proto.has_dns_failure_refresh_rate()) {
    const auto& rate = proto.dns_failure_refresh_rate();
    const std::string rate_path = fieldPath(path, "dns_failure_refresh_rate");
    if (absl::Status s = positiveMillis(rate.base_interval(), fieldPath(rate_path, "base_interval"),
                                        dns->failure_refresh_base);
        !s.ok()) {
      return s;
    }
    dns->failure_refresh_max = dns->failure_refresh_base * 10;
    if (rate.has_max_interval()) {
      if (absl::Status s = positiveMillis(rate.max_interval(), fieldPath(rate_path, "max_interval"),
                                          dns->failure_refresh_max);
          !s.ok()) {
        return s;
      }
      if (dns->failure_refresh_max < dns->failure_refresh_base) {
        return invalidAt(fieldPath(rate_path, "max_interval"),
                         "must be greater than or equal to base_interval");
      }
    }
  }
  dns->respect_dns_ttl = proto.respect_dns_ttl();
  // Binary xDS keeps enum values newer than our proto; only the five known ones are usable.
  if (!Cluster::DnsLookupFamily_IsValid(proto.dns_lookup_family())) {
    return invalidAt(fieldPath(path, "dns_lookup_family"),
                     absl::StrCat("unknown value ", proto.dns_lookup_family()));
  }
  dns->family = static_cast<upstream::DnsLookupFamily>(proto.dns_lookup_family());
  if (proto.has_typed_dns_resolver_config()) {
    const auto& resolver = proto.typed_dns_resolver_config();
    const std::string rpath = fieldPath(path, "typed_dns_resolver_config");
    envoy::extensions::network::dns_resolver::cares::v3::CaresDnsResolverConfig cares;
    if (!resolver.typed_config().UnpackTo(&cares)) {
      return invalidAt(fieldPath(rpath, "typed_config"),
                       absl::StrCat("'", resolver.typed_config().type_url(),
                                    "' is not supported (only envoy.extensions.network."
                                    "dns_resolver.cares.v3.CaresDnsResolverConfig)"));
    }
    const std::string cpath = fieldPath(rpath, "typed_config");
    for (int i = 0; i < cares.resolvers_size(); ++i) {
      auto address = buildAddress(cares.resolvers(i), indexPath(fieldPath(cpath, "resolvers"), i),
                                  PortRule::kAnyPort);
      if (!address.ok()) return address.status();
      dns->resolvers.push_back(*std::move(address));
    }
  }
  return dns;
}

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
  upstream::refreshHosts(*copy);
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
  } else if (proto.type() == Cluster::STRICT_DNS || proto.type() == Cluster::LOGICAL_DNS) {
    auto dns = buildDnsConfig(proto, path);
    if (!dns.ok()) return dns.status();
    cluster->dns = *std::move(dns);
  } else if (proto.type() == Cluster::ORIGINAL_DST) {
    auto original_dst = buildOriginalDst(proto, path);
    if (!original_dst.ok()) return original_dst.status();
    cluster->original_dst = *std::move(original_dst);
    cluster->original_dst_hosts = std::make_shared<upstream::OriginalDstHosts>();
  } else if (proto.type() != Cluster::STATIC) {
    return invalidAt(fieldPath(path, "type"),
                     absl::StrCat(Cluster::DiscoveryType_Name(proto.type()),
                                  " is not supported yet; use STATIC, STRICT_DNS, LOGICAL_DNS, "
                                  "ORIGINAL_DST or EDS"));
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
  if (cluster->original_dst != nullptr) {
    // Envoy's rule: the cluster picks the host itself.
    if (proto.lb_policy() != Cluster::CLUSTER_PROVIDED) {
      return invalidAt(fieldPath(path, "lb_policy"),
                       absl::StrCat(Cluster::LbPolicy_Name(proto.lb_policy()),
                                    " is not valid for an ORIGINAL_DST cluster; only "
                                    "CLUSTER_PROVIDED is"));
    }
  } else if (absl::Status lb = buildLbPolicy(proto, path, *cluster, report); !lb.ok()) {
    return lb;
  }
  if (absl::Status common = buildCommonLbConfig(proto, path, *cluster, report); !common.ok()) {
    return common;
  }
  if (absl::Status breakers = buildCircuitBreakers(proto, path, store, *cluster); !breakers.ok()) {
    return breakers;
  }

  if (proto.health_checks_size() > 1) {
    return invalidAt(indexPath(fieldPath(path, "health_checks"), 1),
                     "only one health check per cluster is supported");
  }
  if (proto.health_checks_size() == 1) {
    auto check = upstream::buildHealthCheckConfig(proto.health_checks(0),
                                                  indexPath(fieldPath(path, "health_checks"), 0));
    if (!check.ok()) return check.status();
    cluster->health_check = std::make_shared<const upstream::HealthCheckConfig>(*std::move(check));
    proto.health_checks(0).SerializeToString(&cluster->health_check_fingerprint);
  }

  if (proto.has_outlier_detection()) {
    auto outlier = upstream::buildOutlierDetectionConfig(proto.outlier_detection(),
                                                         fieldPath(path, "outlier_detection"));
    if (!outlier.ok()) return outlier.status();
    cluster->outlier_detection =
        std::make_shared<const upstream::OutlierDetectionConfig>(*std::move(outlier));
    proto.outlier_detection().SerializeToString(&cluster->outlier_detection_fingerprint);
  }

  if (cluster->original_dst != nullptr) {
    if (proto.has_load_assignment()) {
      return invalidAt(fieldPath(path, "load_assignment"),
                       "an ORIGINAL_DST cluster takes no endpoints: it sends each request where it "
                       "was going");
    }
    cluster->host_set = std::make_shared<upstream::HostSet>();
  } else if (cluster->eds) {
    // Endpoints arrive over EDS; until then the cluster has none.
    cluster->host_set = std::make_shared<upstream::HostSet>();
  } else if (cluster->dns != nullptr) {
    // Hosts come from resolving the targets (upstream::DnsClusters); until then there are none.
    auto dns = std::const_pointer_cast<upstream::DnsClusterConfig>(cluster->dns);
    auto prototype =
        buildHosts(proto.load_assignment(), fieldPath(path, "load_assignment"), &dns->targets);
    if (!prototype.ok()) return prototype.status();
    if (dns->logical && dns->targets.size() != 1) {
      return invalidAt(fieldPath(path, "load_assignment"),
                       "a LOGICAL_DNS cluster needs exactly one endpoint");
    }
    dns->prototype = **prototype;
    cluster->host_set = *std::move(prototype);
    // Only what resolution depends on: another change (say lb_policy) keeps the answers.
    Cluster key;
    key.set_type(proto.type());
    *key.mutable_load_assignment() = proto.load_assignment();
    *key.mutable_dns_refresh_rate() = proto.dns_refresh_rate();
    *key.mutable_dns_failure_refresh_rate() = proto.dns_failure_refresh_rate();
    key.set_respect_dns_ttl(proto.respect_dns_ttl());
    key.set_dns_lookup_family(proto.dns_lookup_family());
    *key.mutable_typed_dns_resolver_config() = proto.typed_dns_resolver_config();
    key.SerializeToString(&cluster->dns_fingerprint);
  } else {
    auto hosts = buildHosts(proto.load_assignment(), fieldPath(path, "load_assignment"));
    if (!hosts.ok()) return hosts.status();
    cluster->host_set = *std::move(hosts);
  }
  cluster->stats = std::make_shared<upstream::ClusterStats>(store, cluster->name);
  cluster->http_stats = std::make_shared<upstream::ClusterHttpStats>(store, cluster->name);
  upstream::refreshHosts(*cluster);
  return cluster;
}

}  // namespace remora::config
