#include "source/upstream/host_set.h"

#include <algorithm>
#include <functional>

namespace remora::upstream {

const char* edsHealthStatusName(EdsHealthStatus status) {
  switch (status) {
    case EdsHealthStatus::kHealthy:
      return "HEALTHY";
    case EdsHealthStatus::kUnhealthy:
      return "UNHEALTHY";
    case EdsHealthStatus::kDraining:
      return "DRAINING";
    case EdsHealthStatus::kTimeout:
      return "TIMEOUT";
    case EdsHealthStatus::kDegraded:
      return "DEGRADED";
    case EdsHealthStatus::kUnknown:
      break;
  }
  return "UNKNOWN";
}

bool HostSet::weightsEqual() const {
  for (const Host& host : hosts) {
    if (host.weight != hosts.front().weight) return false;
  }
  return true;
}

std::optional<size_t> HostSet::indexOf(const Host& host) const {
  // std::less gives a total order even across unrelated objects, unlike a raw pointer '<'.
  const Host* begin = hosts.data();
  const Host* end = begin + hosts.size();
  if (std::less<const Host*>()(&host, begin) || !std::less<const Host*>()(&host, end)) {
    return std::nullopt;
  }
  return static_cast<size_t>(&host - begin);
}

HostIndexes allHosts(const HostSet& set) {
  HostIndexes all(set.hosts.size());
  for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
  return all;
}

bool weightsEqual(const HostSet& set, const HostIndexes& members) {
  for (uint32_t index : members) {
    if (set.hosts[index].weight != set.hosts[members.front()].weight) return false;
  }
  return true;
}

std::optional<size_t> memberPosition(const HostIndexes& members, size_t index) {
  auto it = std::lower_bound(members.begin(), members.end(), index);
  if (it == members.end() || *it != index) return std::nullopt;
  return static_cast<size_t>(it - members.begin());
}

}  // namespace remora::upstream
