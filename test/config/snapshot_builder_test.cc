// Bootstrap validation and snapshot building: good configs produce the expected snapshot; each kind
// of bad config is rejected with a message naming the field path.
#include <catch2/catch.hpp>

#include "source/config/bootstrap_loader.h"
#include "source/config/snapshot_builder.h"
#include "source/tcp_proxy/tcp_proxy_config.h"

namespace remora::config {
namespace {

constexpr char kGood[] = R"(
node: {id: n1, cluster: c1}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
static_resources:
  listeners:
  - name: tcp
    address: {socket_address: {address: 127.0.0.1, port_value: 10000}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          weighted_clusters:
            clusters: [{name: a, weight: 80}, {name: b, weight: 20}]
          idle_timeout: 30s
  clusters:
  - name: a
    connect_timeout: 0.25s
    per_connection_buffer_limit_bytes: 65536
    load_assignment:
      cluster_name: a
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8001}}}
        - endpoint: {address: {socket_address: {address: "::1", port_value: 8002}}}
  - name: b
    type: STATIC
    load_assignment:
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {pipe: {path: /tmp/b.sock}}}
)";

struct Built {
  absl::Status status;
  SnapshotConstSharedPtr snapshot;
  ParseReport report;
};

Built build(const std::string& yaml) {
  Built out;
  auto loaded = loadBootstrap({"", yaml, "", ""});
  if (!loaded.ok()) {
    // Errors from --config-yaml text carry that flag as a prefix; the field path follows it.
    std::string message(loaded.status().message());
    const std::string prefix = "--config-yaml: ";
    if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    out.status = absl::InvalidArgumentError(message);
    return out;
  }
  stats::Store store;
  auto snapshot = buildStaticSnapshot(loaded->bootstrap, store, loaded->report);
  out.report = loaded->report;
  out.status = snapshot.status();
  if (snapshot.ok()) out.snapshot = *snapshot;
  return out;
}

// Replaces the first occurrence of `from` in the good config.
std::string goodWith(const std::string& from, const std::string& to) {
  std::string yaml = kGood;
  auto pos = yaml.find(from);
  REQUIRE(pos != std::string::npos);
  return yaml.replace(pos, from.size(), to);
}

TEST_CASE("a valid static config builds listeners and clusters with their settings", "[config]") {
  Built b = build(kGood);
  REQUIRE(b.status.ok());
  REQUIRE(b.snapshot->listeners.size() == 1);
  const ListenerConfig& l = *b.snapshot->listeners[0];
  CHECK(l.name == "tcp");
  CHECK(l.address.asString() == "127.0.0.1:10000");
  CHECK(l.per_connection_buffer_limit_bytes == 1024 * 1024);
  CHECK(l.tcp_backlog_size == 1024);  // Envoy's default.
  const auto* tcp =
      dynamic_cast<const tcp_proxy::TcpProxyFactory*>(l.filter_chains[0].terminal_filter.get());
  REQUIRE(tcp != nullptr);
  CHECK(tcp->config().total_weight == 100);
  CHECK(tcp->config().idle_timeout == std::chrono::seconds(30));

  const upstream::Cluster* a = b.snapshot->findCluster("a");
  REQUIRE(a != nullptr);
  CHECK(a->connect_timeout == std::chrono::milliseconds(250));
  CHECK(a->per_connection_buffer_limit_bytes == 65536);
  REQUIRE(a->host_set->hosts.size() == 2);
  CHECK(a->host_set->hosts[1].address.asString() == "[::1]:8002");
  const upstream::Cluster* c = b.snapshot->findCluster("b");
  REQUIRE(c != nullptr);
  CHECK(c->connect_timeout == std::chrono::seconds(5));  // Envoy's default.
  CHECK(c->host_set->hosts[0].address.isPipe());
}

TEST_CASE("weighted cluster picks follow the weights", "[config]") {
  Built b = build(kGood);
  REQUIRE(b.status.ok());
  const auto* tcp = dynamic_cast<const tcp_proxy::TcpProxyFactory*>(
      b.snapshot->listeners[0]->filter_chains[0].terminal_filter.get());
  int a = 0;
  for (uint64_t r = 0; r < 100; ++r) a += tcp->config().pickCluster(r) == "a";
  CHECK(a == 80);
}

