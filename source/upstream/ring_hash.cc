#include "source/upstream/ring_hash.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace remora::upstream {

RingHashTable::RingHashTable(const std::vector<HashTarget>& targets, const RingHashConfig& config) {
  if (targets.empty()) return;

  // Weights are positive by contract; a stray 0 counts as 1 rather than divide by zero below.
  auto weightOf = [](const HashTarget& target) { return target.weight > 0 ? target.weight : 1.0; };
  double total_weight = 0;
  double min_weight = std::numeric_limits<double>::max();
  for (const HashTarget& target : targets) {
    total_weight += weightOf(target);
    min_weight = std::min(min_weight, weightOf(target));
  }

  // The arithmetic below is Envoy's, in doubles and in the same order, so that for the same hosts
  // and weights the ring holds the same points and a request hash picks the same host as Envoy.
  //
  // Scale the ring so the lightest host gets a whole number of points and the ring has at least
  // min_ring_size of them; equal weights thus get equal counts. Past max_ring_size, shrink to fit.
  const double min_share = min_weight / total_weight;
  const double scale =
      std::min(std::ceil(min_share * static_cast<double>(config.min_ring_size)) / min_share,
               static_cast<double>(config.max_ring_size));
  const uint64_t ring_size = static_cast<uint64_t>(std::ceil(scale));
  ring_.reserve(ring_size);

  // A host's share of points, scale * weight / total, is rarely whole. Running totals of points
  // due and points placed carry each host's fraction over to the next, so counts differ by at most
  // one from the exact share and add up to the ring size. Rounding in the running total can ask
  // for one point past ring_size (100 equal hosts at 8M do); unlike Envoy, we stop at ring_size so
  // max_ring_size is a true bound. That drops one point, the last one placed.
  double placed = 0;
  double due = 0;
  min_hashes_per_host_ = std::numeric_limits<uint64_t>::max();
  std::string point_key;
  for (uint32_t index = 0; index < targets.size(); ++index) {
    const HashTarget& target = targets[index];
    // Each point hashes "<key>_<replica>", replicas counted from 0.
    point_key.assign(target.key);
    point_key.push_back('_');
    const size_t prefix_length = point_key.size();

    due += scale * (weightOf(target) / total_weight);
    uint64_t replica = 0;
    while (placed < due && ring_.size() < ring_size) {
      point_key.resize(prefix_length);
      absl::StrAppend(&point_key, replica);
      ring_.push_back({xxHash64(point_key), index});
      ++replica;
      ++placed;
    }
    min_hashes_per_host_ = std::min(min_hashes_per_host_, replica);
    max_hashes_per_host_ = std::max(max_hashes_per_host_, replica);
  }

  // Ties on the hash (vanishingly rare) are broken by host so the order never depends on the sort.
  std::sort(ring_.begin(), ring_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.target < b.target;
  });
}

std::optional<uint32_t> RingHashTable::choose(uint64_t hash, uint32_t attempt) const {
  if (ring_.empty()) return std::nullopt;
  // The first point at or after the hash; past the last point the ring wraps to the first.
  auto point = std::lower_bound(ring_.begin(), ring_.end(), hash,
                                [](const Point& p, uint64_t h) { return p.hash < h; });
  uint64_t position = point == ring_.end() ? 0 : static_cast<uint64_t>(point - ring_.begin());
  // A retry whose host was rejected walks on around the ring, as Envoy does. The next points may
  // belong to the same host, so an alternate is likely but not guaranteed.
  if (attempt > 0) position = (position + attempt) % ring_.size();
  return ring_[position].target;
}

ConsistentHashTableConstSharedPtr buildRingHash(const std::vector<HashTarget>& targets,
                                                const RingHashConfig& config) {
  return std::make_shared<const RingHashTable>(targets, config);
}

}  // namespace remora::upstream
