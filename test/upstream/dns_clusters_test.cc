// DnsClusters against a DNS server on loopback: hosts built from answers (one per address for
// STRICT, one per target for LOGICAL), refreshes on refresh_rate or the TTL, unchanged answers
// keeping the same cluster, failures keeping the last hosts, warming, and stopping.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "source/event/dispatcher.h"
#include "source/upstream/cluster.h"
#include "source/upstream/dns_clusters.h"
#include "test/support/event_loop.h"
#include "test/support/test_dns_server.h"

namespace remora::upstream {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

struct Spec {
  std::string hostname;
  uint32_t port;
  uint32_t weight = 1;
  uint32_t priority = 0;
};

struct DnsClustersTest {
  DnsClustersTest() {
    char path[] = "/tmp/remora-hosts-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    hosts_file = path;
    clusters = std::make_unique<DnsClusters>(
        dispatcher, store, [this] { ++notified; }, hosts_file);
  }
  ~DnsClustersTest() {
    clusters.reset();
    ::unlink(hosts_file.c_str());
  }

  std::shared_ptr<DnsClusterConfig> config(const std::vector<Spec>& targets,
                                           milliseconds refresh = 50ms) {
    auto dns = std::make_shared<DnsClusterConfig>();
    dns->refresh_rate = refresh;
    dns->family = DnsLookupFamily::kV4Only;
    dns->resolvers = {server.address()};
    for (const Spec& spec : targets) {
      DnsClusterConfig::Target target;
      target.hostname = spec.hostname;
      target.port = spec.port;
      target.prototype.weight = spec.weight;
      target.prototype.priority = spec.priority;
      dns->targets.push_back(std::move(target));
    }
    return dns;
  }

  ClusterConstSharedPtr cluster(const std::string& name,
                                std::shared_ptr<const DnsClusterConfig> dns,
                                const std::string& fingerprint = "dns-1") {
    auto c = std::make_shared<Cluster>();
    c->name = name;
    c->host_set = std::make_shared<HostSet>();
    c->dns = std::move(dns);
    c->dns_fingerprint = fingerprint;
    c->stats = std::make_shared<ClusterStats>(store, name);
    refreshHosts(*c);
    return c;
  }

  DnsClusters::Clusters apply(const DnsClusters::Clusters& in) {
    auto out = clusters->apply(in);
    return out ? *out : in;
  }

  bool runUntil(const std::function<bool()>& cond, milliseconds limit = 10s) {
    return testing::runLoopUntil(dispatcher, cond, limit);
  }

  uint64_t counter(const std::string& cluster, const std::string& stat) {
    return store.counter("cluster." + cluster + "." + stat).value();
  }

  event::Dispatcher dispatcher{"dns-clusters-test"};
  testing::TestDnsServer server{dispatcher};
  stats::Store store;
  std::string hosts_file;
  int notified = 0;
  std::unique_ptr<DnsClusters> clusters;
};

std::vector<std::string> addresses(const ClusterConstSharedPtr& c) {
  std::vector<std::string> out;
  for (const Host& host : c->host_set->hosts) out.push_back(host.address.asString());
  return out;
}

TEST_CASE("clusters without DNS pass through untouched", "[dns]") {
  DnsClustersTest t;
  DnsClusters::Clusters in = {{"plain", t.cluster("plain", nullptr)}};
  CHECK_FALSE(t.clusters->apply(in).has_value());
  CHECK(t.clusters->warmed());
}

TEST_CASE("STRICT_DNS makes one host per address of every target with the target's settings",
          "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1", "10.0.0.2"});
  t.server.set("b.test", {"10.0.1.1", "10.0.1.2"});
  DnsClusters::Clusters in = {
      {"svc", t.cluster("svc", t.config({{"a.test", 8080, 7, 0}, {"b.test", 9090, 3, 1}}))}};
  auto out = t.apply(in);
  CHECK_FALSE(out.contains("svc"));  // Warming: nothing resolved yet.
  CHECK_FALSE(t.clusters->warmed());

  REQUIRE(t.runUntil([&] { return t.clusters->warmed() && t.notified > 0; }));
  out = t.apply(in);
  const ClusterConstSharedPtr& svc = out.at("svc");
  CHECK(svc != in.at("svc"));
  CHECK(addresses(svc) == std::vector<std::string>{"10.0.0.1:8080", "10.0.0.2:8080",
                                                   "10.0.1.1:9090", "10.0.1.2:9090"});
  const auto& hosts = svc->host_set->hosts;
  CHECK(hosts[0].weight == 7);
  CHECK(hosts[1].priority == 0);
  CHECK(hosts[2].weight == 3);
  CHECK(hosts[3].priority == 1);
  CHECK(svc->priority_set != nullptr);
  CHECK(svc->stats->membership_total.value() == 4);
  CHECK(in.at("svc")->host_set->hosts.empty());  // The input is never modified.
  CHECK(t.counter("svc", "update_attempt") == 2);
  CHECK(t.counter("svc", "update_success") == 2);
}

