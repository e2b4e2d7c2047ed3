// Counters and gauges named as Envoy names them (cluster.<name>.upstream_cx_total, ...).
// Created on the main thread while building config; incremented from any worker without locks.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace remora::stats {

// Monotonic count. Relaxed atomics: workers never contend on a lock, and a scrape from the main
// thread is race-free (a momentarily stale sum is fine for stats).
class Counter {
 public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A level that goes up and down (active connections, remaining capacity).
class Gauge {
 public:
  void inc(int64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
    used_.store(true, std::memory_order_relaxed);
  }
  void dec(int64_t n = 1) {
    value_.fetch_sub(n, std::memory_order_relaxed);
    used_.store(true, std::memory_order_relaxed);
  }
  void set(int64_t v) {
    value_.store(v, std::memory_order_relaxed);
    used_.store(true, std::memory_order_relaxed);
  }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }
  // Ever touched: a gauge back at 0 still shows in /stats?usedonly, as in Envoy. (A counter's
  // value alone tells, since it only grows.)
  bool used() const { return used_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
  std::atomic<bool> used_{false};
};

// Owns every stat by full name. The same name always returns the same object, so a config update
// that rebuilds a cluster keeps counting where the old one left off, as Envoy does.
class Store {
 public:
  Counter& counter(const std::string& name);
  Gauge& gauge(const std::string& name);

  struct Entry {
    std::string name;
    bool is_counter;
    int64_t value;
    bool used = false;  // Ever incremented or set; a non-zero value also counts as used.
  };
  // Every stat, sorted by name; safe to call from any thread.
  std::vector<Entry> snapshot() const;

 private:
  mutable std::mutex lock_;  // Guards the maps only; increments never take it.
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
  std::map<std::string, std::unique_ptr<Gauge>, std::less<>> gauges_;
};

}  // namespace remora::stats