TEST_CASE("a listener's tcp_backlog_size is taken and 0 is refused", "[config]") {
  const std::string at = "port_value: 10000}}";
  Built b = build(goodWith(at, at + "\n    tcp_backlog_size: 77"));
  REQUIRE(b.status.ok());
  CHECK(b.snapshot->listeners[0]->tcp_backlog_size == 77);
  b = build(goodWith(at, at + "\n    tcp_backlog_size: 0"));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) ==
        "static_resources.listeners[0].tcp_backlog_size: must be at least 1");
}

TEST_CASE("an endpoint port out of range names the full field path", "[config]") {
  Built b = build(goodWith("port_value: 8002", "port_value: 70000"));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) ==
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[1].endpoint."
        "address.socket_address.port_value: 70000 is out of range (1-65535)");
}

TEST_CASE("an endpoint with a hostname in a STATIC cluster is rejected", "[config]") {
  Built b = build(
      goodWith("address: 127.0.0.1, port_value: 8001", "address: db.local, port_value: 8001"));
  REQUIRE_FALSE(b.status.ok());
  CHECK_THAT(std::string(b.status.message()),
             Catch::StartsWith("static_resources.clusters[0].load_assignment.endpoints[0]."
                               "lb_endpoints[0].endpoint.address.socket_address.address: "
                               "'db.local' is not an IP address"));
}

TEST_CASE("a cluster without a name is rejected", "[config]") {
  Built b = build(goodWith("  - name: b\n    type: STATIC\n", "  - type: STATIC\n"));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) == "static_resources.clusters[1].name: required");
}

TEST_CASE("duplicate cluster names are rejected with both places named", "[config]") {
  Built b = build(goodWith("  - name: b\n", "  - name: a\n"));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) ==
        "static_resources.clusters[1].name: duplicate cluster name 'a' (also "
        "static_resources.clusters[0])");
}

TEST_CASE("the original_dst listener filter and use_original_dst mark the listener", "[config]") {
  const std::string head =
      "    address: {socket_address: {address: 127.0.0.1, port_value: 10000}}\n";
  Built plain = build(kGood);
  REQUIRE(plain.status.ok());
  CHECK_FALSE(plain.snapshot->listeners[0]->use_original_dst);
  Built by_name = build(goodWith(
      head, head + "    listener_filters: [{name: envoy.filters.listener.original_dst}]\n"));
  REQUIRE(by_name.status.ok());
  CHECK(by_name.snapshot->listeners[0]->use_original_dst);
  CHECK(by_name.report.warnings.empty());
  Built by_field = build(goodWith(head, head + "    use_original_dst: true\n"));
  REQUIRE(by_field.status.ok());
  CHECK(by_field.snapshot->listeners[0]->use_original_dst);
}

TEST_CASE("other listener filters are reported and ignored", "[config]") {
  const std::string head =
      "    address: {socket_address: {address: 127.0.0.1, port_value: 10000}}\n";
  Built b = build(goodWith(
      head, head + "    listener_filters: [{name: envoy.filters.listener.tls_inspector}]\n"));
  REQUIRE(b.status.ok());
  CHECK_FALSE(b.snapshot->listeners[0]->use_original_dst);
  REQUIRE(b.report.warnings.size() == 1);
  CHECK(b.report.warnings[0] ==
        "static_resources.listeners[0].listener_filters[0]: listener filter "
        "'envoy.filters.listener.tls_inspector' is not supported, ignored");
}

TEST_CASE("custom cluster types are rejected", "[config]") {
  Built b =
      build(goodWith("    type: STATIC\n", "    cluster_type: {name: envoy.clusters.aggregate}\n"));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) ==
        "static_resources.clusters[1].cluster_type: custom cluster types are not supported");
}

TEST_CASE("an unknown cluster type name is a parse error naming the field", "[config]") {
  Built b = build(goodWith("    type: STATIC\n", "    type: STATICK\n"));
  REQUIRE_FALSE(b.status.ok());
  CHECK_THAT(std::string(b.status.message()),
             Catch::StartsWith("static_resources.clusters[1].type"));
}

TEST_CASE("a zero connect_timeout is rejected", "[config]") {
  Built b = build(goodWith("connect_timeout: 0.25s", "connect_timeout: 0s"));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) ==
        "static_resources.clusters[0].connect_timeout: must be greater than 0s");
}

TEST_CASE("a malformed duration is rejected with the field path", "[config]") {
  Built b = build(goodWith("connect_timeout: 0.25s", "connect_timeout: soon"));
  REQUIRE_FALSE(b.status.ok());
  CHECK_THAT(std::string(b.status.message()),
             Catch::StartsWith("static_resources.clusters[0].connect_timeout:"));
}

