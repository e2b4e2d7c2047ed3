// STRICT_DNS and LOGICAL_DNS clusters through the real binary: a name in /etc/hosts (remora runs
// in a mount namespace the test creates, with its own /etc/hosts) moving to another address
// moves the traffic, and a name served by a DNS server on loopback is re-resolved by its TTL.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>
#include "absl/strings/str_replace.h"
#include "source/event/dispatcher.h"

#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/process.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"
#include "test/support/test_dns_server.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

// Rewrites `path` in place (same inode), so a bind mount of it sees the new contents.
void rewrite(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::trunc);
  out << contents;
}

// A launcher that runs remora in a new mount namespace whose /etc/hosts is `hosts`. An
// unprivileged user gets the namespace through a user namespace of its own.
std::string namespacedLauncher(const TempDir& dir, const std::string& hosts) {
  const std::string path =
      dir.write("remora-with-hosts",
                std::string("#!/bin/sh\n"
                            "userns=\n"
                            "[ \"$(id -u)\" = 0 ] || userns='--user --map-root-user'\n"
                            "exec unshare $userns --mount --propagation private /bin/sh -c "
                            "'mount --bind \"$0\" /etc/hosts && exec \"$@\"' ") +
                    hosts + " " + REMORA_BINARY + " \"$@\"\n");
  ::chmod(path.c_str(), 0755);
  return path;
}

ClusterSpec dnsCluster(const std::string& type, const std::string& name, uint16_t port,
                       const std::string& extra = "") {
  ClusterSpec c = staticCluster("backend", {port});
  c.type = type;
  c.address = name;
  c.extra = "    dns_refresh_rate: 0.1s\n    dns_lookup_family: V4_ONLY\n" + extra;
  return c;
}

// typed_dns_resolver_config asking only the DNS server on 127.0.0.1:`port`, as cluster fields
// indented by `indent`.
std::string resolverConfig(uint16_t port, const std::string& indent) {
  return indent + "typed_dns_resolver_config:\n" + indent +
         "  name: envoy.network.dns_resolver.cares\n" + indent + "  typed_config:\n" + indent +
         "    \"@type\": type.googleapis.com/"
         "envoy.extensions.network.dns_resolver.cares.v3.CaresDnsResolverConfig\n" +
         indent + "    resolvers: [{socket_address: {address: 127.0.0.1, port_value: " +
         std::to_string(port) + "}}]\n";
}

// Backend "a" on 127.0.0.1 and "b" on 127.0.0.2, on the same port: a name moving from one
// address to the other keeps its port, as DNS changes do.
struct MovingBackends {
  MovingBackends() : a("a"), b(HttpBackend::Options{"b", {}, {}, false, "127.0.0.2", a.port()}) {
    REQUIRE(b.port() == a.port());
  }
  HttpBackend a;
  HttpBackend b;
};

const char* const kRoutes =
    "name: local\nvirtual_hosts:\n- name: all\n  domains: [\"*\"]\n  routes:\n"
    "  - match: { prefix: \"/\" }\n    route:\n      cluster: backend\n";

TEST_CASE("a STRICT_DNS cluster follows its name in /etc/hosts to a new address", "[dns]") {
  const std::string type = GENERATE(std::string("STRICT_DNS"), std::string("LOGICAL_DNS"));
  INFO(type);
  MovingBackends backends;
  HttpBackend& a = backends.a;

  TempDir dir;
  const std::string hosts = dir.write("hosts", "127.0.0.1 backend.remora.test\n");
  auto remora = startRemoraBinary(
      namespacedLauncher(dir, hosts),
      ingressBootstrap(kRoutes, {dnsCluster(type, "backend.remora.test", a.port())}));
  const uint16_t port = ingressPort(*remora);
  CHECK(spread(port, 10) == std::map<std::string, int>{{"a", 10}});

  rewrite(hosts, "127.0.0.2 backend.remora.test\n");
  REQUIRE(waitFor([&] { return spread(port, 1) == std::map<std::string, int>{{"b", 1}}; }, 5s));
  CHECK(spread(port, 10) == std::map<std::string, int>{{"b", 10}});
  const std::string clusters = remora->admin("GET", "/clusters").body;
  CHECK_THAT(clusters, Catch::Contains("backend::127.0.0.2:" + std::to_string(a.port()) +
                                       "::health_flags::healthy"));
  CHECK_THAT(clusters, !Catch::Contains("backend::127.0.0.1:"));
  auto stats = remora->stats();
  CHECK(stats["cluster.backend.update_attempt"] >= 2);
  CHECK(stats["cluster.backend.update_success"] >= 2);
  CHECK(stats["cluster.backend.membership_total"] == 1);
}

