// Open connections counted against a maximum, taken from every worker's accept path: the global
// limit (overload manager) and each listener's connection_limit use the same counter.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>

namespace remora::server {

class ConnectionLimit {
 public:
  explicit ConnectionLimit(uint64_t max = std::numeric_limits<uint64_t>::max()) : max_(max) {}

  // Set before any worker accepts against it.
  void setMax(uint64_t max) { max_ = max; }
  // False at the maximum, and then nothing is taken. Add-then-check keeps concurrent workers from
  // both taking the last slot.
  bool tryAcquire() {
    if (open_.fetch_add(1, std::memory_order_relaxed) < max_) return true;
    open_.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  void release() { open_.fetch_sub(1, std::memory_order_relaxed); }
  uint64_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  uint64_t max_;
  std::atomic<uint64_t> open_{0};
};

}  // namespace remora::server
