// A worker's balancers: kept across snapshots while a cluster's priority set is unchanged, rebuilt
// when its hosts, health or balancing settings change, of the kind its lb_policy names.
#include <catch2/catch.hpp>

#include "source/upstream/least_request.h"
#include "source/upstream/worker_clusters.h"
#include "test/upstream/cluster_fixtures.h"

namespace remora::upstream {
namespace {

TEST_CASE("a worker's balancer survives snapshots until the cluster's hosts change", "[upstream]") {
  WorkerClusters worker(0);
  auto c = clusterOf(specs(2));
  LoadBalancer* first = &worker.loadBalancer(*c);
  CHECK(portOf(first->chooseHost(nullptr)) == 8000);
  CHECK(&worker.loadBalancer(*c) == first);  // Same priority set: cursor kept.
  CHECK(portOf(worker.loadBalancer(*c).chooseHost(nullptr)) == 8001);
  auto grown = clusterOf(specs(3));
  CHECK(portOf(worker.loadBalancer(*grown).chooseHost(nullptr)) == 8000);  // Rebuilt.
  worker.retainIf([](const std::string&) { return false; });
  CHECK(portOf(worker.loadBalancer(*grown).chooseHost(nullptr)) == 8000);
}

TEST_CASE("a worker rebuilds a balancer when the cluster's settings change over the same hosts",
          "[upstream]") {
  WorkerClusters worker(0);
  auto c = clusterOf(specs(2));
  LoadBalancer* before = &worker.loadBalancer(*c);
  c->least_request.choice_count = 3;
  refreshHosts(*c);  // As the config builder does for any new cluster version.
  CHECK(&worker.loadBalancer(*c) != before);
}

TEST_CASE("the end of a request started before the host set changed is ignored", "[upstream]") {
  WorkerClusters worker(0);
  auto c = clusterOf(specs(2), LbPolicy::kLeastRequest);
  LoadBalancer& old_lb = worker.loadBalancer(*c);
  const Host* in_flight = old_lb.chooseHost(nullptr);  // Its set stays alive through `c`.
  old_lb.onRequestStart(*in_flight);
  auto next = clusterOf(specs(2), LbPolicy::kLeastRequest);
  LoadBalancer& lb = worker.loadBalancer(*next);
  const Host* busy = lb.chooseHost(nullptr);
  lb.onRequestStart(*busy);
  worker.onRequestEnd(*next, *in_flight);  // Same address maybe, other set: ignored.
  // The busy host still counts one request: the idle one wins whenever both are sampled.
  int busy_picks = 0;
  for (int i = 0; i < 1000; ++i) busy_picks += lb.chooseHost(nullptr) == busy;
  CHECK(busy_picks < 400);
}

}  // namespace
}  // namespace remora::upstream
