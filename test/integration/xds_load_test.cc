// The xDS client of the real remora binary under load and at scale: route and endpoint swaps while
// kept-alive connections send requests without pause must not fail a single request, and a
// thousand EDS clusters must apply in one go (the time it takes is logged, not asserted).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/mock_cp.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Clients sending GET / back to back over kept-alive connections until stopped, counting which
// backend answered and every failure (a non-200 or a broken connection).
class LoadClients {
 public:
  LoadClients(uint16_t port, int connections) {
    for (int i = 0; i < connections; ++i) threads_.emplace_back([this, port] { run(port); });
  }
  ~LoadClients() { stop(); }

  void stop() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  int64_t total() const { return ok_ + failed_; }
  int64_t failed() const { return failed_; }
  // Requests answered by backends whose name starts with `prefix`.
  int64_t servedBy(char prefix) const { return prefix == 'a' ? by_a_ : by_b_; }
  std::vector<std::string> failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }

 private:
  void run(uint16_t port) {
    auto client = std::make_unique<HttpTestClient>(port, "127.0.0.1", 5s);
    while (!stop_) {
      if (!client->connected()) {
        fail("connect: " + client->error());
        client = std::make_unique<HttpTestClient>(port, "127.0.0.1", 5s);
        continue;
      }
      ClientResponse r = client->request(get("/"));
      if (r.status != 200 || !r.complete) {
        fail("status " + std::to_string(r.status) + " " + r.error + " " + r.body);
        client = std::make_unique<HttpTestClient>(port, "127.0.0.1", 5s);
        continue;
      }
      ++ok_;
      (r.body.starts_with("a") ? by_a_ : by_b_)++;
      // A connection the proxy closes after a complete response is not a failed request.
      if (r.closed || r.header("connection") == "close") {
        client = std::make_unique<HttpTestClient>(port, "127.0.0.1", 5s);
      }
    }
  }

  void fail(const std::string& why) {
    ++failed_;
    std::lock_guard<std::mutex> lock(mu_);
    if (failures_.size() < 20) failures_.push_back(why);
  }

  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ok_{0};
  std::atomic<int64_t> failed_{0};
  std::atomic<int64_t> by_a_{0};
  std::atomic<int64_t> by_b_{0};
  mutable std::mutex mu_;
  std::vector<std::string> failures_;
  std::vector<std::thread> threads_;
};