TEST_CASE("a listener without an address is rejected", "[config]") {
  Built b = build(
      goodWith("    address: {socket_address: {address: 127.0.0.1, port_value: 10000}}\n", ""));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) == "static_resources.listeners[0].address: required");
}

TEST_CASE("tcp_proxy without stat_prefix is rejected", "[config]") {
  Built b = build(goodWith("          stat_prefix: tcp\n", ""));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) ==
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.stat_prefix: "
        "required");
}

TEST_CASE("a tcp_proxy cluster weight of 0 is rejected, as Envoy does", "[config]") {
  Built b = build(goodWith("{name: b, weight: 20}", "{name: b, weight: 0}"));
  REQUIRE_FALSE(b.status.ok());
  CHECK(std::string(b.status.message()) ==
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.weighted_clusters."
        "clusters[1].weight: must be at least 1");
}

TEST_CASE("an unsupported network filter is rejected by type", "[config]") {
  Built b = build(goodWith("envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
                           "envoy.extensions.filters.network.http_connection_manager.v3."
                           "HttpConnectionManager"));
  REQUIRE_FALSE(b.status.ok());
  CHECK_THAT(std::string(b.status.message()),
             Catch::StartsWith("static_resources.listeners[0].filter_chains[0].filters[0]."
                               "typed_config"));
}

TEST_CASE("a listener TLS transport socket is refused rather than served in plaintext",
          "[config]") {
  Built b = build(goodWith("    - filters:\n",
                           "    - transport_socket: {name: envoy.transport_sockets.tls}\n"
                           "      filters:\n"));
  REQUIRE_FALSE(b.status.ok());
  CHECK_THAT(std::string(b.status.message()),
             Catch::StartsWith("static_resources.listeners[0].filter_chains[0].transport_socket:"));
}

TEST_CASE("a tcp_proxy pointing at an unknown cluster is a warning, not an error", "[config]") {
  Built b = build(goodWith("{name: b, weight: 20}", "{name: nowhere, weight: 20}"));
  REQUIRE(b.status.ok());
  bool warned = false;
  for (const auto& w : b.report.warnings)
    warned |= w.find("unknown cluster 'nowhere'") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("fields Remora does not implement are reported with their path", "[config]") {
  Built b = build(goodWith("    connect_timeout: 0.25s\n",
                           "    connect_timeout: 0.25s\n    wait_for_warm_on_init: true\n"));
  REQUIRE(b.status.ok());
  bool warned = false;
  for (const auto& w : b.report.warnings) {
    warned |= w.rfind("static_resources.clusters[0].wait_for_warm_on_init:", 0) == 0;
  }
  CHECK(warned);
}

TEST_CASE("an unimplemented lb_policy is a warning", "[config]") {
  Built b =
      build(goodWith("    type: STATIC\n", "    type: STATIC\n    lb_policy: CLUSTER_PROVIDED\n"));
  REQUIRE(b.status.ok());
  bool warned = false;
  for (const auto& w : b.report.warnings)
    warned |= w.rfind("static_resources.clusters[1].lb_policy:", 0) == 0;
  CHECK(warned);
}

TEST_CASE("the service node and cluster flags override the bootstrap node", "[config]") {
  auto loaded = loadBootstrap({"", kGood, "node-x", "cluster-y"});
  REQUIRE(loaded.ok());
  CHECK(loaded->bootstrap.node().id() == "node-x");
  CHECK(loaded->bootstrap.node().cluster() == "cluster-y");
}

TEST_CASE("a missing config file is an error naming the file", "[config]") {
  auto loaded = loadBootstrap({"/nonexistent/remora.yaml", "", "", ""});
  REQUIRE_FALSE(loaded.ok());
  CHECK_THAT(std::string(loaded.status().message()), Catch::Contains("/nonexistent/remora.yaml"));
}

TEST_CASE("duplicate listener addresses are rejected", "[config]") {
  std::string yaml = kGood;
  const size_t begin = yaml.find("  - name: tcp");
  const size_t end = yaml.find("\n  clusters:\n") + 1;
  std::string second = yaml.substr(begin, end - begin);
  second.replace(second.find("name: tcp"), 9, "name: tcp2");
  yaml.insert(end, second);
  Built b = build(yaml);
  REQUIRE_FALSE(b.status.ok());
  CHECK_THAT(std::string(b.status.message()),
             Catch::StartsWith("static_resources.listeners[1].address: address 127.0.0.1:10000"));
}

}  // namespace
}  // namespace remora::config
