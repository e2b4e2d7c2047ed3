// XdsManager over an in-memory ADS stream: warming, state-of-the-world removal, rejection that
// keeps the last good config, pointer reuse of unchanged parts, delta removal, initial fetch
// timeouts and subscriptions that follow what listeners and clusters reference.
#include "source/xds/xds_manager.h"

#include <catch2/catch.hpp>

#include "envoy/config/cluster/v3/cluster.pb.h"
#include "envoy/config/endpoint/v3/endpoint.pb.h"
#include "envoy/config/listener/v3/listener.pb.h"
#include "envoy/config/route/v3/route.pb.h"
#include "source/config/yaml_to_proto.h"
#include "source/xds/type_urls.h"
#include "test/xds/fake_transport.h"

namespace remora::xds {
namespace {

using namespace std::chrono_literals;
using envoy::service::discovery::v3::DeltaDiscoveryResponse;
using envoy::service::discovery::v3::DiscoveryRequest;
using envoy::service::discovery::v3::DiscoveryResponse;
using testing::FakeTransport;

template <class M>
google::protobuf::Any pack(const std::string& yaml) {
  M message;
  config::ParseReport report;
  absl::Status s = config::parseYaml(yaml, message, report);
  INFO(s.message());
  REQUIRE(s.ok());
  google::protobuf::Any any;
  any.PackFrom(message);
  return any;
}

google::protobuf::Any cluster(const std::string& name, bool eds = false) {
  if (eds) {
    return pack<envoy::config::cluster::v3::Cluster>(
        "name: " + name +
        "\ntype: EDS\neds_cluster_config: {eds_config: "
        "{ads: {}}}\n");
  }
  return pack<envoy::config::cluster::v3::Cluster>(
      "name: " + name + "\ntype: STATIC\nload_assignment:\n  cluster_name: " + name +
      "\n  endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: "
      "127.0.0.1, port_value: 9}}}}]}]\n");
}

google::protobuf::Any endpoints(const std::string& name, int port) {
  return pack<envoy::config::endpoint::v3::ClusterLoadAssignment>(
      "cluster_name: " + name +
      "\nendpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, "
      "port_value: " +
      std::to_string(port) + "}}}}]}]\n");
}

google::protobuf::Any listener(const std::string& name, const std::string& rds, int port = 0) {
  return pack<envoy::config::listener::v3::Listener>(
      "name: " + name +
      "\naddress: {socket_address: {address: 127.0.0.1, port_value: " + std::to_string(port) +
      "}}\nfilter_chains:\n- filters:\n  - name: envoy.filters.network.http_connection_manager\n"
      "    typed_config:\n      \"@type\": type.googleapis.com/"
      "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager\n"
      "      stat_prefix: " +
      name + "\n      rds: {route_config_name: " + rds +
      ", config_source: {ads: {}}}\n      http_filters:\n      - name: envoy.filters.http.router\n"
      "        typed_config: {\"@type\": "
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}\n");
}

google::protobuf::Any routes(const std::string& name, const std::string& cluster_name) {
  return pack<envoy::config::route::v3::RouteConfiguration>(
      "name: " + name +
      "\nvirtual_hosts:\n- name: all\n  domains: ['*']\n  routes:\n  - match: "
      "{prefix: /}\n    route: {cluster: " +
      cluster_name + "}\n");
}

struct Recorder : XdsManager::Callbacks {
  void onSnapshot(config::SnapshotConstSharedPtr s,
                  std::chrono::steady_clock::time_point) override {
    snapshots.push_back(std::move(s));
  }
  void onInitialized() override { ++initialized; }
  std::vector<config::SnapshotConstSharedPtr> snapshots;
  int initialized = 0;
};

struct ManagerTest {
  explicit ManagerTest(bool delta = false, std::chrono::milliseconds eds_timeout = 15s) {
    ApiSource ads;
    ads.delta = delta;
    ads.target = "fake";
    DynamicResources resources;
    resources.ads = ads;
    Source via_ads;
    via_ads.ads = true;
    resources.lds = via_ads;
    resources.cds = via_ads;
    XdsManager::Options options;
    options.transport_factory = [this](const ApiSource&, Service) {
      auto fake = std::make_unique<FakeTransport>();
      transport = fake.get();
      return fake;
    };
    bootstrap.mutable_node()->set_id("node-1");
    (void)eds_timeout;
    manager = std::make_unique<XdsManager>(dispatcher, bootstrap, resources,
                                           std::make_shared<config::Snapshot>(), store, recorder,
                                           options);
    manager->start();
  }

