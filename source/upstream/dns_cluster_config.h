// What a STRICT_DNS or LOGICAL_DNS cluster resolves, and how often: the part of
// envoy.config.cluster.v3.Cluster that upstream::DnsClusters runs on.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "source/network/address.h"
#include "source/upstream/host_set.h"

namespace remora::upstream {

// Cluster.DnsLookupFamily, same numbering. AUTO asks for IPv6 and falls back to IPv4 when there
// is none; V4_PREFERRED the other way round; ALL takes both.
enum class DnsLookupFamily : uint8_t {
  kAuto = 0,
  kV4Only = 1,
  kV6Only = 2,
  kV4Preferred = 3,
  kAll = 4
};

struct DnsClusterConfig {
  // LOGICAL_DNS: one host per target, the first address of the latest answer. STRICT_DNS: one
  // host per address of every answer.
  bool logical = false;
  std::chrono::milliseconds refresh_rate{5000};  // dns_refresh_rate.
  // dns_failure_refresh_rate: after a failed resolution, retry with exponential back-off between
  // base and max (with jitter); unset (0): retry after refresh_rate.
  std::chrono::milliseconds failure_refresh_base{0};
  std::chrono::milliseconds failure_refresh_max{0};
  // respect_dns_ttl: the next resolution of a target follows the answer's TTL instead of
  // refresh_rate.
  bool respect_dns_ttl = false;
  DnsLookupFamily family = DnsLookupFamily::kAuto;
  // typed_dns_resolver_config (envoy.network.dns_resolver.cares) resolvers; empty: the system's
  // (/etc/resolv.conf).
  std::vector<network::Address> resolvers;

  // One lb_endpoint of load_assignment: a name to resolve, and the host every resolved address
  // becomes (weight, priority, locality, health), with the address filled in.
  struct Target {
    std::string hostname;
    uint32_t port = 0;
    Host prototype;
  };
  std::vector<Target> targets;
  // localities and policy of load_assignment; hosts empty.
  HostSet prototype;
};

}  // namespace remora::upstream
