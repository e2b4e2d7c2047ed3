// Samples a child process's VmRSS on a thread of its own and keeps the peak, for tests that bound
// the proxy's memory while something slow or large passes through it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "test/support/process.h"

namespace remora::testing {

class RssSampler {
 public:
  explicit RssSampler(const Process& process,
                      std::chrono::milliseconds period = std::chrono::milliseconds(10))
      : process_(process) {
    thread_ = std::thread([this, period] {
      while (!stop_.load()) {
        const int64_t kb = process_.rssKb();
        if (kb > peak_.load()) peak_.store(kb);
        std::this_thread::sleep_for(period);  // The sampling period, not a wait for readiness.
      }
    });
  }
  ~RssSampler() { stop(); }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  // Stops sampling and returns the peak in KiB (-1 when no sample could be read).
  int64_t stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return peak_.load();
  }
  int64_t peakSoFar() const { return peak_.load(); }

 private:
  const Process& process_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> peak_{-1};
  std::thread thread_;
};

}  // namespace remora::testing
