// Earliest-deadline-first queue of weighted items, the basis of Envoy's weighted round robin and
// weighted least request: an item of weight w falls due every 1/w, so picks interleave smoothly.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace remora::upstream {

// Items are small integers (host indexes); the caller computes deadlines, so it can keep them
// exact where that matters (k / w rather than a running sum of 1 / w, whose rounding would break
// the ties that make weights 3:1 come out as a a b a). Single-threaded; each worker owns its own.
class EdfScheduler {
 public:
  struct Due {
    uint32_t item;
    double deadline;
  };

  void add(uint32_t item, double deadline) {
    heap_.push_back({deadline, next_seq_++, item});
    std::push_heap(heap_.begin(), heap_.end(), dueLater);
  }

  // Removes and returns the item due first; among equal deadlines, the one added first, so equal
  // items rotate. The caller add()s it back with its next deadline. nullopt when empty.
  std::optional<Due> pop() {
    if (heap_.empty()) return std::nullopt;
    std::pop_heap(heap_.begin(), heap_.end(), dueLater);
    const Entry due = heap_.back();
    heap_.pop_back();
    return Due{due.item, due.deadline};
  }

  bool empty() const { return heap_.empty(); }

 private:
  struct Entry {
    double deadline;
    uint64_t seq;  // Insertion order, for ties.
    uint32_t item;
  };
  // std::*_heap keep the greatest element first; "greatest" here is the one due soonest.
  static bool dueLater(const Entry& a, const Entry& b) {
    return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
  }

  std::vector<Entry> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace remora::upstream
