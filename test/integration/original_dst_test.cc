// ORIGINAL_DST clusters through the real binary configured over xDS: with use_http_header each
// request goes to the address its x-envoy-original-dst-host names, a value that is no IP:port
// gets a 503, upstream_port_override replaces the port, and /clusters lists the hosts in use
// until they have been idle for cleanup_interval. Behind the original_dst listener filter, a
// connection redirected by iptables (in a network namespace the test makes) reaches the address
// it was sent to.
#include <arpa/inet.h>
#include <sched.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "source/network/original_dst.h"
#include "test/support/bootstrap.h"
#include "test/support/http_backend.h"
#include "test/support/http_integration.h"
#include "test/support/http_test_client.h"
#include "test/support/remora_process.h"
#include "test/support/sockets.h"
#include "test/support/xds_bootstrap.h"
#include "test/support/xds_integration.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

std::string originalDstCluster(const std::string& name, const std::string& lb_config) {
  return std::string("- \"@type\": ") + kClusterType + "\n  name: " + name +
         "\n  type: ORIGINAL_DST\n  lb_policy: CLUSTER_PROVIDED\n  connect_timeout: 1s\n"
         "  cleanup_interval: 0.2s\n  original_dst_lb_config: " +
         lb_config + "\n";
}

ClientResponse getTo(uint16_t port, const std::string& destination) {
  HttpTestClient client(port, "127.0.0.1", 5s);
  ClientRequest req = get("/");
  req.headers.push_back({"x-envoy-original-dst-host", destination});
  return client.request(req);
}

