// ROUND_ROBIN: every host in turn, per-worker start offsets, rebuilt when the host set changes.
#include <catch2/catch.hpp>

#include "source/upstream/round_robin.h"
#include "source/upstream/worker_clusters.h"

namespace remora::upstream {
namespace {

HostSetConstSharedPtr hosts(int n) {
  auto set = std::make_shared<HostSet>();
  for (int i = 0; i < n; ++i) {
    set->hosts.push_back({*network::Address::fromIpPort("127.0.0.1", 8000 + i), 1});
  }
  return set;
}

TEST_CASE("round robin visits every host in turn", "[upstream]") {
  RoundRobinLoadBalancer lb(hosts(3), 0);
  std::vector<uint16_t> ports;
  for (int i = 0; i < 6; ++i) ports.push_back(lb.chooseHost(nullptr)->address.port());
  CHECK(ports == std::vector<uint16_t>{8000, 8001, 8002, 8000, 8001, 8002});
}

TEST_CASE("round robin workers start at different hosts", "[upstream]") {
  RoundRobinLoadBalancer lb(hosts(3), 4);
  CHECK(lb.chooseHost(nullptr)->address.port() == 8001);
}

TEST_CASE("round robin over no hosts returns none", "[upstream]") {
  RoundRobinLoadBalancer lb(hosts(0), 0);
  CHECK(lb.chooseHost(nullptr) == nullptr);
}

TEST_CASE("a worker's balancer survives snapshots until the cluster's hosts change", "[upstream]") {
  WorkerClusters worker(0);
  Cluster c;
  c.name = "c";
  c.host_set = hosts(2);
  LoadBalancer* first = &worker.loadBalancer(c);
  CHECK(first->chooseHost(nullptr)->address.port() == 8000);
  CHECK(&worker.loadBalancer(c) == first);  // Same host set: cursor kept.
  CHECK(worker.loadBalancer(c).chooseHost(nullptr)->address.port() == 8001);
  c.host_set = hosts(3);
  CHECK(worker.loadBalancer(c).chooseHost(nullptr)->address.port() == 8000);  // Rebuilt.
  worker.retainIf([](const std::string&) { return false; });
  CHECK(worker.loadBalancer(c).chooseHost(nullptr)->address.port() == 8000);
}

}  // namespace
}  // namespace remora::upstream
