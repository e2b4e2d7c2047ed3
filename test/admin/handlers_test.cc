// Specifies the default admin endpoints' bodies against a FakeAdminContext, over real HTTP.
#include <catch2/catch.hpp>

#include "envoy/admin/v3/clusters.pb.h"
#include "google/protobuf/util/json_util.h"
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
        "  /clusters: upstream cluster status\n"
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

TEST_CASE("/stats shows histograms after counters and gauges in every format", "[admin]") {
  AdminTestServer admin;
  admin.ctx().store().counter("server.count").inc(2);
  admin.ctx().store().histogram("xds.apply_ms").record(12);
  CHECK(admin.request("GET", "/stats").body ==
        "server.count: 2\n"
        "xds.apply_ms: P0(12,12) P25(12,12) P50(12,12) P75(12,12) P90(12,12) P95(12,12) "
        "P99(12,12) P99.5(12,12) P99.9(12,12) P100(12,12)\n");
  CHECK_THAT(admin.request("GET", "/stats?format=json").body,
             Catch::Contains(R"({"histograms":{"supported_quantiles":)"));
  const std::string prometheus = admin.request("GET", "/stats/prometheus").body;
  CHECK_THAT(prometheus, Catch::Contains("# TYPE envoy_xds_apply_ms histogram\n"));
  CHECK_THAT(prometheus, Catch::Contains("envoy_xds_apply_ms_bucket{le=\"25\"} 1\n"));
  CHECK_THAT(prometheus, Catch::Contains("envoy_xds_apply_ms_sum{} 12\n"));
}

