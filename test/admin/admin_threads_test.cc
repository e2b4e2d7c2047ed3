// The admin endpoint's threading: /stats and /ready are served on the admin loop's thread while
// worker threads count into their stats shards, as in the running proxy. Compiled into the TSan
// suite too, where a race between a scrape and the counting would be reported.
#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "test/admin/admin_test_server.h"

namespace remora::admin {
namespace {

TEST_CASE("admin scrapes read stats while worker threads count them", "[admin][threads]") {
  AdminTestServer admin;
  stats::Store& store = admin.ctx().store();
  stats::Counter& requests = store.counter("http.ingress.downstream_rq_total");
  stats::Gauge& active = store.gauge("http.ingress.downstream_cx_active");
  constexpr int kPerThread = 20000;
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&] {
      stats::ThreadShard shard(store);
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kPerThread; ++i) {
        requests.inc();
        active.inc();
        active.dec();
        // Stats made while scrapes run, as a new cluster's are.
        if (i % 2000 == 0) store.counter("cluster.c" + std::to_string(i) + ".upstream_rq").inc();
      }
    });
  }
  go = true;
  int scrapes = 0;
  uint64_t last = 0;
  bool monotonic = true;
  while (scrapes < 20) {
    auto r = admin.request("GET", "/stats?filter=downstream_rq_total");
    REQUIRE(r.status == 200);
    const auto at = r.body.find("http.ingress.downstream_rq_total: ");
    if (at != std::string::npos) {
      const uint64_t v = std::stoull(r.body.substr(at + 34));
      monotonic = monotonic && v >= last;
      last = v;
    }
    CHECK(admin.request("GET", "/ready").status >= 200);
    ++scrapes;
  }
  for (auto& w : workers) w.join();
  CHECK(monotonic);
  auto r = admin.request("GET", "/stats?filter=downstream_rq_total");
  CHECK(r.body.find("http.ingress.downstream_rq_total: " + std::to_string(2 * kPerThread)) !=
        std::string::npos);
}

}  // namespace
}  // namespace remora::admin
