// ORIGINAL_DST hosts on a worker: made on first use per destination, shared by later requests,
// listed in the cluster's registry, and dropped once unused for cleanup_interval with no request
// in flight.
#include <catch2/catch.hpp>

#include <chrono>

#include "source/upstream/worker_clusters.h"

namespace remora::upstream {
namespace {

using std::chrono::milliseconds;

std::shared_ptr<Cluster> originalDstCluster(uint32_t port_override = 0) {
  auto c = std::make_shared<Cluster>();
  c->name = "od";
  auto config = std::make_shared<OriginalDstConfig>();
  config->cleanup_interval = milliseconds(100);
  config->upstream_port_override = port_override;
  c->original_dst = config;
  c->original_dst_hosts = std::make_shared<OriginalDstHosts>();
  c->host_set = std::make_shared<HostSet>();
  refreshHosts(*c);
  return c;
}

network::Address at(const std::string& text) {
  auto a = network::Address::fromIpPortText(text);
  REQUIRE(a.ok());
  return *a;
}

TEST_CASE("IP:port text parses for IPv4 and bracketed IPv6 and nothing else", "[upstream]") {
  CHECK(at("10.1.2.3:80").asString() == "10.1.2.3:80");
  CHECK(at("[::1]:8443").asString() == "[::1]:8443");
  for (const char* bad : {"10.1.2.3", "10.1.2.3:", "10.1.2.3:0", "10.1.2.3:70000", "::1:80",
                          "host.example:80", ":80", "10.1.2.3:8x"}) {
    INFO(bad);
    CHECK_FALSE(network::Address::fromIpPortText(bad).ok());
  }
  CHECK(at("10.1.2.3:80").withPort(9).asString() == "10.1.2.3:9");
}

TEST_CASE("a destination gets one host reused by later requests and listed once", "[upstream]") {
  WorkerClusters worker(0);
  auto c = originalDstCluster();
  auto first = worker.originalDstHost(*c, at("127.0.0.1:8001"));
  auto again = worker.originalDstHost(*c, at("127.0.0.1:8001"));
  auto other = worker.originalDstHost(*c, at("127.0.0.2:8001"));
  CHECK(first == again);
  CHECK(first != other);
  CHECK(first->address.asString() == "127.0.0.1:8001");
  CHECK(c->original_dst_hosts->addresses() ==
        std::vector<std::string>{"127.0.0.1:8001", "127.0.0.2:8001"});
}

TEST_CASE("upstream_port_override replaces the destination's port", "[upstream]") {
  WorkerClusters worker(0);
  auto c = originalDstCluster(9090);
  CHECK(worker.originalDstHost(*c, at("10.0.0.5:80"))->address.asString() == "10.0.0.5:9090");
}

TEST_CASE("hosts unused for cleanup_interval go and those in use stay", "[upstream]") {
  WorkerClusters worker(0);
  auto c = originalDstCluster();
  auto busy = worker.originalDstHost(*c, at("127.0.0.1:8001"));
  auto idle = worker.originalDstHost(*c, at("127.0.0.1:8002"));
  worker.onRequestEnd(*c, *idle);
  const auto now = std::chrono::steady_clock::now();
  CHECK(worker.sweepOriginalDst(now).empty());  // Not idle long enough yet.
  auto dropped = worker.sweepOriginalDst(now + milliseconds(150));
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0] == std::make_pair(std::string("od"), std::string("127.0.0.1:8002")));
  CHECK(c->original_dst_hosts->addresses() == std::vector<std::string>{"127.0.0.1:8001"});
  CHECK(worker.hasOriginalDstHosts());
  worker.onRequestEnd(*c, *busy);
  CHECK(worker.sweepOriginalDst(std::chrono::steady_clock::now() + milliseconds(150)).size() == 1);
  CHECK_FALSE(worker.hasOriginalDstHosts());
  CHECK(c->original_dst_hosts->addresses().empty());
  // The request's own reference outlives the worker's.
  CHECK(busy->address.asString() == "127.0.0.1:8001");
}

TEST_CASE("two workers keep a destination listed until both drop it", "[upstream]") {
  WorkerClusters one(0), two(1);
  auto c = originalDstCluster();
  one.onRequestEnd(*c, *one.originalDstHost(*c, at("127.0.0.1:8001")));
  two.onRequestEnd(*c, *two.originalDstHost(*c, at("127.0.0.1:8001")));
  const auto later = std::chrono::steady_clock::now() + milliseconds(150);
  one.sweepOriginalDst(later);
  CHECK(c->original_dst_hosts->addresses().size() == 1);
  two.sweepOriginalDst(later);
  CHECK(c->original_dst_hosts->addresses().empty());
}

TEST_CASE("a dropped cluster takes its hosts off the registry", "[upstream]") {
  WorkerClusters worker(0);
  auto c = originalDstCluster();
  auto host = worker.originalDstHost(*c, at("127.0.0.1:8001"));
  worker.retainIf([](const std::string&) { return false; });
  CHECK(c->original_dst_hosts->addresses().empty());
  CHECK_FALSE(worker.hasOriginalDstHosts());
}

}  // namespace
}  // namespace remora::upstream
