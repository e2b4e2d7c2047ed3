// The stats store: per-thread shards summed on read, lossless across threads that register, leave
// or never register, and stats created while others are counted and scraped.
#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "source/stats/store.h"

namespace remora::stats {
namespace {

// Lets the test look at values while worker threads are still registered.
class Gate {
 public:
  void open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

int64_t snapshotValue(const Store& store, const std::string& name) {
  for (const auto& e : store.snapshot()) {
    if (e.name == name) return e.value;
  }
  FAIL("no stat named " << name);
  return 0;
}

TEST_CASE("the same name returns the same counter and the same gauge", "[stats]") {
  Store store;
  CHECK(&store.counter("a.b") == &store.counter("a.b"));
  CHECK(&store.counter("a.b") != &store.counter("a.c"));
  CHECK(&store.gauge("a.b") == &store.gauge("a.b"));
}

TEST_CASE("counts from registered threads are summed while they run and kept after they leave",
          "[stats]") {
  Store store;
  Counter& c = store.counter("c");
  constexpr int kThreads = 4;
  constexpr int kIncrements = 20000;
  std::atomic<int> counted{0};
  Gate leave;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      ThreadShard shard(store);
      for (int i = 0; i < kIncrements; ++i) c.inc();
      counted.fetch_add(1);
      leave.wait();
    });
  }
  while (counted.load() < kThreads) std::this_thread::yield();
  CHECK(c.value() == uint64_t{kThreads} * kIncrements);
  leave.open();
  for (auto& t : threads) t.join();
  CHECK(c.value() == uint64_t{kThreads} * kIncrements);
  CHECK(snapshotValue(store, "c") == int64_t{kThreads} * kIncrements);
}

TEST_CASE("threads that never registered count through the shared cell without loss", "[stats]") {
  Store store;
  Counter& c = store.counter("c");
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) c.inc(2);
    });
  }
  for (int i = 0; i < 10000; ++i) c.inc();  // This thread too.
  for (auto& t : threads) t.join();
  CHECK(c.value() == 70000);
}

TEST_CASE("a thread registered with one store counts another store's stats in the shared cell",
          "[stats]") {
  Store mine, other;
  Counter& theirs = other.counter("c");
  std::thread t([&] {
    ThreadShard shard(mine);
    theirs.inc(5);
  });
  t.join();
  CHECK(theirs.value() == 5);
}

TEST_CASE("a gauge incremented on one thread and decremented on another sums to its level",
          "[stats]") {
  Store store;
  Gauge& g = store.gauge("g");
  std::thread up([&] {
    ThreadShard shard(store);
    for (int i = 0; i < 1000; ++i) g.inc();
  });
  up.join();
  int64_t seen_by_down = 0;
  std::thread down([&] {
    ThreadShard shard(store);
    for (int i = 0; i < 400; ++i) g.dec();
    seen_by_down = g.value();
  });
  down.join();
  CHECK(seen_by_down == 600);
  CHECK(g.value() == 600);
}

TEST_CASE("gauge set overrides the parts other threads counted and later changes add to it",
          "[stats]") {
  Store store;
  Gauge& g = store.gauge("g");
  Gate counted, was_set, done;
  std::thread worker([&] {
    ThreadShard shard(store);
    g.inc(5);
    counted.open();
    was_set.wait();
    g.inc();
    done.open();
  });
  counted.wait();
  g.set(10);
  CHECK(g.value() == 10);
  was_set.open();
  done.wait();
  CHECK(g.value() == 11);
  worker.join();
  CHECK(g.value() == 11);  // The leaving thread's part is folded, not double counted.
}

TEST_CASE("a gauge that only goes through set reads the last value set", "[stats]") {
  Store store;
  Gauge& g = store.gauge("membership");
  g.set(7);
  g.set(3);
  CHECK(g.value() == 3);
  CHECK(snapshotValue(store, "membership") == 3);
}

TEST_CASE("a gauge back at zero is still used while an untouched one is not", "[stats]") {
  Store store;
  Gauge& touched = store.gauge("touched");
  store.gauge("untouched");
  touched.inc();
  touched.dec();
  CHECK(touched.used());
  CHECK_FALSE(store.gauge("untouched").used());
  for (const auto& e : store.snapshot()) CHECK(e.used == (e.name == "touched"));
}

TEST_CASE("a counter is used once it is non-zero", "[stats]") {
  Store store;
  store.counter("zero");
  store.counter("one").inc();
  for (const auto& e : store.snapshot()) CHECK(e.used == (e.name == "one"));
}

TEST_CASE("stats created while other threads count and scrape lose nothing", "[stats]") {
  Store store;
  constexpr int kWorkers = 3;
  constexpr int kStats = 300;
  constexpr int kRounds = 20;
  std::atomic<bool> stop_scraping{false};
  bool sorted = true;  // Catch assertions are not thread-safe: the scraper only records.
  std::thread scraper([&] {
    while (!stop_scraping.load()) {
      auto entries = store.snapshot();
      for (size_t i = 1; i < entries.size(); ++i) sorted &= entries[i - 1].name < entries[i].name;
    }
  });
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      ThreadShard shard(store);
      // Each worker creates stats as a config update would and counts into all of them.
      for (int round = 0; round < kRounds; ++round) {
        for (int s = 0; s < kStats; ++s) {
          store.counter("c." + std::to_string(s)).inc();
          store.gauge("g." + std::to_string((s + w) % kStats)).inc();
        }
      }
    });
  }
  // The main thread creates and counts too, unregistered.
  for (int s = 0; s < kStats; ++s) store.counter("c." + std::to_string(s)).inc(1000);
  for (auto& t : workers) t.join();
  stop_scraping.store(true);
  scraper.join();
  CHECK(sorted);
  for (int s = 0; s < kStats; ++s) {
    CHECK(store.counter("c." + std::to_string(s)).value() == kWorkers * kRounds + 1000);
    CHECK(store.gauge("g." + std::to_string(s)).value() == kWorkers * kRounds);
  }
}

TEST_CASE("stats past the first chunk of cells count on registered threads", "[stats]") {
  Store store;
  const uint32_t n = detail::ThreadCells::kChunkCells + 10;
  for (uint32_t i = 0; i < n; ++i) store.counter("c." + std::to_string(i));
  uint64_t seen_by_thread = 0;
  std::thread t([&] {
    ThreadShard shard(store);
    store.counter("c." + std::to_string(n - 1)).inc(3);
    store.counter("c.0").inc(4);
    seen_by_thread = store.counter("c." + std::to_string(n - 1)).value();
  });
  t.join();
  CHECK(seen_by_thread == 3);
  CHECK(store.counter("c." + std::to_string(n - 1)).value() == 3);
  CHECK(store.counter("c.0").value() == 4);
}

TEST_CASE("a nested thread shard restores the outer one when it ends", "[stats]") {
  Store outer, inner;
  Counter& a = outer.counter("a");
  Counter& b = inner.counter("b");
  uint64_t a_seen = 0, b_seen = 0;
  std::thread t([&] {
    ThreadShard outer_shard(outer);
    {
      ThreadShard inner_shard(inner);
      a.inc();
      b.inc();
    }
    a.inc();
    a_seen = a.value();
    b_seen = b.value();
  });
  t.join();
  CHECK(a_seen == 2);
  CHECK(b_seen == 1);
  CHECK(a.value() == 2);
  CHECK(b.value() == 1);
}

}  // namespace
}  // namespace remora::stats
