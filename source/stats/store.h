// Counters, gauges and histograms named as Envoy names them (cluster.<name>.upstream_cx_total,
// ...). Counters and gauges are counted per thread without read-modify-write instructions and
// summed when read.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "source/stats/histogram.h"

namespace remora::stats {

class Store;

namespace detail {

// One registered thread's cells for one Store, indexed by a stat's index. Only the owning thread
// writes, so an increment is a plain load and store (no locked instruction, no shared cache line);
// readers sum them under the store's lock. Cells come in fixed chunks that never move once made,
// so a reader never sees storage reallocated under it.
class ThreadCells {
 public:
  static constexpr uint32_t kChunkCells = 1024;  // 8 KiB per chunk.
  static constexpr uint32_t kMaxChunks = 4096;
  static constexpr uint32_t kCapacity = kChunkCells * kMaxChunks;  // Stats per store.

  explicit ThreadCells(const Store* store) : store_(store) {}
  ~ThreadCells();
  ThreadCells(const ThreadCells&) = delete;
  ThreadCells& operator=(const ThreadCells&) = delete;

  const Store* store() const { return store_; }

  // Owning thread only.
  void add(uint32_t index, uint64_t delta) {
    Chunk* chunk = chunks_[index / kChunkCells].load(std::memory_order_relaxed);
    if (chunk == nullptr) [[unlikely]] {
      chunk = makeChunk(index / kChunkCells);
    }
    std::atomic<uint64_t>& cell = chunk->cells[index % kChunkCells];
    cell.store(cell.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
  }
  // Any thread.
  uint64_t read(uint32_t index) const {
    // Acquire pairs with makeChunk's release: the chunk's zeroed cells are visible before it is.
    const Chunk* chunk = chunks_[index / kChunkCells].load(std::memory_order_acquire);
    return chunk == nullptr ? 0 : chunk->cells[index % kChunkCells].load(std::memory_order_relaxed);
  }

 private:
  // Cache-line aligned so two threads' chunks never share a line.
  struct alignas(64) Chunk {
    std::array<std::atomic<uint64_t>, kChunkCells> cells{};
  };
  Chunk* makeChunk(uint32_t chunk_index);

  const Store* const store_;
  std::array<std::atomic<Chunk*>, kMaxChunks> chunks_{};
};

// The cells a registered thread counts into; null on threads that never registered.
inline constinit thread_local ThreadCells* t_thread_cells = nullptr;

// The value behind one counter or gauge: a cell in each registered thread plus a shared cell for
// threads that did not register (main, admin, tests), which pay for a fetch_add instead. Values are
// unsigned and wrap, so a gauge's negative per-thread parts still sum to the right level.
class ShardedValue {
 public:
  ShardedValue() = default;  // Not part of a store: counts in the shared cell only.
  ShardedValue(const Store* store, uint32_t index) : store_(store), index_(index) {}

  void add(uint64_t delta) {
    ThreadCells* cells = t_thread_cells;
    if (cells != nullptr && cells->store() == store_) {
      cells->add(index_, delta);
    } else {
      shared_.fetch_add(delta, std::memory_order_relaxed);
    }
  }
  // Takes the store's lock.
  uint64_t total() const;
  // Makes total() read `value` plus whatever is added afterwards. Takes the store's lock.
  void setTotal(uint64_t value);

 private:
  friend class remora::stats::Store;
  const Store* store_ = nullptr;  // Null: never matches a thread's cells.
  uint32_t index_ = 0;
  std::atomic<uint64_t> shared_{0};
};

}  // namespace detail

// Monotonic count. inc() is wait-free; value() sums every thread's part, so it is for scrapes and
// tests, not for the request path.
class Counter {
 public:
  Counter() = default;
  void inc(uint64_t n = 1) { value_.add(n); }
  uint64_t value() const { return value_.total(); }

