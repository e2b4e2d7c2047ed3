// STRICT_DNS and LOGICAL_DNS clusters as buildCluster() reads them: endpoint names become
// resolution targets with their host attributes, the DNS settings get Envoy's defaults, and
// errors name the field.
#include <catch2/catch.hpp>

#include "source/upstream/dns_cluster_config.h"
#include "test/config/cluster_build_fixture.h"

namespace remora::config {
namespace {

using std::chrono::milliseconds;

constexpr char kTwoNames[] = R"(
load_assignment:
  endpoints:
  - priority: 1
    locality: {zone: z1}
    lb_endpoints:
    - endpoint: {address: {socket_address: {address: svc.example, port_value: 8080}}}
      load_balancing_weight: 3
    - endpoint: {address: {socket_address: {address: 10.0.0.7, port_value: 9090}}}
)";

const upstream::DnsClusterConfig& dnsOf(const Built& b) {
  REQUIRE(b.cluster.ok());
  REQUIRE((*b.cluster)->dns != nullptr);
  return *(*b.cluster)->dns;
}

TEST_CASE("a STRICT_DNS cluster turns its endpoints into targets with their attributes",
          "[config][dns]") {
  Built b = build("", kTwoNames, "STRICT_DNS");
  const auto& dns = dnsOf(b);
  CHECK_FALSE(dns.logical);
  REQUIRE(dns.targets.size() == 2);
  CHECK(dns.targets[0].hostname == "svc.example");
  CHECK(dns.targets[0].port == 8080);
  CHECK(dns.targets[0].prototype.weight == 3);
  CHECK(dns.targets[0].prototype.priority == 1);
  CHECK(dns.targets[1].hostname == "10.0.0.7");
  REQUIRE(dns.prototype.localities.size() == 1);
  CHECK(dns.prototype.localities[0].zone == "z1");
  CHECK(dns.prototype.hosts.empty());
  // Envoy's defaults.
  CHECK(dns.refresh_rate == milliseconds(5000));
  CHECK(dns.failure_refresh_base == milliseconds(0));
  CHECK_FALSE(dns.respect_dns_ttl);
  CHECK(dns.family == upstream::DnsLookupFamily::kAuto);
  CHECK(dns.resolvers.empty());
  CHECK((*b.cluster)->host_set->hosts.empty());
  CHECK(b.report.warnings.empty());
}

TEST_CASE("DNS settings are read as Envoy's", "[config][dns]") {
  Built b = build(R"(
dns_refresh_rate: 0.25s
dns_failure_refresh_rate: {base_interval: 0.1s, max_interval: 2s}
respect_dns_ttl: true
dns_lookup_family: V4_ONLY
typed_dns_resolver_config:
  name: envoy.network.dns_resolver.cares
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig
    resolvers:
    - socket_address: {address: 127.0.0.1, port_value: 5353}
)",
                  "load_assignment:\n  endpoints:\n  - lb_endpoints:\n"
                  "    - endpoint: {address: {socket_address: {address: svc.example, "
                  "port_value: 80}}}\n",
                  "LOGICAL_DNS");
  const auto& dns = dnsOf(b);
  CHECK(dns.logical);
  CHECK(dns.refresh_rate == milliseconds(250));
  CHECK(dns.failure_refresh_base == milliseconds(100));
  CHECK(dns.failure_refresh_max == milliseconds(2000));
  CHECK(dns.respect_dns_ttl);
  CHECK(dns.family == upstream::DnsLookupFamily::kV4Only);
  REQUIRE(dns.resolvers.size() == 1);
  CHECK(dns.resolvers[0].asString() == "127.0.0.1:5353");
  CHECK(b.report.warnings.empty());
}

TEST_CASE("the DNS fingerprint ignores settings resolution does not depend on", "[config][dns]") {
  Built a = build("", kTwoNames, "STRICT_DNS");
  Built same = build("lb_policy: RANDOM\n", kTwoNames, "STRICT_DNS");
  Built other = build("dns_refresh_rate: 1s\n", kTwoNames, "STRICT_DNS");
  REQUIRE(a.cluster.ok());
  REQUIRE(same.cluster.ok());
  REQUIRE(other.cluster.ok());
  CHECK_FALSE((*a.cluster)->dns_fingerprint.empty());
  CHECK((*a.cluster)->dns_fingerprint == (*same.cluster)->dns_fingerprint);
  CHECK((*a.cluster)->dns_fingerprint != (*other.cluster)->dns_fingerprint);
}

TEST_CASE("DNS cluster errors name the field", "[config][dns]") {
  CHECK(build("dns_refresh_rate: 0s\n", kTwoNames, "STRICT_DNS").cluster.status().message() ==
        "static_resources.clusters[0].dns_refresh_rate: must be greater than 0s");
  CHECK(build("dns_failure_refresh_rate: {base_interval: 2s, max_interval: 1s}\n", kTwoNames,
              "STRICT_DNS")
            .cluster.status()
            .message() ==
        "static_resources.clusters[0].dns_failure_refresh_rate.max_interval: must be greater "
        "than or equal to base_interval");
  CHECK(build("", kTwoNames, "LOGICAL_DNS").cluster.status().message() ==
        "static_resources.clusters[0].load_assignment: a LOGICAL_DNS cluster needs exactly one "
        "endpoint");
  CHECK(build("",
              "load_assignment:\n  endpoints:\n  - lb_endpoints:\n"
              "    - endpoint: {address: {socket_address: {address: svc.example, "
              "port_value: 0}}}\n",
              "STRICT_DNS")
            .cluster.status()
            .message() ==
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint."
        "address.socket_address.port_value: must be in [1, 65535]");
}

TEST_CASE("a dns_lookup_family value newer than Remora knows is refused", "[config][dns]") {
  envoy::config::cluster::v3::Cluster proto;
  ParseReport report;
  REQUIRE(parseYaml(std::string("name: c\ntype: STRICT_DNS\n") + kTwoNames, proto, report).ok());
  // As binary xDS delivers an enum value added after our proto.
  proto.set_dns_lookup_family(static_cast<envoy::config::cluster::v3::Cluster::DnsLookupFamily>(9));
  stats::Store store;
  auto built = buildCluster(proto, kPath, store, report);
  REQUIRE_FALSE(built.ok());
  CHECK(built.status().message() ==
        "static_resources.clusters[0].dns_lookup_family: unknown value 9");
}

}  // namespace
}  // namespace remora::config
