// buildHealthCheckConfig(): Envoy's HealthCheck with Envoy's defaults, and refusals that name the
// offending field.
#include <catch2/catch.hpp>

#include "google/protobuf/descriptor.h"
#include "source/config/supported_fields.h"
#include "source/config/yaml_to_proto.h"
#include "source/upstream/health_check_config.h"
#include "test/support/yaml_build.h"

namespace remora::upstream {
namespace {

using std::chrono::milliseconds;

const std::string kPath = "static_resources.clusters[0].health_checks[0]";

absl::StatusOr<HealthCheckConfig> build(const std::string& yaml) {
  return testing::buildFromYaml<envoy::config::core::v3::HealthCheck>(yaml, kPath,
                                                                      buildHealthCheckConfig);
}
HealthCheckConfig valid(const std::string& yaml) { return testing::requireBuilt(build(yaml)); }
std::string errorOf(const std::string& yaml) { return testing::requireRefused(build(yaml)); }

// The required fields, to which each test adds its own.
const std::string kRequired = R"(
timeout: 1s
interval: 5s
unhealthy_threshold: 3
healthy_threshold: 2
)";

TEST_CASE("an HTTP health check takes Envoy's defaults for what it leaves out", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
http_health_check:
  path: /healthz
)");
  CHECK(c.kind == HealthCheckConfig::Kind::kHttp);
  CHECK(c.timeout == milliseconds(1000));
  CHECK(c.interval == milliseconds(5000));
  CHECK(c.unhealthy_threshold == 3);
  CHECK(c.healthy_threshold == 2);
  CHECK(c.initial_jitter == milliseconds(0));
  CHECK(c.interval_jitter == milliseconds(0));
  CHECK(c.interval_jitter_percent == 0);
  CHECK(c.reuse_connection);
  CHECK(c.no_traffic_interval == milliseconds(60000));
  CHECK_FALSE(c.no_traffic_healthy_interval.has_value());
  CHECK(c.unhealthy_interval == milliseconds(5000));
  CHECK(c.unhealthy_edge_interval == milliseconds(5000));
  CHECK(c.healthy_edge_interval == milliseconds(5000));
  CHECK(c.http.path == "/healthz");
  CHECK(c.http.host.empty());
  CHECK(c.http.method == "GET");
  CHECK(c.http.receive.empty());
  CHECK(c.http.expects(200));
  CHECK_FALSE(c.http.expects(201));
  CHECK_FALSE(c.http.expects(204));
  CHECK_FALSE(c.http.retriable(503));
}

TEST_CASE("the unhealthy edge interval defaults to unhealthy_interval", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
unhealthy_interval: 2s
http_health_check: {path: /}
)");
  CHECK(c.unhealthy_interval == milliseconds(2000));
  CHECK(c.unhealthy_edge_interval == milliseconds(2000));
  CHECK(c.healthy_edge_interval == milliseconds(5000));
}

TEST_CASE("every interval and jitter can be set", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
initial_jitter: 0.1s
interval_jitter: 0.2s
interval_jitter_percent: 10
no_traffic_interval: 30s
no_traffic_healthy_interval: 90s
unhealthy_interval: 3s
unhealthy_edge_interval: 4s
healthy_edge_interval: 6s
reuse_connection: false
tcp_health_check: {}
)");
  CHECK(c.initial_jitter == milliseconds(100));
  CHECK(c.interval_jitter == milliseconds(200));
  CHECK(c.interval_jitter_percent == 10);
  CHECK(c.no_traffic_interval == milliseconds(30000));
  CHECK(c.no_traffic_healthy_interval == milliseconds(90000));
  CHECK(c.unhealthy_interval == milliseconds(3000));
  CHECK(c.unhealthy_edge_interval == milliseconds(4000));
  CHECK(c.healthy_edge_interval == milliseconds(6000));
  CHECK_FALSE(c.reuse_connection);
}

