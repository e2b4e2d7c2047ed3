// Clusters for balancer tests: hosts 127.0.0.1:8000, :8001, ... each with a priority, EDS health,
// weight and locality, arranged into a priority set as the config builder does.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "source/upstream/cluster.h"
#include "source/upstream/priority_set.h"

namespace remora::upstream {

struct HostSpec {
  uint32_t priority = 0;
  EdsHealthStatus health = EdsHealthStatus::kHealthy;
  uint32_t weight = 1;
  uint32_t locality = 0;
};

inline std::vector<HostSpec> specs(int n, uint32_t priority = 0,
                                   EdsHealthStatus health = EdsHealthStatus::kHealthy) {
  return std::vector<HostSpec>(n, HostSpec{priority, health, 1, 0});
}

inline std::vector<HostSpec> operator+(std::vector<HostSpec> a, const std::vector<HostSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// `locality_weights` adds one locality per weight (priority taken from its first host, or 0).
inline std::shared_ptr<Cluster> clusterOf(const std::vector<HostSpec>& hosts,
                                          LbPolicy policy = LbPolicy::kRoundRobin,
                                          std::vector<uint32_t> locality_weights = {}) {
  auto set = std::make_shared<HostSet>();
  for (size_t i = 0; i < hosts.size(); ++i) {
    Host host;
    host.address = *network::Address::fromIpPort("127.0.0.1", static_cast<uint16_t>(8000 + i));
    host.weight = hosts[i].weight;
    host.priority = hosts[i].priority;
    host.eds_health = hosts[i].health;
    host.locality = hosts[i].locality;
    set->hosts.push_back(host);
  }
  for (size_t l = 0; l < locality_weights.size(); ++l) {
    Locality locality;
    locality.weight = locality_weights[l];
    for (const HostSpec& spec : hosts) {
      if (spec.locality == l) {
        locality.priority = spec.priority;
        break;
      }
    }
    set->localities.push_back(locality);
  }
  auto cluster = std::make_shared<Cluster>();
  cluster->name = "c";
  cluster->lb_policy = policy;
  cluster->host_set = set;
  refreshHosts(*cluster);
  return cluster;
}

inline uint16_t portOf(const Host* host) { return host == nullptr ? 0 : host->address.port(); }

}  // namespace remora::upstream
