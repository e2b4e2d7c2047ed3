// Specifies the default admin endpoints' bodies against a FakeAdminContext, over real HTTP.
#include <catch2/catch.hpp>

#include "test/admin/admin_test_server.h"

namespace remora::admin {
namespace {

TEST_CASE("/ready is 200 LIVE when the server is live", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("GET", "/ready");
  CHECK(r.status == 200);
  CHECK(r.body == "LIVE\n");
}

TEST_CASE("/ready is 503 with the upper-case state name otherwise", "[admin]") {
  AdminTestServer admin;
  for (const auto& [state, body] : std::vector<std::pair<ServerState, std::string>>{
           {ServerState::kPreInitializing, "PRE_INITIALIZING\n"},
           {ServerState::kInitializing, "INITIALIZING\n"},
           {ServerState::kDraining, "DRAINING\n"}}) {
    admin.ctx().setState(state);
    const auto r = admin.request("GET", "/ready");
    CHECK(r.status == 503);
    CHECK(r.body == body);
  }
}

TEST_CASE("/ and /help list every endpoint sorted by path", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("GET", "/help");
  CHECK(r.status == 200);
  CHECK(r.body ==
        "admin commands are:\n"
        "  /: Admin home page\n"
        "  /config_dump: dump current Envoy configs (experimental)\n"
        "  /help: print out list of admin commands\n"
        "  /listeners: print listener info\n"
        "  /quitquitquit: exit the server\n"
        "  /ready: print server state, return 200 if LIVE, otherwise return 503\n"
        "  /server_info: print server version/status information\n"
        "  /stats: print server stats\n"
        "  /stats/prometheus: print server stats in prometheus format\n");
  CHECK(admin.request("GET", "/").body == r.body);
}

TEST_CASE("/stats is the text format of the store", "[admin]") {
  AdminTestServer admin;
  admin.ctx().store().counter("cluster.backend.upstream_rq_total").inc(4);
  admin.ctx().store().gauge("server.live").set(1);
  admin.ctx().store().counter("http.admin.downstream_rq_total");
  const auto r = admin.request("GET", "/stats");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == kTextContentType);
  CHECK(r.body ==
        "cluster.backend.upstream_rq_total: 4\n"
        "http.admin.downstream_rq_total: 0\n"
        "server.live: 1\n");
}

TEST_CASE("/stats honours usedonly, filter, type and format=json", "[admin]") {
  AdminTestServer admin;
  admin.ctx().store().counter("cluster.backend.upstream_rq_total").inc(4);
  admin.ctx().store().counter("cluster.backend.upstream_rq_timeout");
  admin.ctx().store().gauge("server.live").set(1);
  CHECK(admin.request("GET", "/stats?usedonly").body ==
        "cluster.backend.upstream_rq_total: 4\nserver.live: 1\n");
  CHECK(admin.request("GET", "/stats?filter=timeout").body ==
        "cluster.backend.upstream_rq_timeout: 0\n");
  CHECK(admin.request("GET", "/stats?type=Gauges").body == "server.live: 1\n");
  const auto json = admin.request("GET", "/stats?format=json&filter=%5Eserver");
  CHECK(json.header("Content-Type") == kJsonContentType);
  CHECK(json.body == R"({"stats":[{"name":"server.live","value":1}]})");
}

TEST_CASE("/stats rejects a bad regex, format or type with 400", "[admin]") {
  AdminTestServer admin;
  const auto regex = admin.request("GET", "/stats?filter=(");
  CHECK(regex.status == 400);
  CHECK_THAT(regex.body, Catch::Contains("Invalid re2 regex"));
  CHECK(admin.request("GET", "/stats?format=xml").status == 400);
  CHECK(admin.request("GET", "/stats?type=Histograms2").status == 400);
}

TEST_CASE("/stats/prometheus and /stats?format=prometheus tag cluster stats", "[admin]") {
  AdminTestServer admin;
  admin.ctx().store().counter("cluster.backend.upstream_rq_total").inc(4);
  admin.ctx().store().gauge("server.live").set(1);
  const std::string expected =
      "# TYPE envoy_cluster_upstream_rq_total counter\n"
      "envoy_cluster_upstream_rq_total{envoy_cluster_name=\"backend\"} 4\n"
      "\n"
      "# TYPE envoy_server_live gauge\n"
      "envoy_server_live{} 1\n"
      "\n";
  CHECK(admin.request("GET", "/stats/prometheus").body == expected);
  CHECK(admin.request("GET", "/stats?format=prometheus").body == expected);
  CHECK(admin.request("GET", "/stats/prometheus?filter=server").body ==
        "# TYPE envoy_server_live gauge\nenvoy_server_live{} 1\n\n");
}

TEST_CASE("/server_info is JSON with the state and node", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("GET", "/server_info");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == kJsonContentType);
  CHECK_THAT(r.body, Catch::Contains(R"("state":"LIVE")"));
  CHECK_THAT(r.body, Catch::Contains(R"("node":{"id":"node-1","cluster":"cluster-a"})"));
}

TEST_CASE("/config_dump returns the context's config dump as JSON", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("GET", "/config_dump");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == kJsonContentType);
  CHECK(r.body == R"({"configs":[]})");
}

std::vector<ListenerStatus> sampleListeners() {
  return {{"ingress", "127.0.0.1:15001", 15001, "127.0.0.1"},
          {"v6", "[::1]:8080", 8080, "::1"},
          {"uds", "/tmp/remora.sock", 0, ""}};
}

TEST_CASE("/listeners lists name::address per line", "[admin]") {
  AdminTestServer admin;
  admin.ctx().setListeners(sampleListeners());
  const auto r = admin.request("GET", "/listeners");
  CHECK(r.status == 200);
  CHECK(r.body == "ingress::127.0.0.1:15001\nv6::[::1]:8080\nuds::/tmp/remora.sock\n");
}

TEST_CASE("/listeners?format=json gives listener_statuses with socket or pipe addresses",
          "[admin]") {
  AdminTestServer admin;
  admin.ctx().setListeners(sampleListeners());
  const auto r = admin.request("GET", "/listeners?format=json");
  CHECK(r.header("Content-Type") == kJsonContentType);
  CHECK(
      r.body ==
      R"({"listener_statuses":[)"
      R"({"name":"ingress","local_address":{"socket_address":{"address":"127.0.0.1","port_value":15001}}},)"
      R"({"name":"v6","local_address":{"socket_address":{"address":"::1","port_value":8080}}},)"
      R"({"name":"uds","local_address":{"pipe":{"path":"/tmp/remora.sock"}}}]})");
}

TEST_CASE("/listeners with no listeners is empty", "[admin]") {
  AdminTestServer admin;
  CHECK(admin.request("GET", "/listeners").body.empty());
  CHECK(admin.request("GET", "/listeners?format=json").body == R"({"listener_statuses":[]})");
}

}  // namespace
}  // namespace remora::admin
