// Endpoints as EDS (or a static load_assignment) delivers them: hosts with their priority,
// locality, weight and health. Immutable; replaced whole when endpoints or health change, so a
// balancer built for one set never sees hosts vanish or change under it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "source/network/address.h"

namespace remora::upstream {

class OutlierHostMonitor;

// envoy.config.core.v3.HealthStatus, same numbering.
enum class EdsHealthStatus : uint8_t {
  kUnknown = 0,
  kHealthy = 1,
  kUnhealthy = 2,
  kDraining = 3,
  kTimeout = 4,
  kDegraded = 5,
};

// "UNKNOWN", "HEALTHY", ...: the proto enum's names, as the admin shows them.
const char* edsHealthStatusName(EdsHealthStatus status);

// How a balancer treats a host: healthy hosts take load first, degraded ones only when too few
// healthy remain, unhealthy ones only in panic.
enum class HostHealth : uint8_t { kHealthy, kDegraded, kUnhealthy };

struct Host {
  network::Address address;
  uint32_t weight = 1;
  uint32_t priority = 0;
  uint32_t locality = 0;  // Index into HostSet::localities.
  EdsHealthStatus eds_health = EdsHealthStatus::kUnknown;
  // Set by the main thread's active health checker and outlier detector, in a new HostSet.
  bool failed_active_health_check = false;
  bool outlier_ejected = false;
  // Where workers report this host's request outcomes when the cluster has outlier_detection;
  // the same monitor across host set versions, so counts survive endpoint updates.
  std::shared_ptr<OutlierHostMonitor> outlier;

  // Envoy's rules: UNHEALTHY, DRAINING and TIMEOUT take no load; UNKNOWN counts as healthy.
  HostHealth health() const {
    if (failed_active_health_check || outlier_ejected) return HostHealth::kUnhealthy;
    switch (eds_health) {
      case EdsHealthStatus::kUnhealthy:
      case EdsHealthStatus::kDraining:
      case EdsHealthStatus::kTimeout:
        return HostHealth::kUnhealthy;
      case EdsHealthStatus::kDegraded:
        return HostHealth::kDegraded;
      default:
        return HostHealth::kHealthy;
    }
  }
};

// One LocalityLbEndpoints entry.
struct Locality {
  std::string region;
  std::string zone;
  std::string sub_zone;
  uint32_t priority = 0;
  uint32_t weight = 0;  // load_balancing_weight; 0 when unset (no traffic when locality-weighted).
};

struct HostSet {
  std::vector<Host> hosts;
  std::vector<Locality> localities;
  // ClusterLoadAssignment.policy: how far a priority's health stretches before load spills over.
  uint32_t overprovisioning_factor = 140;
  // policy.weighted_priority_health: priority health by host weight rather than host count.
  bool weighted_priority_health = false;

  // True when every host has the same weight (or there are none): balancers then skip weighting.
  bool weightsEqual() const;
  // The position of `host` if it is an element of this set (by identity, not by address), so a
  // host from a replaced set is never mistaken for one of this set's.
  std::optional<size_t> indexOf(const Host& host) const;
};
using HostSetConstSharedPtr = std::shared_ptr<const HostSet>;

// Positions in HostSet::hosts, ascending: the hosts a balancer picks from.
using HostIndexes = std::vector<uint32_t>;

// Every host of `set`.
HostIndexes allHosts(const HostSet& set);
// True when the hosts at `members` all have the same weight (or there are none).
bool weightsEqual(const HostSet& set, const HostIndexes& members);
// The position within `members` of the host at `index` in its set.
std::optional<size_t> memberPosition(const HostIndexes& members, size_t index);

}  // namespace remora::upstream