// A TestDnsServer answering on its own thread's loop while the test talks to remora.
class DnsServerThread {
 public:
  DnsServerThread() : server_(dispatcher_), thread_([this] { dispatcher_.run(); }) {}
  ~DnsServerThread() {
    dispatcher_.exit();
    thread_.join();
  }
  uint16_t port() const { return server_.address().port(); }
  // Runs `f` on the server's thread and waits for it.
  void call(const std::function<void(TestDnsServer&)>& f) {
    std::promise<void> done;
    dispatcher_.post([&] {
      f(server_);
      done.set_value();
    });
    done.get_future().wait();
  }
  uint64_t queries(const std::string& name) {
    uint64_t n = 0;
    call([&](TestDnsServer& s) { n = s.queries(name); });
    return n;
  }

 private:
  event::Dispatcher dispatcher_{"dns-server"};
  TestDnsServer server_;
  std::thread thread_;
};

TEST_CASE("a DNS cluster re-resolves by the answer's TTL with respect_dns_ttl", "[dns]") {
  MovingBackends backends;
  HttpBackend& a = backends.a;
  DnsServerThread dns;
  dns.call([](TestDnsServer& s) {
    s.setTtl(1);
    s.set("svc.remora.test", {"127.0.0.1"});
  });
  // Refreshing every 60 s, the move below would take a minute; the 1 s TTL makes it a second.
  ClusterSpec c = dnsCluster("STRICT_DNS", "svc.remora.test", a.port(),
                             "    respect_dns_ttl: true\n" + resolverConfig(dns.port(), "    "));
  c.extra = absl::StrReplaceAll(c.extra, {{"dns_refresh_rate: 0.1s", "dns_refresh_rate: 60s"}});
  auto remora = startRemora(ingressBootstrap(kRoutes, {c}));
  const uint16_t port = ingressPort(*remora);
  CHECK(spread(port, 10) == std::map<std::string, int>{{"a", 10}});
  const uint64_t asked = dns.queries("svc.remora.test");
  CHECK(asked >= 1);

  dns.call([](TestDnsServer& s) { s.set("svc.remora.test", {"127.0.0.2"}); });
  REQUIRE(waitFor([&] { return spread(port, 1) == std::map<std::string, int>{{"b", 1}}; }, 10s));
  CHECK(dns.queries("svc.remora.test") > asked);
  CHECK(spread(port, 10) == std::map<std::string, int>{{"b", 10}});
}

TEST_CASE("a DNS cluster keeps its hosts while its name fails to resolve", "[dns]") {
  HttpBackend a("a");
  DnsServerThread dns;
  dns.call([](TestDnsServer& s) { s.set("svc.remora.test", {"127.0.0.1"}); });
  ClusterSpec c =
      dnsCluster("STRICT_DNS", "svc.remora.test", a.port(), resolverConfig(dns.port(), "    "));
  auto remora = startRemora(ingressBootstrap(kRoutes, {c}));
  const uint16_t port = ingressPort(*remora);
  dns.call([](TestDnsServer& s) { s.remove("svc.remora.test"); });  // NXDOMAIN from now on.
  REQUIRE(waitFor([&] { return remora->stat("cluster.backend.update_failure") >= 2; }, 5s));
  CHECK(spread(port, 10) == std::map<std::string, int>{{"a", 10}});
  CHECK(remora->stat("cluster.backend.membership_total") == 1);
}

TEST_CASE("xDS: a STRICT_DNS cluster pushed over CDS resolves and follows its name", "[xds][dns]") {
  MovingBackends backends;
  HttpBackend& a = backends.a;
  DnsServerThread dns;
  dns.call([](TestDnsServer& s) { s.set("svc.remora.test", {"127.0.0.1"}); });
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(p, resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                                  routeTo("ingress-routes", "svc"),
                                  std::string("- \"@type\": ") + kClusterType +
                                      "\n  name: svc\n  type: STRICT_DNS\n  connect_timeout: 1s\n"
                                      "  dns_refresh_rate: 0.1s\n  dns_lookup_family: V4_ONLY\n" +
                                      resolverConfig(dns.port(), "  ") +
                                      "  load_assignment:\n    cluster_name: svc\n    endpoints:\n"
                                      "    - lb_endpoints:\n"
                                      "      - endpoint: {address: {socket_address: {address: "
                                      "svc.remora.test, port_value: " +
                                      std::to_string(a.port()) + "}}}\n"}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  CHECK(spread(p.port, 10) == std::map<std::string, int>{{"a", 10}});
  dns.call([](TestDnsServer& s) { s.set("svc.remora.test", {"127.0.0.2"}); });
  REQUIRE(waitFor([&] { return spread(p.port, 1) == std::map<std::string, int>{{"b", 1}}; }, 5s));
  CHECK(spread(p.port, 10) == std::map<std::string, int>{{"b", 10}});
  CHECK(p.remora->stat("cluster.svc.update_success") >= 2);
}

}  // namespace
}  // namespace remora::testing