 private:
  friend class Store;
  Counter(const Store* store, uint32_t index) : value_(store, index) {}
  detail::ShardedValue value_;
};

// A level that goes up and down (active connections, remaining capacity). inc() and dec() may
// happen on different threads: each thread's part may go negative, the sum is the level.
class Gauge {
 public:
  Gauge() = default;
  void inc(int64_t n = 1) {
    markUsed();
    value_.add(static_cast<uint64_t>(n));
  }
  void dec(int64_t n = 1) {
    markUsed();
    value_.add(0 - static_cast<uint64_t>(n));
  }
  // From now on value() is `v` plus any later inc()/dec(), on every thread. It reads the other
  // threads' parts under the store's lock, so it belongs on the main thread (config builds, such
  // as membership_total), not on the request path; a level counted per request uses inc()/dec().
  void set(int64_t v) {
    markUsed();
    value_.setTotal(static_cast<uint64_t>(v));
  }
  int64_t value() const { return static_cast<int64_t>(value_.total()); }
  // Ever touched: a gauge back at 0 still shows in /stats?usedonly, as in Envoy. (A counter's
  // value alone tells, since it only grows.)
  bool used() const { return used_.load(std::memory_order_relaxed); }

 private:
  friend class Store;
  Gauge(const Store* store, uint32_t index) : value_(store, index) {}
  // Read first so the line stays shared between workers once set, instead of being written by
  // every increment.
  void markUsed() {
    if (!used_.load(std::memory_order_relaxed)) used_.store(true, std::memory_order_relaxed);
  }
  detail::ShardedValue value_;
  std::atomic<bool> used_{false};
};

// Owns every stat by full name. The same name always returns the same object, so a config update
// that rebuilds a cluster keeps counting where the old one left off, as Envoy does. Stats are never
// removed, so references stay valid for the store's lifetime.
class Store {
 public:
  Store() = default;
  // Every ThreadShard of this store must be gone by now.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Any thread; takes the store's lock.
  Counter& counter(const std::string& name);
  Gauge& gauge(const std::string& name);
  Histogram& histogram(const std::string& name);

  struct Entry {
    std::string name;
    bool is_counter;
    int64_t value;
    bool used = false;  // Ever incremented or set; a non-zero value also counts as used.
  };
  // Every counter and gauge, sorted by name; safe to call from any thread.
  std::vector<Entry> snapshot() const;
  // Every histogram, sorted by name; safe to call from any thread.
  std::vector<HistogramSnapshot> histogramSnapshot() const;

 private:
  friend class ThreadShard;
  friend class detail::ShardedValue;

  uint64_t totalLocked(const detail::ShardedValue& value) const;
  uint64_t threadPartsLocked(uint32_t index) const;
  void addThread(detail::ThreadCells* cells);
  // Folds the thread's parts into the shared cells and forgets the thread.
  void removeThread(detail::ThreadCells* cells);

  // Guards the maps, the index table and the thread list; increments never take it.
  mutable std::mutex lock_;
  std::map<std::string, std::unique_ptr<Counter>, std::less<>> counters_;
  std::map<std::string, std::unique_ptr<Gauge>, std::less<>> gauges_;
  // Histograms lock themselves on record(); they take no cell index.
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> histograms_;
  // By index: where a leaving thread's parts are folded in.
  std::vector<detail::ShardedValue*> values_;
  std::vector<detail::ThreadCells*> threads_;
};

// Makes the calling thread count into cells of its own for `store` until destroyed. Each worker
// creates one on its own thread before it handles any traffic and keeps it until the thread ends;
// the destructor (on the same thread) folds the thread's counts into the shared cells, so nothing
// counted is lost. Must not outlive the store. Nesting is allowed; the inner one wins until it
// ends.
class ThreadShard {
 public:
  explicit ThreadShard(Store& store);
  ~ThreadShard();
  ThreadShard(const ThreadShard&) = delete;
  ThreadShard& operator=(const ThreadShard&) = delete;

 private:
  Store& store_;
  std::unique_ptr<detail::ThreadCells> cells_;
  detail::ThreadCells* previous_;
};

}  // namespace remora::stats
