// RANDOM: a host drawn at random, in proportion to its load_balancing_weight; and the small,
// lock-free random source every per-worker balancer draws from.
#pragma once

#include <cstdint>
#include <vector>

#include "api/upstream/load_balancer.h"
#include "source/upstream/host_set.h"

namespace remora::upstream {

// splitmix64: statistically sound for spreading load, one add and a few multiplies per draw, and
// a plain member of each balancer, so no worker ever shares or locks a generator.
class FastRandom {
 public:
  explicit FastRandom(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n > 0, by multiply-and-shift (Lemire) instead of a biased modulo.
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

class RandomLoadBalancer : public LoadBalancer {
 public:
  RandomLoadBalancer(HostSetConstSharedPtr hosts, uint64_t seed);
  // Over `members` of the set only (one priority level's healthy hosts, say).
  RandomLoadBalancer(HostSetConstSharedPtr hosts, HostIndexes members, uint64_t seed);
  const Host* chooseHost(const LoadBalancerContext* context) override;

 private:
  HostSetConstSharedPtr hosts_;
  HostIndexes members_;
  FastRandom random_;
  // Weights differ: running totals of the weights, searched for a draw in [0, total).
  std::vector<uint64_t> cumulative_weight_;
};

}  // namespace remora::upstream