TEST_CASE("xDS: 100 route and endpoint swaps under continuous keep-alive load fail no request",
          "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  HttpBackend a1("a1");
  HttpBackend a2("a2");
  HttpBackend b1("b1");
  HttpBackend b2("b2");
  XdsProxy p;
  p.spec.delta = delta;
  startXdsProxy(
      p, ingressResources(p.spec, "alpha",
                          {{"alpha", {a1.port(), a2.port()}}, {"beta", {b1.port(), b2.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  // Each cluster cycles through these endpoint sets, so every swap also changes the endpoints of
  // the cluster it routes to: hosts with kept-alive upstream connections come and go under load.
  const std::vector<std::vector<uint16_t>> alpha_sets = {
      {a1.port(), a2.port()}, {a1.port()}, {a2.port()}};
  const std::vector<std::vector<uint16_t>> beta_sets = {
      {b1.port(), b2.port()}, {b1.port()}, {b2.port()}};

  LoadClients load(p.port, 2);
  REQUIRE(waitFor([&] { return load.total() >= 20; }, 10s));
  constexpr int kSwaps = 100;
  int alpha_uses = 0;
  int beta_uses = 0;
  const auto start = Clock::now();
  for (int i = 0; i < kSwaps; ++i) {
    const bool to_beta = i % 2 == 0;
    const std::string cluster = to_beta ? "beta" : "alpha";
    const auto& ports = to_beta ? beta_sets[++beta_uses % 3] : alpha_sets[++alpha_uses % 3];
    std::string error;
    INFO("swap " << i << " to " << cluster);
    REQUIRE(pushAndAwaitAcks(
        p.cp, resourcesYaml({routeTo("ingress-routes", cluster), endpoints(cluster, ports)}),
        {kRouteType, kEndpointType}, &error));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const int64_t at_last_swap = load.total();
  CHECK(waitFor([&] { return load.total() >= at_last_swap + 20; }, 10s));
  load.stop();

  std::cout << "xds swaps (" << apiTypeName(delta) << "): " << kSwaps << " swaps in " << seconds
            << " s under " << load.total() << " requests (" << load.servedBy('a') << " by alpha, "
            << load.servedBy('b') << " by beta), " << load.failed() << " failed\n";
  for (const auto& why : load.failures()) UNSCOPED_INFO(why);
  CHECK(load.failed() == 0);
  CHECK(load.servedBy('a') > 0);
  CHECK(load.servedBy('b') > 0);
  // Every endpoint set was in use at some point, so each backend served some of it.
  for (const HttpBackend* b : {&a1, &a2, &b1, &b2}) {
    INFO("backend " << b->name());
    CHECK(b->requestsReceived() > 0);
  }
}

// A compact JSON resource list: the mock control plane takes JSON as well as YAML, and at this
// size JSON parses much faster.
std::string bulkResources(int clusters, int endpoints_each) {
  std::string json = "{\"resources\":[";
  for (int c = 0; c < clusters; ++c) {
    const std::string name = "bulk-" + std::to_string(c);
    if (c > 0) json += ",";
    json += std::string("{\"@type\":\"") + kClusterType + "\",\"name\":\"" + name +
            "\",\"type\":\"EDS\",\"connect_timeout\":\"1s\",\"eds_cluster_config\":{"
            "\"eds_config\":{\"ads\":{}}}},";
    json += std::string("{\"@type\":\"") + kEndpointType + "\",\"cluster_name\":\"" + name +
            "\",\"endpoints\":[{\"lb_endpoints\":[";
    for (int e = 0; e < endpoints_each; ++e) {
      if (e > 0) json += ",";
      // Never connected to: only the count matters.
      json +=
          "{\"endpoint\":{\"address\":{\"socket_address\":{\"address\":\"127.0.0.1\","
          "\"port_value\":" +
          std::to_string(40000 + e) + "}}}}";
    }
    json += "]}]}";
  }
  return json + "]}";
}

TEST_CASE("xDS: 1000 EDS clusters with 10 endpoints each apply in one update", "[xds]") {
  const bool delta = GENERATE(false, true);
  INFO("api_type " << apiTypeName(delta));
  constexpr int kClusters = 1000;
  constexpr int kEndpoints = 10;
  HttpBackend a1("a1");
  XdsProxy p;
  p.spec.delta = delta;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  const std::string bulk = bulkResources(kClusters, kEndpoints);

  const int64_t before = lastRequestSeq(p.cp);
  const auto start = Clock::now();
  const int64_t version = p.cp.setResources(bulk);
  const auto pushed = Clock::now();
  INFO(p.cp.error());
  REQUIRE(version > 0);
  int complete = 0;
  const bool applied = waitFor(
      [&] {
        complete = 0;
        for (const auto& [name, hosts] : clusterHosts(*p.remora)) {
          if (name.starts_with("bulk-") && hosts == kEndpoints) ++complete;
        }
        return complete == kClusters;
      },
      25s, 20ms);
  const auto done = Clock::now();
  INFO(complete << " of " << kClusters << " clusters complete");
  REQUIRE(applied);
  auto cds = waitForReply(p.cp, kClusterType, before, version);
  auto eds = waitForReply(p.cp, kEndpointType, before, version);
  REQUIRE(cds);
  REQUIRE(eds);
  CHECK(cds->ack == true);
  CHECK(eds->ack == true);

  // The slowest update-to-workers span remora itself recorded: the P100 of its histogram.
  const std::string stats = p.remora->admin("GET", "/stats?filter=config_apply_ms").body;
  const size_t p100 = stats.find("P100(");
  const std::string slowest =
      p100 == std::string::npos ? "?" : stats.substr(p100 + 5, stats.find(',', p100) - p100 - 5);
  using Ms = std::chrono::milliseconds;
  // The mock control plane parses the upload and starts pushing before it answers the PUT, so the
  // apply overlaps the PUT; both spans are logged.
  std::cout << "xds bulk apply (" << apiTypeName(delta) << "): " << kClusters << " clusters x "
            << kEndpoints << " endpoints (" << bulk.size() / 1024 << " KiB of JSON): PUT took "
            << std::chrono::duration_cast<Ms>(pushed - start).count()
            << " ms; all listed by /clusters "
            << std::chrono::duration_cast<Ms>(done - start).count() << " ms after the PUT started, "
            << std::chrono::duration_cast<Ms>(done - pushed).count()
            << " ms after it returned; slowest control_plane.config_apply_ms " << slowest
            << " ms\n";
  CHECK(fetch(p.port, "/").body == "a1");
}

TEST_CASE("xDS: a CDS response larger than gRPC's 4 MiB default message size is applied", "[xds]") {
  // 80 clusters carrying 64 KiB of metadata each: about 5 MiB in one CDS response, as a large
  // mesh's CDS can be. With gRPC's default receive limit the stream failed with
  // RESOURCE_EXHAUSTED and every retry got the same response.
  constexpr int kClusters = 80;
  HttpBackend a1("a1");
  XdsProxy p;
  startXdsProxy(p, ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  const std::string pad(64 * 1024, 'm');
  // The original resources stay, so that "ingress" keeps serving; the big clusters follow as
  // flow-style items of the same list.
  std::string yaml = ingressResources(p.spec, "alpha", {{"alpha", {a1.port()}}});
  for (int c = 0; c < kClusters; ++c) {
    const std::string name = "big-" + std::to_string(c);
    yaml += std::string("- {\"@type\": \"") + kClusterType + "\", \"name\": \"" + name +
            "\", \"type\": \"STATIC\", \"connect_timeout\": \"1s\", \"metadata\": "
            "{\"filter_metadata\": {\"pad\": {\"v\": \"" +
            pad + "\"}}}, \"load_assignment\": {\"cluster_name\": \"" + name +
            "\", \"endpoints\": [{\"lb_endpoints\": [{\"endpoint\": {\"address\": "
            "{\"socket_address\": {\"address\": \"127.0.0.1\", \"port_value\": " +
            std::to_string(a1.port()) + "}}}}]}]}}\n";
  }
  REQUIRE(yaml.size() > 5 * 1024 * 1024);
  const int64_t before = lastRequestSeq(p.cp);
  const int64_t version = p.cp.setResources(yaml);
  INFO(p.cp.error());
  REQUIRE(version > 0);
  auto cds = waitForReply(p.cp, kClusterType, before, version, 20s);
  REQUIRE(cds);
  CHECK(cds->ack == true);
  CHECK(waitFor(
      [&] { return clusterHosts(*p.remora).count("big-" + std::to_string(kClusters - 1)) == 1; },
      10s));
  CHECK(fetch(p.port, "/").body == "a1");
}

}  // namespace
}  // namespace remora::testing