  // Answers with a SotW response and returns the request that followed it (the ACK or NACK).
  const DiscoveryRequest& respond(absl::string_view type, const std::string& version,
                                  std::vector<google::protobuf::Any> resources) {
    auto r = std::make_unique<DiscoveryResponse>();
    r->set_type_url(std::string(type));
    r->set_version_info(version);
    r->set_nonce("n" + std::to_string(++nonce));
    for (auto& a : resources) *r->add_resources() = std::move(a);
    const size_t before = transport->last().sotw.size();
    transport->last().callbacks->onSotwResponse(std::move(r));
    REQUIRE(transport->last().sotw.size() > before);
    // The ACK/NACK of this type is the first request after the response with its nonce.
    for (size_t i = before; i < transport->last().sotw.size(); ++i) {
      if (transport->last().sotw[i].response_nonce() == "n" + std::to_string(nonce)) {
        return transport->last().sotw[i];
      }
    }
    FAIL("no ACK or NACK");
    return transport->last().sotw.back();
  }

  // The names most recently requested for `type`.
  std::vector<std::string> subscribed(absl::string_view type) {
    for (auto it = transport->last().sotw.rbegin(); it != transport->last().sotw.rend(); ++it) {
      if (it->type_url() == type) return {it->resource_names().begin(), it->resource_names().end()};
    }
    return {};
  }

  const config::Snapshot& current() {
    REQUIRE_FALSE(recorder.snapshots.empty());
    return *recorder.snapshots.back();
  }

