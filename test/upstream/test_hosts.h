// Host sets for balancer tests: 127.0.0.1:8000, :8001, ... with the given weights.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "source/upstream/cluster.h"

namespace remora::upstream {

inline HostSetConstSharedPtr weightedHosts(const std::vector<uint32_t>& weights) {
  auto set = std::make_shared<HostSet>();
  for (size_t i = 0; i < weights.size(); ++i) {
    set->hosts.push_back(
        {*network::Address::fromIpPort("127.0.0.1", static_cast<uint16_t>(8000 + i)), weights[i]});
  }
  return set;
}

inline HostSetConstSharedPtr hosts(int n) { return weightedHosts(std::vector<uint32_t>(n, 1)); }

inline uint16_t port(const Host* host) { return host->address.port(); }

// How many of `picks` picks went to each port.
template <class Lb>
std::map<uint16_t, int> countPicks(Lb& lb, int picks) {
  std::map<uint16_t, int> counts;
  for (int i = 0; i < picks; ++i) ++counts[port(lb.chooseHost(nullptr))];
  return counts;
}

}  // namespace remora::upstream
