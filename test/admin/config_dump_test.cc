// Specifies /config_dump's body: Envoy's ConfigDump sections in Envoy's order, static resources
// from the bootstrap, and every dynamic resource with its version, lifecycle state and last
// rejection.
#include <catch2/catch.hpp>

#include "envoy/admin/v3/config_dump.pb.h"
#include "envoy/admin/v3/config_dump_shared.pb.h"
#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.pb.h"
#include "google/protobuf/util/json_util.h"
#include "source/admin/config_dump.h"

namespace remora::admin {
namespace {

using envoy::admin::v3::ClustersConfigDump;
using envoy::admin::v3::EndpointsConfigDump;
using envoy::admin::v3::ListenersConfigDump;
using envoy::admin::v3::RoutesConfigDump;

google::protobuf::Timestamp at(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

template <typename Message>
google::protobuf::Any packed(const Message& m) {
  google::protobuf::Any any;
  any.PackFrom(m);
  return any;
}

envoy::config::listener::v3::Listener listener(const std::string& name, uint32_t port) {
  envoy::config::listener::v3::Listener l;
  l.set_name(name);
  l.mutable_address()->mutable_socket_address()->set_address("0.0.0.0");
  l.mutable_address()->mutable_socket_address()->set_port_value(port);
  return l;
}

envoy::config::cluster::v3::Cluster cluster(const std::string& name) {
  envoy::config::cluster::v3::Cluster c;
  c.set_name(name);
  c.set_type(envoy::config::cluster::v3::Cluster::EDS);
  return c;
}

envoy::config::route::v3::RouteConfiguration routeConfig(const std::string& name) {
  envoy::config::route::v3::RouteConfiguration r;
  r.set_name(name);
  return r;
}

envoy::config::endpoint::v3::ClusterLoadAssignment assignment(const std::string& cluster_name) {
  envoy::config::endpoint::v3::ClusterLoadAssignment a;
  a.set_cluster_name(cluster_name);
  auto* address = a.add_endpoints()->add_lb_endpoints()->mutable_endpoint()->mutable_address();
  address->mutable_socket_address()->set_address("10.0.0.1");
  address->mutable_socket_address()->set_port_value(8080);
  return a;
}

DynamicResourceInfo resource(const std::string& name, const std::string& version, int64_t updated,
                             const google::protobuf::Any& any) {
  return {name, version, at(updated), any};
}

ResourceErrorInfo rejection(const std::string& name, const std::string& version,
                            const std::string& details, const google::protobuf::Any& any) {
  return {name, details, version, at(900), any};
}

// A static cluster with inline endpoints and a static listener whose HTTP connection manager has
// an inline route configuration.
envoy::config::bootstrap::v3::Bootstrap bootstrap() {
  envoy::config::bootstrap::v3::Bootstrap b;
  auto* c = b.mutable_static_resources()->add_clusters();
  c->set_name("static_backend");
  c->set_type(envoy::config::cluster::v3::Cluster::STATIC);
  *c->mutable_load_assignment() = assignment("");
  envoy::extensions::filters::network::http_connection_manager::v3::HttpConnectionManager hcm;
  hcm.set_stat_prefix("ingress");
  *hcm.mutable_route_config() = routeConfig("local_routes");
  auto* l = b.mutable_static_resources()->add_listeners();
  *l = listener("static_ingress", 10000);
  auto* filter = l->add_filter_chains()->add_filters();
  filter->set_name("envoy.filters.network.http_connection_manager");
  filter->mutable_typed_config()->PackFrom(hcm);
  return b;
}

// Listener "ingress" active at v1 with v2 warming, "old" draining, and two rejections: one of
// "ingress" at v3 and one of "broken", never accepted. Clusters, routes and endpoints likewise.
DynamicConfigState dynamicState() {
  DynamicConfigState s;
  s.lds_version_info = "lds-2";
  s.cds_version_info = "cds-7";
  s.active_listeners = {resource("ingress", "lds-1", 100, packed(listener("ingress", 8080)))};
  s.warming_listeners = {resource("ingress", "lds-2", 200, packed(listener("ingress", 8081)))};
  s.draining_listeners = {resource("old", "lds-0", 50, packed(listener("old", 9090)))};
  s.listener_errors = {
      rejection("ingress", "lds-3", "ingress: bad port", packed(listener("ingress", 0))),
      rejection("broken", "lds-3", "broken: no filter chains", packed(listener("broken", 1)))};
  s.active_clusters = {resource("api", "cds-7", 300, packed(cluster("api")))};
  s.warming_clusters = {resource("web", "cds-7", 310, packed(cluster("web")))};
  s.cluster_errors = {rejection("api", "cds-8", "api: bad lb_policy", packed(cluster("api"))),
                      rejection("ghost", "cds-8", "ghost: no type", packed(cluster("ghost")))};
  s.route_configs = {resource("routes_a", "rds-1", 400, packed(routeConfig("routes_a")))};
  s.route_errors = {
      rejection("routes_b", "rds-2", "routes_b: bad regex", packed(routeConfig("routes_b")))};
  s.endpoint_configs = {resource("api", "eds-1", 500, packed(assignment("api")))};
  s.endpoint_errors = {rejection("web", "eds-2", "web: bad weight", packed(assignment("web")))};
  return s;
}

envoy::admin::v3::ConfigDump parse(const std::string& json) {
  envoy::admin::v3::ConfigDump dump;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &dump);
  INFO(json);
  REQUIRE(status.ok());
  return dump;
}

envoy::admin::v3::ConfigDump dumpOf(bool include_eds) {
  const DynamicConfigState state = dynamicState();
  return parse(configDumpJson(bootstrap(), at(10), &state, include_eds));
}

std::vector<std::string> typeUrls(const envoy::admin::v3::ConfigDump& dump) {
  std::vector<std::string> out;
  for (const auto& c : dump.configs()) out.push_back(c.type_url());
  return out;
}

template <typename Section>
Section section(const envoy::admin::v3::ConfigDump& dump) {
  for (const auto& c : dump.configs()) {
    Section s;
    if (c.UnpackTo(&s)) return s;
  }
  FAIL("no " << Section::descriptor()->full_name() << " in the dump");
  return {};
}

template <typename Message>
Message unpacked(const google::protobuf::Any& any) {
  Message m;
  REQUIRE(any.UnpackTo(&m));
  return m;
}

constexpr char kPrefix[] = "type.googleapis.com/envoy.admin.v3.";

TEST_CASE("config dump sections come in Envoy's order without endpoints by default", "[admin]") {
  CHECK(typeUrls(dumpOf(false)) ==
        std::vector<std::string>{std::string(kPrefix) + "BootstrapConfigDump",
                                 std::string(kPrefix) + "ClustersConfigDump",
                                 std::string(kPrefix) + "ListenersConfigDump",
                                 std::string(kPrefix) + "RoutesConfigDump"});
}

TEST_CASE("include_eds puts the endpoints section between clusters and listeners", "[admin]") {
  CHECK(typeUrls(dumpOf(true)) ==
        std::vector<std::string>{std::string(kPrefix) + "BootstrapConfigDump",
                                 std::string(kPrefix) + "ClustersConfigDump",
                                 std::string(kPrefix) + "EndpointsConfigDump",
                                 std::string(kPrefix) + "ListenersConfigDump",
                                 std::string(kPrefix) + "RoutesConfigDump"});
}

TEST_CASE("the bootstrap section holds the bootstrap as loaded and when", "[admin]") {
  const auto boot = section<envoy::admin::v3::BootstrapConfigDump>(dumpOf(false));
  CHECK(boot.bootstrap().static_resources().clusters(0).name() == "static_backend");
  CHECK(boot.last_updated().seconds() == 10);
}

TEST_CASE("without dynamic state only static resources are dumped", "[admin]") {
  const auto dump = parse(configDumpJson(bootstrap(), at(10), nullptr, true));
  const auto clusters = section<ClustersConfigDump>(dump);
  CHECK(clusters.version_info().empty());
  REQUIRE(clusters.static_clusters_size() == 1);
  CHECK(clusters.dynamic_active_clusters_size() == 0);
  const auto listeners = section<ListenersConfigDump>(dump);
  REQUIRE(listeners.static_listeners_size() == 1);
  CHECK(listeners.static_listeners(0).last_updated().seconds() == 10);
  CHECK(listeners.dynamic_listeners_size() == 0);
  CHECK(section<RoutesConfigDump>(dump).dynamic_route_configs_size() == 0);
  CHECK(section<EndpointsConfigDump>(dump).dynamic_endpoint_configs_size() == 0);
}

TEST_CASE("dynamic listeners gather active warming and draining states under one name", "[admin]") {
  const auto listeners = section<ListenersConfigDump>(dumpOf(false));
  CHECK(listeners.version_info() == "lds-2");
  CHECK(listeners.static_listeners_size() == 1);
  REQUIRE(listeners.dynamic_listeners_size() == 3);

  const auto& ingress = listeners.dynamic_listeners(0);
  CHECK(ingress.name() == "ingress");
  CHECK(ingress.active_state().version_info() == "lds-1");
  CHECK(ingress.active_state().last_updated().seconds() == 100);
  CHECK(unpacked<envoy::config::listener::v3::Listener>(ingress.active_state().listener())
            .address()
            .socket_address()
            .port_value() == 8080);
  CHECK(ingress.warming_state().version_info() == "lds-2");
  CHECK(ingress.warming_state().last_updated().seconds() == 200);
  CHECK_FALSE(ingress.has_draining_state());

  const auto& old = listeners.dynamic_listeners(1);
  CHECK(old.name() == "old");
  CHECK(old.draining_state().version_info() == "lds-0");
  CHECK_FALSE(old.has_active_state());
  CHECK_FALSE(old.has_error_state());
}

TEST_CASE("a rejected listener update is the error_state of that listener's entry", "[admin]") {
  const auto listeners = section<ListenersConfigDump>(dumpOf(false));
  const auto& error = listeners.dynamic_listeners(0).error_state();
  CHECK(error.details() == "ingress: bad port");
  CHECK(error.version_info() == "lds-3");
  CHECK(error.last_update_attempt().seconds() == 900);
  CHECK(unpacked<envoy::config::listener::v3::Listener>(error.failed_configuration()).name() ==
        "ingress");
}

TEST_CASE("a listener never accepted has an entry holding only its name and error", "[admin]") {
  const auto listeners = section<ListenersConfigDump>(dumpOf(false));
  const auto& broken = listeners.dynamic_listeners(2);
  CHECK(broken.name() == "broken");
  CHECK(broken.error_state().details() == "broken: no filter chains");
  CHECK_FALSE(broken.has_active_state());
  CHECK_FALSE(broken.has_warming_state());
  CHECK_FALSE(broken.has_draining_state());
}

TEST_CASE("dynamic clusters are active or warming with the CDS version", "[admin]") {
  const auto clusters = section<ClustersConfigDump>(dumpOf(false));
  CHECK(clusters.version_info() == "cds-7");
  REQUIRE(clusters.static_clusters_size() == 1);
  CHECK(
      unpacked<envoy::config::cluster::v3::Cluster>(clusters.static_clusters(0).cluster()).name() ==
      "static_backend");
  REQUIRE(clusters.dynamic_active_clusters_size() == 2);
  const auto& api = clusters.dynamic_active_clusters(0);
  CHECK(api.version_info() == "cds-7");
  CHECK(api.last_updated().seconds() == 300);
  CHECK(unpacked<envoy::config::cluster::v3::Cluster>(api.cluster()).name() == "api");
  REQUIRE(clusters.dynamic_warming_clusters_size() == 1);
  CHECK(
      unpacked<envoy::config::cluster::v3::Cluster>(clusters.dynamic_warming_clusters(0).cluster())
          .name() == "web");
}

TEST_CASE("a rejected cluster update sits on the serving cluster or on an entry of its own",
          "[admin]") {
  const auto clusters = section<ClustersConfigDump>(dumpOf(false));
  const auto& api = clusters.dynamic_active_clusters(0);
  CHECK(api.error_state().details() == "api: bad lb_policy");
  CHECK(api.error_state().version_info() == "cds-8");
  const auto& ghost = clusters.dynamic_active_clusters(1);
  CHECK(ghost.error_state().details() == "ghost: no type");
  CHECK(ghost.version_info().empty());
  CHECK_FALSE(ghost.has_cluster());
  CHECK_FALSE(ghost.has_last_updated());
  CHECK_FALSE(clusters.dynamic_warming_clusters(0).has_error_state());
}

TEST_CASE("dynamic route configs carry their version and rejections", "[admin]") {
  const auto routes = section<RoutesConfigDump>(dumpOf(false));
  REQUIRE(routes.dynamic_route_configs_size() == 2);
  const auto& a = routes.dynamic_route_configs(0);
  CHECK(a.version_info() == "rds-1");
  CHECK(a.last_updated().seconds() == 400);
  CHECK(unpacked<envoy::config::route::v3::RouteConfiguration>(a.route_config()).name() ==
        "routes_a");
  CHECK_FALSE(a.has_error_state());
  const auto& b = routes.dynamic_route_configs(1);
  CHECK(b.error_state().details() == "routes_b: bad regex");
  CHECK_FALSE(b.has_route_config());
}

TEST_CASE("inline route configs of listeners are static route configs", "[admin]") {
  const auto routes = section<RoutesConfigDump>(dumpOf(false));
  REQUIRE(routes.static_route_configs_size() == 1);
  CHECK(unpacked<envoy::config::route::v3::RouteConfiguration>(
            routes.static_route_configs(0).route_config())
            .name() == "local_routes");
  CHECK(routes.static_route_configs(0).last_updated().seconds() == 10);
}

TEST_CASE("the endpoints section lists static cluster endpoints and EDS assignments", "[admin]") {
  const auto endpoints = section<EndpointsConfigDump>(dumpOf(true));
  REQUIRE(endpoints.static_endpoint_configs_size() == 1);
  const auto inline_assignment = unpacked<envoy::config::endpoint::v3::ClusterLoadAssignment>(
      endpoints.static_endpoint_configs(0).endpoint_config());
  CHECK(inline_assignment.cluster_name() == "static_backend");
  REQUIRE(endpoints.dynamic_endpoint_configs_size() == 2);
  const auto& api = endpoints.dynamic_endpoint_configs(0);
  CHECK(api.version_info() == "eds-1");
  CHECK(api.last_updated().seconds() == 500);
  CHECK(unpacked<envoy::config::endpoint::v3::ClusterLoadAssignment>(api.endpoint_config())
            .cluster_name() == "api");
  const auto& web = endpoints.dynamic_endpoint_configs(1);
  CHECK(web.error_state().details() == "web: bad weight");
  CHECK(web.error_state().version_info() == "eds-2");
}

TEST_CASE("a resource of a type Remora cannot print is left out instead of failing the dump",
          "[admin]") {
  DynamicConfigState state;
  google::protobuf::Any unknown;
  unknown.set_type_url("type.googleapis.com/example.Unknown");
  unknown.set_value("\x08\x01");
  state.active_clusters = {resource("mystery", "cds-1", 1, unknown)};
  state.listener_errors = {rejection("bad", "lds-1", "unknown filter", unknown)};
  const auto dump = parse(configDumpJson(bootstrap(), at(10), &state, false));
  const auto clusters = section<ClustersConfigDump>(dump);
  REQUIRE(clusters.dynamic_active_clusters_size() == 1);
  CHECK(clusters.dynamic_active_clusters(0).version_info() == "cds-1");
  CHECK_FALSE(clusters.dynamic_active_clusters(0).has_cluster());
  const auto listeners = section<ListenersConfigDump>(dump);
  REQUIRE(listeners.dynamic_listeners_size() == 1);
  CHECK(listeners.dynamic_listeners(0).error_state().details() == "unknown filter");
  CHECK_FALSE(listeners.dynamic_listeners(0).error_state().has_failed_configuration());
}

}  // namespace
}  // namespace remora::admin