  event::Dispatcher dispatcher{"test"};
  stats::Store store;
  envoy::config::bootstrap::v3::Bootstrap bootstrap;
  Recorder recorder;
  FakeTransport* transport = nullptr;
  std::unique_ptr<XdsManager> manager;
  int nonce = 0;
};

TEST_CASE("xds manager: a listener warms until its route configuration arrives", "[xds]") {
  ManagerTest t;
  t.respond(kClusterType, "1", {cluster("backend")});
  CHECK(t.recorder.initialized == 0);  // LDS has not answered yet.
  const auto& ack = t.respond(kListenerType, "1", {listener("l1", "r1")});
  CHECK_FALSE(ack.has_error_detail());
  CHECK(t.current().findListener("l1") == nullptr);
  CHECK(t.subscribed(kRouteConfigurationType) == std::vector<std::string>{"r1"});
  CHECK(t.recorder.initialized == 0);
  CHECK(t.manager->state().warming_listeners.size() == 1);

  t.respond(kRouteConfigurationType, "1", {routes("r1", "backend")});
  CHECK(t.current().findListener("l1") != nullptr);
  CHECK(t.current().findRoutes("r1") != nullptr);
  CHECK(t.recorder.initialized == 1);
  CHECK(t.manager->state().active_listeners.size() == 1);
}

TEST_CASE("xds manager: an EDS cluster is used only once its endpoints arrived", "[xds]") {
  ManagerTest t;
  t.respond(kClusterType, "1", {cluster("svc", true)});
  CHECK(t.subscribed(kClusterLoadAssignmentType) == std::vector<std::string>{"svc"});
  CHECK((t.recorder.snapshots.empty() || t.current().findCluster("svc") == nullptr));
  t.respond(kListenerType, "1", {});
  CHECK(t.recorder.initialized == 0);  // The cluster is still warming.
  t.respond(kClusterLoadAssignmentType, "1", {endpoints("svc", 8081)});
  const upstream::Cluster* svc = t.current().findCluster("svc");
  REQUIRE(svc != nullptr);
  REQUIRE(svc->host_set->hosts.size() == 1);
  CHECK(svc->host_set->hosts[0].address.port() == 8081);
  CHECK(t.recorder.initialized == 1);
}

TEST_CASE("xds manager: a full CDS response removes absent clusters and keeps unchanged ones",
          "[xds]") {
  ManagerTest t;
  t.respond(kClusterType, "1", {cluster("a"), cluster("b")});
  const upstream::Cluster* a1 = t.current().findCluster("a");
  REQUIRE(a1 != nullptr);
  REQUIRE(t.current().findCluster("b") != nullptr);
  t.respond(kClusterType, "2", {cluster("a"), cluster("c")});
  CHECK(t.current().findCluster("b") == nullptr);
  CHECK(t.current().findCluster("c") != nullptr);
  CHECK(t.current().findCluster("a") == a1);  // Same object: unchanged parts are reused.
  CHECK(t.manager->state().cds_version_info == "2");
}

TEST_CASE("xds manager: a bad resource rejects the update and keeps the last good config",
          "[xds]") {
  ManagerTest t;
  t.respond(kClusterType, "1", {cluster("a")});
  const size_t snapshots = t.recorder.snapshots.size();
  auto bad =
      pack<envoy::config::cluster::v3::Cluster>("name: bad\ntype: STATIC\nconnect_timeout: 0s\n");
  const auto& nack = t.respond(kClusterType, "2", {cluster("c"), bad});
  REQUIRE(nack.has_error_detail());
  CHECK_THAT(nack.error_detail().message(),
             Catch::Contains("Cluster 'bad': connect_timeout: must be greater than 0s"));
  CHECK(nack.version_info() == "1");
  CHECK(t.recorder.snapshots.size() == snapshots);
  CHECK(t.current().findCluster("a") != nullptr);
  CHECK(t.current().findCluster("c") == nullptr);
  auto state = t.manager->state();
  REQUIRE(state.cluster_errors.size() == 1);
  CHECK(state.cluster_errors[0].name == "bad");
  CHECK(state.cluster_errors[0].version_info == "2");
  CHECK(state.cds_version_info == "1");
}

TEST_CASE("xds manager: routes are not removed by a SotW RDS response that lacks them", "[xds]") {
  ManagerTest t;
  t.respond(kClusterType, "1", {cluster("a")});
  t.respond(kListenerType, "1", {listener("l1", "r1"), listener("l2", "r2")});
  t.respond(kRouteConfigurationType, "1", {routes("r1", "a"), routes("r2", "a")});
  REQUIRE(t.current().findRoutes("r2") != nullptr);
  t.respond(kRouteConfigurationType, "2", {routes("r1", "b")});
  CHECK(t.current().findRoutes("r2") != nullptr);
  // Once no listener refers to it, it is unsubscribed and dropped.
  t.respond(kListenerType, "2", {listener("l1", "r1")});
  CHECK(t.current().findRoutes("r2") == nullptr);
  CHECK(t.subscribed(kRouteConfigurationType) == std::vector<std::string>{"r1"});
  CHECK(t.current().findListener("l2") == nullptr);
  auto state = t.manager->state();
  REQUIRE(state.draining_listeners.size() == 1);
  CHECK(state.draining_listeners[0].name == "l2");
}

TEST_CASE("xds manager: a changed listener replaces the active one and the old one drains",
          "[xds]") {
  ManagerTest t;
  t.respond(kClusterType, "1", {cluster("a")});
  t.respond(kListenerType, "1", {listener("l1", "r1")});
  t.respond(kRouteConfigurationType, "1", {routes("r1", "a")});
  const config::ListenerConfig* first = t.current().findListener("l1");
  REQUIRE(first != nullptr);
  // The new version needs a route configuration not received yet: it warms, the old one serves.
  t.respond(kListenerType, "2", {listener("l1", "r9")});
  CHECK(t.current().findListener("l1") == first);
  t.respond(kRouteConfigurationType, "2", {routes("r9", "a")});
  const config::ListenerConfig* second = t.current().findListener("l1");
  REQUIRE(second != nullptr);
  CHECK(second != first);
  CHECK(t.manager->state().draining_listeners.size() == 1);
}

TEST_CASE("xds manager: two listeners on one address are rejected naming both", "[xds]") {
  ManagerTest t;
  t.respond(kClusterType, "1", {});
  const auto& nack =
      t.respond(kListenerType, "1", {listener("l1", "r1", 18080), listener("l2", "r1", 18080)});
  REQUIRE(nack.has_error_detail());
  CHECK_THAT(nack.error_detail().message(),
             Catch::Contains("Listener 'l2': address: 127.0.0.1:18080 is already used by "
                             "listener 'l1'"));
}

TEST_CASE("xds manager: delta removals remove listeners and clusters", "[xds]") {
  ManagerTest t(true);
  auto respond = [&](absl::string_view type,
                     std::vector<std::pair<std::string, google::protobuf::Any>> add,
                     std::vector<std::string> removed) {
    auto r = std::make_unique<DeltaDiscoveryResponse>();
    r->set_type_url(std::string(type));
    r->set_nonce("d" + std::to_string(++t.nonce));
    for (auto& [name, any] : add) {
      auto* res = r->add_resources();
      res->set_name(name);
      res->set_version("v" + std::to_string(t.nonce));
      *res->mutable_resource() = any;
    }
    for (auto& n : removed) r->add_removed_resources(n);
    t.transport->last().callbacks->onDeltaResponse(std::move(r));
    const auto& ack = t.transport->last().delta.back();
    CHECK_FALSE(ack.has_error_detail());
  };
  respond(kClusterType, {{"a", cluster("a")}, {"b", cluster("b")}}, {});
  respond(kListenerType, {}, {});
  CHECK(t.recorder.initialized == 1);
  REQUIRE(t.current().findCluster("b") != nullptr);
  // A delta update that only adds does not remove what it leaves out.
  respond(kClusterType, {{"c", cluster("c")}}, {});
  CHECK(t.current().findCluster("a") != nullptr);
  respond(kClusterType, {}, {"b"});
  CHECK(t.current().findCluster("b") == nullptr);
  CHECK(t.current().findCluster("a") != nullptr);
  auto state = t.manager->state();
  REQUIRE(state.active_clusters.size() == 2);
  CHECK(state.active_clusters[0].version_info == "v1");
}

}  // namespace
}  // namespace remora::xds