TEST_CASE("LOGICAL_DNS makes one host per target from the first address", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1", "10.0.0.2"});
  auto dns = t.config({{"a.test", 80}});
  dns->logical = true;
  DnsClusters::Clusters in = {{"svc", t.cluster("svc", dns)}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.clusters->warmed(); }));
  CHECK(addresses(t.apply(in).at("svc")) == std::vector<std::string>{"10.0.0.1:80"});
}

TEST_CASE("a changed answer gives a new host set after refresh_rate", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1"});
  DnsClusters::Clusters in = {{"svc", t.cluster("svc", t.config({{"a.test", 80}}, 50ms))}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.clusters->warmed() && t.notified > 0; }));
  auto first = t.apply(in).at("svc");
  CHECK(addresses(first) == std::vector<std::string>{"10.0.0.1:80"});

  t.server.set("a.test", {"10.0.0.9", "10.0.0.8"});
  const int before = t.notified;
  REQUIRE(t.runUntil([&] { return t.notified > before; }));
  auto second = t.apply(in).at("svc");
  CHECK(second != first);
  CHECK(addresses(second) == std::vector<std::string>{"10.0.0.9:80", "10.0.0.8:80"});
  CHECK(second->stats->membership_total.value() == 2);
}

TEST_CASE("respect_dns_ttl refreshes after the answer's TTL instead of refresh_rate", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1"});
  t.server.setTtl(1);
  auto dns = t.config({{"a.test", 80}}, 10s);
  dns->respect_dns_ttl = true;
  DnsClusters::Clusters in = {{"svc", t.cluster("svc", dns)}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.server.queries("a.test") >= 2; }, 5s));
  CHECK(t.server.queries("a.test") == 2);
  CHECK(t.counter("svc", "update_no_rebuild") <= 1);
}

TEST_CASE("without respect_dns_ttl a short TTL does not bring the refresh forward", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1"});
  t.server.setTtl(1);
  t.server.set("b.test", {"10.0.0.2"});
  DnsClusters::Clusters in = {{"slow", t.cluster("slow", t.config({{"a.test", 80}}, 10s))},
                              {"fast", t.cluster("fast", t.config({{"b.test", 80}}, 50ms))}};
  t.apply(in);
  // 1.5 s of the other cluster's refreshes: longer than the TTL, far shorter than 10 s.
  REQUIRE(t.runUntil([&] { return t.server.queries("b.test") >= 30; }, 20s));
  CHECK(t.server.queries("a.test") == 1);
}

TEST_CASE("an unchanged answer keeps the same cluster and counts update_no_rebuild", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1", "10.0.0.2"});
  DnsClusters::Clusters in = {{"svc", t.cluster("svc", t.config({{"a.test", 80}}, 20ms))}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.clusters->warmed() && t.notified > 0; }));
  auto first = t.apply(in).at("svc");
  const int notified = t.notified;

  // The same records in another order are the same hosts.
  t.server.set("a.test", {"10.0.0.2", "10.0.0.1"});
  REQUIRE(t.runUntil([&] { return t.counter("svc", "update_no_rebuild") >= 3; }));
  CHECK(t.apply(in).at("svc") == first);
  CHECK(t.notified == notified);
  CHECK(t.counter("svc", "update_success") >= 4);
}

