// LEAST_REQUEST: power of two choices over equal weights, load-scaled EDF over differing weights,
// with this worker's in-flight counts kept through onRequestStart/onRequestEnd.
#include <catch2/catch.hpp>

#include <algorithm>

#include "source/upstream/least_request.h"
#include "test/upstream/test_hosts.h"

namespace remora::upstream {
namespace {

LeastRequestConfig config(uint32_t choice_count = 2, double bias = 1.0) {
  return {choice_count, bias};
}

void load(LoadBalancer& lb, const Host& host, int requests) {
  for (int i = 0; i < requests; ++i) lb.onRequestStart(host);
}

TEST_CASE("least request over no hosts returns none", "[upstream]") {
  LeastRequestLoadBalancer lb(hosts(0), config(), 1);
  CHECK(lb.chooseHost(nullptr) == nullptr);
}

TEST_CASE("least request counts requests in flight per host", "[upstream]") {
  auto set = hosts(2);
  LeastRequestLoadBalancer lb(set, config(), 1);
  load(lb, set->hosts[1], 3);
  lb.onRequestEnd(set->hosts[1]);
  CHECK(lb.activeRequests(set->hosts[0]) == 0);
  CHECK(lb.activeRequests(set->hosts[1]) == 2);
}

TEST_CASE("least request ignores an end with no matching start", "[upstream]") {
  auto set = hosts(1);
  LeastRequestLoadBalancer lb(set, config(), 1);
  lb.onRequestEnd(set->hosts[0]);
  lb.onRequestStart(set->hosts[0]);
  CHECK(lb.activeRequests(set->hosts[0]) == 1);
}

TEST_CASE("least request ignores hosts from another host set", "[upstream]") {
  auto set = hosts(2);
  auto other = hosts(2);  // Same addresses, different set.
  LeastRequestLoadBalancer lb(set, config(), 1);
  lb.onRequestStart(set->hosts[0]);
  lb.onRequestStart(other->hosts[1]);
  lb.onRequestEnd(other->hosts[0]);
  CHECK(lb.activeRequests(set->hosts[0]) == 1);
  CHECK(lb.activeRequests(set->hosts[1]) == 0);
}

TEST_CASE("two choices prefer the less loaded host", "[upstream]") {
  auto set = hosts(4);
  LeastRequestLoadBalancer lb(set, config(), 7);
  load(lb, set->hosts[0], 5);
  auto counts = countPicks(lb, 4000);
  // The busy host wins only when both draws land on it: 1/16 of picks, the others 5/16 each.
  CHECK(counts[8000] == Approx(250).margin(60));
  for (uint16_t p : {8001, 8002, 8003}) CHECK(counts[p] == Approx(1250).margin(120));
}

TEST_CASE("more choices find the least loaded host almost always", "[upstream]") {
  auto set = hosts(3);
  LeastRequestLoadBalancer lb(set, config(32), 7);
  load(lb, set->hosts[0], 3);
  load(lb, set->hosts[1], 1);
  load(lb, set->hosts[2], 2);
  auto counts = countPicks(lb, 1000);
  CHECK(counts[8001] >= 995);
}

TEST_CASE("two choices keep requests in flight balanced across hosts", "[upstream]") {
  auto set = hosts(10);
  LeastRequestLoadBalancer lb(set, config(), 3);
  for (int i = 0; i < 2000; ++i) lb.onRequestStart(*lb.chooseHost(nullptr));  // None end.
  uint32_t least = UINT32_MAX, most = 0;
  for (const Host& h : set->hosts) {
    least = std::min(least, lb.activeRequests(h));
    most = std::max(most, lb.activeRequests(h));
  }
  // Purely random picks would spread about +-30 around 200; two choices stay within a few.
  CHECK(most - least <= 8);
}

TEST_CASE("weighted least request without load follows the weights", "[upstream]") {
  LeastRequestLoadBalancer lb(weightedHosts({3, 1}), config(), 5);
  auto counts = countPicks(lb, 4000);
  CHECK(counts[8000] == Approx(3000).margin(3));
  CHECK(counts[8001] == Approx(1000).margin(3));
}

TEST_CASE("weighted least request divides a busy host's weight by its load", "[upstream]") {
  auto set = weightedHosts({2, 1});
  LeastRequestLoadBalancer lb(set, config(), 5);
  load(lb, set->hosts[0], 9);
  // Effective weights 2/(9+1) = 0.2 against 1: the busy host gets about 1/6 instead of 2/3.
  auto counts = countPicks(lb, 600);
  CHECK(counts[8000] == Approx(100).margin(5));
}

TEST_CASE("weighted least request with bias zero ignores load", "[upstream]") {
  auto set = weightedHosts({2, 1});
  LeastRequestLoadBalancer lb(set, config(2, 0.0), 5);
  load(lb, set->hosts[0], 9);
  auto counts = countPicks(lb, 600);
  CHECK(counts[8000] == Approx(400).margin(2));
}

TEST_CASE("weighted least request with a larger bias sheds more load", "[upstream]") {
  auto set = weightedHosts({2, 1});
  LeastRequestLoadBalancer lb(set, config(2, 2.0), 5);
  load(lb, set->hosts[0], 9);
  // 2/(10^2) = 0.02 against 1: about 2% of picks.
  auto counts = countPicks(lb, 1000);
  CHECK(counts[8000] <= 25);
}

TEST_CASE("weighted least request rises again as a host's requests end", "[upstream]") {
  auto set = weightedHosts({2, 1});
  LeastRequestLoadBalancer lb(set, config(), 5);
  load(lb, set->hosts[0], 9);
  countPicks(lb, 60);
  for (int i = 0; i < 9; ++i) lb.onRequestEnd(set->hosts[0]);
  countPicks(lb, 60);  // Long enough for the host to be rescheduled with no load.
  auto counts = countPicks(lb, 600);
  CHECK(counts[8000] == Approx(400).margin(5));
}

}  // namespace
}  // namespace remora::upstream