TEST_CASE("/stats?type=Histograms shows only histograms", "[admin]") {
  AdminTestServer admin;
  admin.ctx().store().counter("server.count").inc(2);
  admin.ctx().store().histogram("xds.apply_ms");
  CHECK(admin.request("GET", "/stats?type=Histograms").body ==
        "xds.apply_ms: No recorded values\n");
  CHECK(admin.request("GET", "/stats?type=Histograms&usedonly").body.empty());
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

TEST_CASE("/config_dump?include_eds asks the context for endpoints too", "[admin]") {
  AdminTestServer admin;
  CHECK(admin.request("GET", "/config_dump?include_eds").body ==
        R"({"configs":[],"include_eds":true})");
}

ClusterHostInfo hostInfo(std::string address, uint32_t weight, std::string eds = "HEALTHY") {
  ClusterHostInfo h;
  h.address = std::move(address);
  h.weight = weight;
  h.eds_health_status = std::move(eds);
  return h;
}

std::vector<ClusterInfo> sampleClusters() {
  ClusterHostInfo checked = hostInfo("/run/api.sock", 1, "DEGRADED");
  checked.failed_active_health_check = true;
  checked.failed_outlier_check = true;
  checked.priority = 1;
  checked.region = "eu";
  checked.zone = "eu-1a";
  return {{"static_backend", false, {hostInfo("127.0.0.1:8080", 1), hostInfo("[::1]:9090", 3)}},
          {"xds_api", true, {hostInfo("10.0.0.7:443", 5, "UNHEALTHY"), checked}},
          {"empty", true, {}}};
}

std::string hostLines(const std::string& prefix, const std::string& flags, uint32_t weight,
                      const std::string& zone_lines, uint32_t priority) {
  return prefix + "::health_flags::" + flags + "\n" + prefix +
         "::weight::" + std::to_string(weight) + "\n" + zone_lines + prefix +
         "::priority::" + std::to_string(priority) + "\n";
}

std::string noZone(const std::string& prefix) {
  return prefix + "::region::\n" + prefix + "::zone::\n" + prefix + "::sub_zone::\n";
}

TEST_CASE("/clusters lists added_via_api per cluster and health and weight per host", "[admin]") {
  AdminTestServer admin;
  admin.ctx().setClusters(sampleClusters());
  const auto r = admin.request("GET", "/clusters");
  CHECK(r.status == 200);
  CHECK(r.header("Content-Type") == kTextContentType);
  const std::string a = "static_backend::127.0.0.1:8080", b = "static_backend::[::1]:9090",
                    c = "xds_api::10.0.0.7:443", d = "xds_api::/run/api.sock";
  CHECK(r.body ==
        "static_backend::added_via_api::false\n" + hostLines(a, "healthy", 1, noZone(a), 0) +
            hostLines(b, "healthy", 3, noZone(b), 0) + "xds_api::added_via_api::true\n" +
            hostLines(c, "/failed_eds_health", 5, noZone(c), 0) +
            hostLines(d, "/failed_active_hc/failed_outlier_check/degraded_eds_health", 1,
                      d + "::region::eu\n" + d + "::zone::eu-1a\n" + d + "::sub_zone::\n", 1) +
            "empty::added_via_api::true\n");
}

TEST_CASE("/clusters names draining and timed-out hosts with Envoy's flags", "[admin]") {
  AdminTestServer admin;
  admin.ctx().setClusters(
      {{"c",
        false,
        {hostInfo("10.0.0.1:80", 1, "DRAINING"), hostInfo("10.0.0.2:80", 1, "TIMEOUT")}}});
  const auto body = admin.request("GET", "/clusters").body;
  CHECK_THAT(body, Catch::Contains("c::10.0.0.1:80::health_flags::/eds_status_draining\n"));
  CHECK_THAT(body, Catch::Contains("c::10.0.0.2:80::health_flags::/failed_eds_health\n"));
}

TEST_CASE("/clusters?format=json is envoy.admin.v3.Clusters", "[admin]") {
  AdminTestServer admin;
  admin.ctx().setClusters(sampleClusters());
  const auto r = admin.request("GET", "/clusters?format=json");
  CHECK(r.header("Content-Type") == kJsonContentType);
  CHECK(r.body == R"({"cluster_statuses":[)"
                  R"({"name":"static_backend","host_statuses":[)"
                  R"({"address":{"socket_address":{"address":"127.0.0.1","port_value":8080}},)"
                  R"("health_status":{"eds_health_status":"HEALTHY"},"weight":1},)"
                  R"({"address":{"socket_address":{"address":"::1","port_value":9090}},)"
                  R"("health_status":{"eds_health_status":"HEALTHY"},"weight":3}]},)"
                  R"({"name":"xds_api","added_via_api":true,"host_statuses":[)"
                  R"({"address":{"socket_address":{"address":"10.0.0.7","port_value":443}},)"
                  R"("health_status":{"eds_health_status":"UNHEALTHY"},"weight":5},)"
                  R"({"address":{"pipe":{"path":"/run/api.sock"}},)"
                  R"("health_status":{"eds_health_status":"DEGRADED",)"
                  R"("failed_active_health_check":true,"failed_outlier_check":true},"weight":1,)"
                  R"("locality":{"region":"eu","zone":"eu-1a"},"priority":1}]},)"
                  R"({"name":"empty","added_via_api":true}]})");
  envoy::admin::v3::Clusters parsed;
  REQUIRE(google::protobuf::util::JsonStringToMessage(r.body, &parsed).ok());
  REQUIRE(parsed.cluster_statuses_size() == 3);
  const auto& host = parsed.cluster_statuses(1).host_statuses(0);
  CHECK(host.address().socket_address().address() == "10.0.0.7");
  CHECK(host.address().socket_address().port_value() == 443);
  CHECK(host.health_status().eds_health_status() == envoy::config::core::v3::UNHEALTHY);
  CHECK(host.weight() == 5);
  CHECK(parsed.cluster_statuses(1).added_via_api());
  const auto& checked = parsed.cluster_statuses(1).host_statuses(1);
  CHECK(checked.health_status().failed_active_health_check());
  CHECK(checked.health_status().failed_outlier_check());
  CHECK(checked.locality().zone() == "eu-1a");
  CHECK(checked.priority() == 1);
}

TEST_CASE("/clusters?format=json keeps a host path with a colon as a pipe", "[admin]") {
  AdminTestServer admin;
  admin.ctx().setClusters({{"uds", false, {hostInfo("/run/a:80", 1), hostInfo("@abstract:1", 1)}}});
  const auto r = admin.request("GET", "/clusters?format=json");
  CHECK_THAT(r.body, Catch::Contains(R"({"address":{"pipe":{"path":"/run/a:80"}})"));
  CHECK_THAT(r.body, Catch::Contains(R"({"address":{"pipe":{"path":"@abstract:1"}})"));
}

TEST_CASE("/clusters with no clusters is empty", "[admin]") {
  AdminTestServer admin;
  CHECK(admin.request("GET", "/clusters").body.empty());
  CHECK(admin.request("GET", "/clusters?format=json").body == R"({"cluster_statuses":[]})");
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