TEST_CASE("a failed refresh keeps the last hosts and counts update_failure", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1"});
  DnsClusters::Clusters in = {{"svc", t.cluster("svc", t.config({{"a.test", 80}}, 20ms))}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.clusters->warmed() && t.notified > 0; }));
  auto first = t.apply(in).at("svc");

  t.server.remove("a.test");
  REQUIRE(t.runUntil([&] { return t.counter("svc", "update_failure") >= 2; }));
  auto after = t.apply(in).at("svc");
  CHECK(after == first);
  CHECK(addresses(after) == std::vector<std::string>{"10.0.0.1:80"});

  // Back: the next success is the same hosts, not a rebuild.
  t.server.set("a.test", {"10.0.0.1"});
  const uint64_t successes = t.counter("svc", "update_success");
  REQUIRE(t.runUntil([&] { return t.counter("svc", "update_success") > successes; }));
  CHECK(t.apply(in).at("svc") == first);
}

TEST_CASE("failures retry on the failure back-off between base and max", "[dns]") {
  DnsClustersTest t;
  auto dns = t.config({{"gone.test", 80}}, 10s);
  dns->failure_refresh_base = 10ms;
  dns->failure_refresh_max = 40ms;
  DnsClusters::Clusters in = {{"svc", t.cluster("svc", dns)}};
  t.apply(in);
  // Retries come within the back-off's 40 ms cap, not the 10 s refresh_rate.
  REQUIRE(t.runUntil([&] { return t.counter("svc", "update_failure") >= 5; }, 5s));
  CHECK(t.counter("svc", "update_success") == 0);
}

TEST_CASE("a new cluster is left out until every target has a first answer or failure", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1"});
  DnsClusters::Clusters in = {
      {"svc", t.cluster("svc", t.config({{"a.test", 80}, {"missing.test", 80}}))}};
  auto out = t.apply(in);
  CHECK_FALSE(t.clusters->warmed());
  CHECK_FALSE(out.contains("svc"));
  REQUIRE(t.runUntil([&] { return t.clusters->warmed(); }));
  CHECK(t.notified >= 1);
  CHECK(addresses(t.apply(in).at("svc")) == std::vector<std::string>{"10.0.0.1:80"});
  CHECK(t.counter("svc", "update_failure") >= 1);
}

TEST_CASE("a changed DNS config keeps the previous hosts serving until it has resolved", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1"});
  t.server.set("b.test", {"10.0.0.2"});
  DnsClusters::Clusters in = {{"svc", t.cluster("svc", t.config({{"a.test", 80}}), "dns-1")}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.clusters->warmed(); }));
  auto first = t.apply(in).at("svc");

  DnsClusters::Clusters changed = {{"svc", t.cluster("svc", t.config({{"b.test", 81}}), "dns-2")}};
  CHECK(t.apply(changed).at("svc") == first);
  CHECK_FALSE(t.clusters->warmed());
  REQUIRE(t.runUntil([&] { return t.clusters->warmed(); }));
  CHECK(addresses(t.apply(changed).at("svc")) == std::vector<std::string>{"10.0.0.2:81"});
}

TEST_CASE("a removed cluster stops querying", "[dns]") {
  DnsClustersTest t;
  t.server.set("a.test", {"10.0.0.1"});
  t.server.set("b.test", {"10.0.0.2"});
  DnsClusters::Clusters in = {{"gone", t.cluster("gone", t.config({{"a.test", 80}}, 20ms))},
                              {"kept", t.cluster("kept", t.config({{"b.test", 80}}, 20ms))}};
  t.apply(in);
  REQUIRE(t.runUntil([&] { return t.server.queries("a.test") >= 2; }));
  in.erase("gone");
  t.apply(in);
  // A question sent just before may still reach the server; none may after that.
  uint64_t kept = t.server.queries("b.test");
  REQUIRE(t.runUntil([&] { return t.server.queries("b.test") >= kept + 1; }));
  const uint64_t gone = t.server.queries("a.test");
  kept = t.server.queries("b.test");
  REQUIRE(t.runUntil([&] { return t.server.queries("b.test") >= kept + 5; }));
  CHECK(t.server.queries("a.test") == gone);

  in.erase("kept");
  CHECK_FALSE(t.clusters->apply(in).has_value());
  CHECK(t.clusters->warmed());
}

}  // namespace
}  // namespace remora::upstream
