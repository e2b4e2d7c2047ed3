// A worker's balancers: kept across snapshots while a cluster is unchanged, rebuilt when its hosts
// or policy change, of the kind its lb_policy names.
#include <catch2/catch.hpp>

#include "source/upstream/least_request.h"
#include "source/upstream/random.h"
#include "source/upstream/round_robin.h"
#include "source/upstream/worker_clusters.h"
#include "test/upstream/test_hosts.h"

namespace remora::upstream {
namespace {

Cluster cluster(LbPolicy policy) {
  Cluster c;
  c.name = "c";
  c.lb_policy = policy;
  c.host_set = hosts(2);
  return c;
}

TEST_CASE("a worker's balancer survives snapshots until the cluster's hosts change", "[upstream]") {
  WorkerClusters worker(0);
  Cluster c = cluster(LbPolicy::kRoundRobin);
  LoadBalancer* first = &worker.loadBalancer(c);
  CHECK(port(first->chooseHost(nullptr)) == 8000);
  CHECK(&worker.loadBalancer(c) == first);  // Same host set: cursor kept.
  CHECK(port(worker.loadBalancer(c).chooseHost(nullptr)) == 8001);
  c.host_set = hosts(3);
  CHECK(port(worker.loadBalancer(c).chooseHost(nullptr)) == 8000);  // Rebuilt.
  worker.retainIf([](const std::string&) { return false; });
  CHECK(port(worker.loadBalancer(c).chooseHost(nullptr)) == 8000);
}

TEST_CASE("a worker builds the balancer its cluster's lb_policy names", "[upstream]") {
  WorkerClusters worker(0);
  CHECK(dynamic_cast<RoundRobinLoadBalancer*>(
            &worker.loadBalancer(cluster(LbPolicy::kRoundRobin))) != nullptr);
  Cluster lr = cluster(LbPolicy::kLeastRequest);
  lr.name = "lr";
  CHECK(dynamic_cast<LeastRequestLoadBalancer*>(&worker.loadBalancer(lr)) != nullptr);
  Cluster random = cluster(LbPolicy::kRandom);
  random.name = "random";
  CHECK(dynamic_cast<RandomLoadBalancer*>(&worker.loadBalancer(random)) != nullptr);
}

TEST_CASE("a worker rebuilds a balancer when the cluster's policy changes over the same hosts",
          "[upstream]") {
  WorkerClusters worker(0);
  Cluster c = cluster(LbPolicy::kRoundRobin);
  worker.loadBalancer(c);
  c.lb_policy = LbPolicy::kLeastRequest;
  CHECK(dynamic_cast<LeastRequestLoadBalancer*>(&worker.loadBalancer(c)) != nullptr);
  LoadBalancer* before = &worker.loadBalancer(c);
  c.least_request.choice_count = 3;
  CHECK(&worker.loadBalancer(c) != before);
}

TEST_CASE("the end of a request started before the host set changed is ignored", "[upstream]") {
  WorkerClusters worker(0);
  Cluster c = cluster(LbPolicy::kLeastRequest);
  HostSetConstSharedPtr old_hosts = c.host_set;  // Held by the in-flight request.
  LoadBalancer& old_lb = worker.loadBalancer(c);
  const Host* in_flight = old_lb.chooseHost(nullptr);
  old_lb.onRequestStart(*in_flight);
  c.host_set = hosts(2);
  auto& lb = dynamic_cast<LeastRequestLoadBalancer&>(worker.loadBalancer(c));
  lb.onRequestStart(c.host_set->hosts[0]);
  lb.onRequestEnd(*in_flight);  // Same address, other set: not this balancer's host.
  CHECK(lb.activeRequests(c.host_set->hosts[0]) == 1);
  CHECK(lb.activeRequests(c.host_set->hosts[1]) == 0);
  CHECK(lb.activeRequests(*in_flight) == 0);
}

}  // namespace
}  // namespace remora::upstream
