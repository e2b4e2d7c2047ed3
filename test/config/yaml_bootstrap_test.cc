// parseYaml() on real Envoy bootstrap configs with our proto/ subset: a realistic static config,
// the error paths through it, and Envoy's own example configs.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "envoy/config/bootstrap/v3/bootstrap.pb.h"
#include "envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.pb.h"
#include "source/config/yaml_to_proto.h"

namespace remora::config {
namespace {

using envoy::config::bootstrap::v3::Bootstrap;

constexpr char kStaticConfig[] = R"(
static_resources:
  listeners:
  - name: tcp_in
    address:
      socket_address: {address: 0.0.0.0, port_value: 10000}
    filter_chains:
    - filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: ingress_tcp
          cluster: backend
          idle_timeout: 30s
  clusters:
  - name: backend
    connect_timeout: 0.25s
    type: STATIC
    lb_policy: ROUND_ROBIN
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: {address: 127.0.0.1, port_value: 8080}
        - endpoint:
            address:
              socket_address: {address: 127.0.0.2, port_value: "8081"}
admin:
  address:
    socket_address: {address: 127.0.0.1, port_value: 9901}
)";

struct Loaded {
  Bootstrap bootstrap;
  ParseReport report;
  absl::Status status;
};

Loaded load(const std::string& yaml) {
  Loaded l;
  l.status = parseYaml(yaml, l.bootstrap, l.report);
  return l;
}

// kStaticConfig with one line replaced: each error test changes exactly one thing.
std::string errorWith(const std::string& from, const std::string& to) {
  const std::string yaml = absl::StrReplaceAll(kStaticConfig, {{from, to}});
  REQUIRE(yaml != kStaticConfig);
  Loaded l = load(yaml);
  REQUIRE_FALSE(l.status.ok());
  return std::string(l.status.message());
}

TEST_CASE("a static bootstrap with a cluster and a tcp_proxy listener parses", "[config]") {
  Loaded l = load(kStaticConfig);
  INFO(l.status.ToString());
  REQUIRE(l.status.ok());
  CHECK(l.report.warnings.empty());

  const auto& cluster = l.bootstrap.static_resources().clusters(0);
  CHECK(cluster.name() == "backend");
  CHECK(cluster.connect_timeout().nanos() == 250000000);
  CHECK(cluster.type() == envoy::config::cluster::v3::Cluster::STATIC);
  const auto& lb_endpoints = cluster.load_assignment().endpoints(0).lb_endpoints();
  REQUIRE(lb_endpoints.size() == 2);
  CHECK(lb_endpoints[1].endpoint().address().socket_address().address() == "127.0.0.2");
  CHECK(lb_endpoints[1].endpoint().address().socket_address().port_value() == 8081);

  const auto& filter = l.bootstrap.static_resources().listeners(0).filter_chains(0).filters(0);
  envoy::extensions::filters::network::tcp_proxy::v3::TcpProxy tcp;
  REQUIRE(filter.typed_config().UnpackTo(&tcp));
  CHECK(tcp.stat_prefix() == "ingress_tcp");
  CHECK(tcp.cluster() == "backend");
  CHECK(tcp.idle_timeout().seconds() == 30);
  CHECK(l.bootstrap.admin().address().socket_address().port_value() == 9901);
}

TEST_CASE("a bad duration in the third cluster names its exact path", "[config]") {
  CHECK(errorWith("admin:\n",
                  "  - {name: b, connect_timeout: 1s}\n"
                  "  - {name: c, connect_timeout: abc}\n"
                  "admin:\n") ==
        "static_resources.clusters[2].connect_timeout: invalid duration 'abc' (expected e.g. "
        "'0.25s')");
}

TEST_CASE("a bad port deep in a load assignment names its exact path", "[config]") {
  CHECK(errorWith("port_value: \"8081\"", "port_value: 70000x") ==
        "static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[1].endpoint."
        "address.socket_address.port_value: invalid uint32 '70000x' (expected an integer)");
}

TEST_CASE("an error inside a filter's typed_config names the path through the Any", "[config]") {
  CHECK(errorWith("idle_timeout: 30s", "idle_timeout: 30") ==
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.idle_timeout: "
        "invalid duration '30' (expected e.g. '0.25s'; did you mean '30s'?)");
}

TEST_CASE("a misspelt enum value lists the valid ones", "[config]") {
  const std::string error = errorWith("lb_policy: ROUND_ROBIN", "lb_policy: round_robin");
  CHECK_THAT(error, Catch::StartsWith("static_resources.clusters[0].lb_policy: invalid value "
                                      "'round_robin' for enum "
                                      "envoy.config.cluster.v3.Cluster.LbPolicy (valid: "));
  CHECK_THAT(error, Catch::EndsWith("did you mean 'ROUND_ROBIN'?)"));
}

TEST_CASE("a cluster's discovery type given twice is a oneof error", "[config]") {
  CHECK(errorWith("type: STATIC", "type: STATIC\n    cluster_type: {name: custom}") ==
        "static_resources.clusters[0].cluster_type: oneof 'cluster_discovery_type' is already set "
        "by 'type'; set only one of them");
}

TEST_CASE("an unknown filter type in typed_config is an error naming the URL", "[config]") {
  CHECK(errorWith("tcp_proxy.v3.TcpProxy", "tcp_proxy.v3.TcpProxyy") ==
        "static_resources.listeners[0].filter_chains[0].filters[0].typed_config: unknown type "
        "'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxyy'");
}

TEST_CASE("an Envoy field outside our subset is a warning with its path", "[config]") {
  Loaded l = load(absl::StrReplaceAll(
      kStaticConfig, {{"type: STATIC", "type: STATIC\n    filters: [{name: envoy.filters.x}]"}}));
  INFO(l.status.ToString());
  REQUIRE(l.status.ok());
  CHECK(l.report.warnings == std::vector<std::string>{"static_resources.clusters[0].filters: "
                                                      "unknown field, ignored (not in Remora's "
                                                      "API subset)"});
}

TEST_CASE("a single filter written as a mapping is accepted with a warning", "[config]") {
  Loaded l = load(absl::StrReplaceAll(
      kStaticConfig,
      {{"    - filters:\n      - name: envoy.filters.network.tcp_proxy\n        typed_config:",
        "    - filters:\n        name: envoy.filters.network.tcp_proxy\n        typed_config:"}}));
  INFO(l.status.ToString());
  REQUIRE(l.status.ok());
  CHECK(l.bootstrap.static_resources().listeners(0).filter_chains(0).filters_size() == 1);
  CHECK(l.report.warnings ==
        std::vector<std::string>{"static_resources.listeners[0].filter_chains[0].filters: "
                                 "expected a list, got a single mapping; treated as a "
                                 "one-element list"});
}

TEST_CASE("unsupported fields of a bootstrap are reported by path", "[config]") {
  Loaded l = load(kStaticConfig);
  REQUIRE(l.status.ok());
  ParseReport report;
  reportUnsupportedFields(
      l.bootstrap,
      {"envoy.config.bootstrap.v3.Bootstrap.static_resources",
       "envoy.config.bootstrap.v3.Bootstrap.StaticResources.listeners",
       "envoy.config.listener.v3.Listener.name", "envoy.config.listener.v3.Listener.filter_chains",
       "envoy.config.listener.v3.FilterChain.filters", "envoy.config.listener.v3.Filter.name",
       "envoy.config.listener.v3.Filter.typed_config",
       "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.stat_prefix",
       "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.cluster"},
      report);
  CHECK(report.warnings ==
        std::vector<std::string>{
            "static_resources.listeners[0].address: field not supported by Remora, ignored",
            "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.idle_timeout:"
            " field not supported by Remora, ignored",
            "static_resources.clusters: field not supported by Remora, ignored",
            "admin: field not supported by Remora, ignored",
        });
}

// Example and golden configs shipped with Envoy and Istio must load: fields outside our subset
// may only be warnings.
void checkSampleParses(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    WARN("sample config " << path << " is absent; skipped");
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  Bootstrap bootstrap;
  ParseReport report;
  const absl::Status status = parseYaml(text.str(), bootstrap, report);
  INFO(path << ": " << status.ToString() << "\nwarnings:\n"
            << absl::StrJoin(report.warnings, "\n"));
  CHECK(status.ok());
}

TEST_CASE("Envoy's front-proxy example parses", "[config]") {
  checkSampleParses("/work/shared/xds-samples/envoy-examples/front-proxy/envoy.yaml");
}

}  // namespace
}  // namespace remora::config