TEST_CASE("timeout and interval are required", "[health]") {
  CHECK(errorOf(R"(
interval: 5s
unhealthy_threshold: 3
healthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".timeout: required");
  CHECK(errorOf(R"(
timeout: 1s
unhealthy_threshold: 3
healthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".interval: required");
}

TEST_CASE("timeout and interval must be greater than zero", "[health]") {
  CHECK(errorOf(R"(
timeout: 0s
interval: 5s
unhealthy_threshold: 3
healthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".timeout: must be greater than 0s");
  CHECK(errorOf(R"(
timeout: 1s
interval: -1s
unhealthy_threshold: 3
healthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".interval: must be greater than 0s");
  CHECK(errorOf(R"(
timeout: 1s
interval: 0.0001s
unhealthy_threshold: 3
healthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".interval: must be at least 1ms");
}

TEST_CASE("both thresholds are required and at least one", "[health]") {
  CHECK(errorOf(R"(
timeout: 1s
interval: 5s
healthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".unhealthy_threshold: required");
  CHECK(errorOf(R"(
timeout: 1s
interval: 5s
unhealthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".healthy_threshold: required");
  CHECK(errorOf(R"(
timeout: 1s
interval: 5s
unhealthy_threshold: 0
healthy_threshold: 2
tcp_health_check: {}
)") == kPath + ".unhealthy_threshold: must be at least 1");
}

TEST_CASE("optional intervals must be greater than zero when set", "[health]") {
  CHECK(errorOf(kRequired + R"(
no_traffic_interval: 0s
tcp_health_check: {}
)") == kPath + ".no_traffic_interval: must be greater than 0s");
  CHECK(errorOf(kRequired + R"(
healthy_edge_interval: 0s
tcp_health_check: {}
)") == kPath + ".healthy_edge_interval: must be greater than 0s");
}

TEST_CASE("jitter durations must not be negative", "[health]") {
  CHECK(errorOf(kRequired + R"(
interval_jitter: -0.5s
tcp_health_check: {}
)") == kPath + ".interval_jitter: must not be negative");
  CHECK(errorOf(kRequired + R"(
initial_jitter: -1s
tcp_health_check: {}
)") == kPath + ".initial_jitter: must not be negative");
}

TEST_CASE("a health check must say which kind of check it is", "[health]") {
  CHECK(errorOf(kRequired) == kPath + ": one of http_health_check or tcp_health_check is required");
}

TEST_CASE("gRPC health checks are refused at their path", "[health]") {
  const std::string error = errorOf(kRequired + R"(
grpc_health_check: {service_name: svc}
)");
  CHECK(error.rfind(kPath + ".grpc_health_check: ", 0) == 0);
  CHECK(error.find("not supported") != std::string::npos);
}

TEST_CASE("custom health checks are refused at their path", "[health]") {
  const std::string error = errorOf(kRequired + R"(
custom_health_check: {name: envoy.health_checkers.redis}
)");
  CHECK(error.rfind(kPath + ".custom_health_check: ", 0) == 0);
  CHECK(error.find("not supported") != std::string::npos);
}

TEST_CASE("an HTTP health check needs a path", "[health]") {
  CHECK(errorOf(kRequired + R"(
http_health_check: {host: example.com}
)") == kPath + ".http_health_check.path: required");
}

TEST_CASE("expected_statuses replace the default with half-open ranges", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
http_health_check:
  path: /
  expected_statuses:
  - {start: 200, end: 300}
  - {start: 404, end: 405}
)");
  CHECK(c.http.expects(200));
  CHECK(c.http.expects(299));
  CHECK(c.http.expects(404));
  CHECK_FALSE(c.http.expects(300));
  CHECK_FALSE(c.http.expects(403));
  CHECK_FALSE(c.http.expects(405));
}

TEST_CASE("status ranges outside 100 to 600 or empty are refused with their index", "[health]") {
  CHECK(errorOf(kRequired + R"(
http_health_check:
  path: /
  expected_statuses:
  - {start: 200, end: 300}
  - {start: 500, end: 601}
)") == kPath +
            ".http_health_check.expected_statuses[1].end: must be greater than start (500) and "
            "at most 600 (ranges are half-open)");
  CHECK(errorOf(kRequired + R"(
http_health_check:
  path: /
  expected_statuses: [{start: 99, end: 200}]
)") == kPath + ".http_health_check.expected_statuses[0].start: must be in [100, 600)");
  CHECK(errorOf(kRequired + R"(
http_health_check:
  path: /
  retriable_statuses: [{start: 503, end: 503}]
)")
            .rfind(kPath + ".http_health_check.retriable_statuses[0].end: ", 0) == 0);
}

TEST_CASE("retriable_statuses are kept apart from expected ones", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
http_health_check:
  path: /
  retriable_statuses: [{start: 500, end: 504}]
)");
  CHECK(c.http.retriable(503));
  CHECK_FALSE(c.http.retriable(504));
  CHECK(c.http.expects(200));
  CHECK_FALSE(c.http.expects(503));
}

TEST_CASE("HTTP/2 health checks are refused", "[health]") {
  CHECK(errorOf(kRequired + R"(
http_health_check: {path: /, codec_client_type: HTTP2}
)") == kPath +
            ".http_health_check.codec_client_type: HTTP2 health checks are not supported; "
            "use HTTP1");
}

TEST_CASE("the check's method may be set but never to CONNECT", "[health]") {
  CHECK(valid(kRequired + R"(
http_health_check: {path: /, method: HEAD}
)")
            .http.method == "HEAD");
  CHECK(errorOf(kRequired + R"(
http_health_check: {path: /, method: CONNECT}
)") == kPath + ".http_health_check.method: CONNECT cannot be used for health checks");
}

TEST_CASE("request headers to add are literal with their append action", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
http_health_check:
  path: /
  host: hc.example.com
  request_headers_to_add:
  - header: {key: X-Check, value: "50%% sure"}
  - header: {key: x-only-if-absent, value: "1"}
    append_action: ADD_IF_ABSENT
  request_headers_to_remove: [User-Agent]
)");
  CHECK(c.http.host == "hc.example.com");
  REQUIRE(c.http.request_headers_to_add.size() == 2);
  CHECK(c.http.request_headers_to_add[0].key == "x-check");
  CHECK(c.http.request_headers_to_add[0].value == "50% sure");
  CHECK(c.http.request_headers_to_add[1].action ==
        HttpHealthCheckConfig::HeaderToAdd::Action::kAddIfAbsent);
  CHECK(c.http.request_headers_to_remove == std::vector<std::string>{"user-agent"});
}

TEST_CASE("request headers may not hold formatters nor touch Host or pseudo-headers", "[health]") {
  CHECK(errorOf(kRequired + R"(
http_health_check:
  path: /
  request_headers_to_add: [{header: {key: x-node, value: "%HOSTNAME%"}}]
)")
            .rfind(kPath + ".http_health_check.request_headers_to_add[0].header.value: ", 0) == 0);
  CHECK(errorOf(kRequired + R"(
http_health_check:
  path: /
  request_headers_to_add: [{header: {key: ":path", value: /x}}]
)") == kPath +
            ".http_health_check.request_headers_to_add[0].header.key: ':path' cannot be "
            "changed by a health check");
  CHECK(errorOf(kRequired + R"(
http_health_check:
  path: /
  request_headers_to_remove: [Host]
)") == kPath +
            ".http_health_check.request_headers_to_remove[0]: 'Host' cannot be changed by a "
            "health check");
}

TEST_CASE("HTTP receive blocks and the response buffer size are kept", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
http_health_check:
  path: /
  receive: [{text: "6f6b"}]
  response_buffer_size: 0
)");
  CHECK(c.http.receive == std::vector<std::string>{"ok"});
  CHECK(c.http.response_buffer_size == 0);
}

TEST_CASE("a TCP health check without payloads is connect-only", "[health]") {
  const HealthCheckConfig c = valid(kRequired + "tcp_health_check: {}\n");
  CHECK(c.kind == HealthCheckConfig::Kind::kTcp);
  CHECK(c.tcp.send.empty());
  CHECK(c.tcp.receive.empty());
}

TEST_CASE("TCP payloads are hex text or binary", "[health]") {
  const HealthCheckConfig c = valid(kRequired + R"(
tcp_health_check:
  send: {text: "50494e47"}
  receive: [{text: "504F"}, {binary: "Tkc="}]
)");
  CHECK(c.tcp.send == "PING");
  CHECK(c.tcp.receive == std::vector<std::string>{"PO", "NG"});
}

TEST_CASE("TCP payload text must be an even number of hex digits", "[health]") {
  CHECK(errorOf(kRequired + R"(
tcp_health_check: {send: {text: "zz"}}
)") == kPath + ".tcp_health_check.send.text: 'z' is not a hex digit");
  CHECK(errorOf(kRequired + R"(
tcp_health_check: {receive: [{text: "00"}, {text: "abc"}]}
)") == kPath +
            ".tcp_health_check.receive[1].text: hex payload must have an even number of "
            "digits");
  CHECK(errorOf(kRequired + R"(
tcp_health_check: {receive: [{}]}
)") == kPath + ".tcp_health_check.receive[0]: text or binary is required");
}

TEST_CASE("the health check fields Remora supports are fields of the API", "[health]") {
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  int checked = 0;
  for (const std::string& field : config::supportedFields()) {
    if (field.rfind("envoy.config.core.v3.HealthCheck.", 0) != 0) continue;
    INFO(field);
    CHECK(pool->FindFieldByName(field) != nullptr);
    ++checked;
  }
  CHECK(checked == 29);
}

TEST_CASE("only the health check settings Remora ignores are reported as unsupported", "[health]") {
  envoy::config::core::v3::HealthCheck proto;
  config::ParseReport report;
  REQUIRE(config::parseYaml(kRequired + R"(
initial_jitter: 1s
interval_jitter: 1s
interval_jitter_percent: 5
reuse_connection: true
no_traffic_interval: 10s
no_traffic_healthy_interval: 20s
unhealthy_interval: 1s
unhealthy_edge_interval: 1s
healthy_edge_interval: 1s
always_log_health_check_failures: true
http_health_check:
  host: a
  path: /
  method: GET
  codec_client_type: HTTP1
  receive: [{text: "00"}, {binary: "AA=="}]
  response_buffer_size: 10
  request_headers_to_add: [{header: {key: x, value: y}, append_action: ADD_IF_ABSENT}]
  request_headers_to_remove: [z]
  expected_statuses: [{start: 200, end: 300}]
  retriable_statuses: [{start: 503, end: 504}]
)",
                            proto, report)
              .ok());
  config::reportUnsupportedFields(proto, config::supportedFields(), report, "hc");
  CHECK(report.warnings ==
        std::vector<std::string>{
            "hc.always_log_health_check_failures: field not supported by Remora, ignored"});
}

}  // namespace
}  // namespace remora::upstream