TEST_CASE("xDS: an ORIGINAL_DST cluster sends each request to the host its header names", "[xds]") {
  HttpBackend a("a"), b("b");
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(p, resourcesYaml({rdsListener("ingress", "ingress-routes", source),
                                  routeTo("ingress-routes", "passthrough"),
                                  originalDstCluster("passthrough", "{use_http_header: true}")}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  const std::string to_a = "127.0.0.1:" + std::to_string(a.port());
  const std::string to_b = "127.0.0.1:" + std::to_string(b.port());
  for (int i = 0; i < 3; ++i) {
    ClientResponse ra = getTo(p.port, to_a);
    CHECK(ra.status == 200);
    CHECK(ra.body == "a");
    ClientResponse rb = getTo(p.port, to_b);
    CHECK(rb.status == 200);
    CHECK(rb.body == "b");
  }
  const std::string clusters = p.remora->admin("GET", "/clusters").body;
  CHECK_THAT(clusters, Catch::Contains("passthrough::" + to_a + "::health_flags::healthy"));
  CHECK_THAT(clusters, Catch::Contains("passthrough::" + to_b + "::health_flags::healthy"));

  ClientResponse bad = getTo(p.port, "not-an-address");
  CHECK(bad.status == 503);
  CHECK(p.remora->stat("cluster.passthrough.original_dst_host_invalid") == 1);

  // Idle past cleanup_interval (0.2 s), the hosts leave the cluster.
  REQUIRE(waitFor(
      [&] {
        return p.remora->admin("GET", "/clusters").body.find("passthrough::127.0.0.1:") ==
               std::string::npos;
      },
      5s));
  // And come back when used again.
  CHECK(getTo(p.port, to_a).body == "a");
}

TEST_CASE("xDS: upstream_port_override sends an ORIGINAL_DST request to another port", "[xds]") {
  HttpBackend a("a");
  XdsProxy p;
  const std::string source = configSource(p.spec);
  startXdsProxy(
      p, resourcesYaml(
             {rdsListener("ingress", "ingress-routes", source),
              routeTo("ingress-routes", "passthrough"),
              originalDstCluster("passthrough", "{use_http_header: true, upstream_port_override: " +
                                                    std::to_string(a.port()) + "}")}));
  INFO(p.remora->describe() << "\n" << p.cp.describe());
  ClientResponse r = getTo(p.port, "127.0.0.1:1");
  CHECK(r.status == 200);
  CHECK(r.body == "a");
}

// What the redirected client saw, gathered on the namespaced thread (Catch's assertions belong to
// the test's own thread).
struct RedirectOutcome {
  std::string skipped;  // Why the scenario could not run.
  std::string error;
  std::string response;
  int backend_requests = -1;
  std::string remora_log;
};

// In a network namespace of its own (the caller's thread moves into it): a backend on
// 127.0.0.5, remora whose listener has the original_dst listener filter in front of an
// ORIGINAL_DST cluster, and an iptables rule redirecting the client's (127.0.0.7) connections to
// 127.0.0.5 into remora. remora's own connection (from 127.0.0.1) is not redirected.
RedirectOutcome redirectedRequest() {
  RedirectOutcome out;
  if (::unshare(CLONE_NEWNET) != 0) {
    out.skipped = "cannot make a network namespace (needs root)";
    return out;
  }
  if (std::system("ip link set lo up") != 0) {
    out.skipped = "cannot bring up lo in the new namespace (iproute2 missing?)";
    return out;
  }
  HttpBackend backend(HttpBackend::Options{"behind-redirect", {}, {}, false, "127.0.0.5", 0});
  HttpListenerSpec listener;
  listener.hcm_yaml = hcmYaml(singleRouteConfig("passthrough"));
  listener.extra = "    listener_filters: [{name: envoy.filters.listener.original_dst}]\n";
  const std::string config =
      httpBootstrap({listener}, {}) +
      "  - name: passthrough\n    type: ORIGINAL_DST\n    lb_policy: CLUSTER_PROVIDED\n"
      "    connect_timeout: 1s\n";
  RemoraProcess remora(REMORA_BINARY, config, {"--concurrency", "1"});
  if (!remora.waitReady()) {
    out.error = "remora did not start: " + remora.error();
    return out;
  }
  const uint16_t port = remora.listenerPort("ingress");
  const std::string rule = "iptables -t nat -A OUTPUT -p tcp -s 127.0.0.7 -d 127.0.0.5 --dport " +
                           std::to_string(backend.port()) + " -j REDIRECT --to-ports " +
                           std::to_string(port);
  if (std::system(rule.c_str()) != 0) {
    out.skipped = "iptables cannot redirect here";
    return out;
  }
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.7", &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(backend.port());
  ::inet_pton(AF_INET, "127.0.0.5", &to.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0 ||
      ::connect(fd.get(), reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    out.error = "client connect failed";
    return out;
  }
  writeAll(fd.get(), "GET / HTTP/1.1\r\nhost: anything\r\nconnection: close\r\n\r\n", 5s);
  out.response = readUntilEof(fd.get(), 5s).data;
  out.backend_requests = backend.requestsReceived();
  out.remora_log = remora.describe();
  return out;
}

TEST_CASE("the original_dst listener filter sends a redirected connection where it was going",
          "[http]") {
  RedirectOutcome out;
  // A thread of its own: the namespace stays with it, away from the rest of this process.
  std::thread([&] { out = redirectedRequest(); }).join();
  if (!out.skipped.empty()) {
    WARN("skipped: " << out.skipped);
    return;
  }
  INFO(out.remora_log);
  REQUIRE(out.error.empty());
  CHECK_THAT(out.response, Catch::StartsWith("HTTP/1.1 200"));
  CHECK_THAT(out.response, Catch::EndsWith("behind-redirect"));
  CHECK(out.backend_requests == 1);
}

TEST_CASE("without a redirection the original destination is the local address", "[http]") {
  Fd listener = listenTcp();
  const uint16_t port = localPort(listener.get());
  Fd client = connectTcp(port, 5s);
  REQUIRE(client.valid());
  Fd accepted(::accept(listener.get(), nullptr, nullptr));
  REQUIRE(accepted.valid());
  CHECK(network::localAddressOf(accepted.get(), true).asString() ==
        "127.0.0.1:" + std::to_string(port));
  CHECK(network::localAddressOf(accepted.get(), false).asString() ==
        "127.0.0.1:" + std::to_string(port));
}

}  // namespace
}  // namespace remora::testing
