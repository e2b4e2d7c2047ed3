// Specification of json_format: sorted keys, one object per line, Envoy's typed values for single
// operators, nulls and omit_empty_values, nesting, literal values and escaping.
#include <catch2/catch.hpp>
#include <string>

#include "envoy/config/core/v3/substitution_format_string.pb.h"
#include "source/config/yaml_to_proto.h"
#include "source/formatter/formatter.h"
#include "source/formatter/substitution_format_string.h"
#include "test/formatter/stream_info_fixture.h"

namespace remora::formatter {
namespace {

using envoy::config::core::v3::SubstitutionFormatString;
using test::Request;

// The json_format mapping given as YAML.
google::protobuf::Struct structOf(const std::string& yaml) {
  SubstitutionFormatString config;
  config::ParseReport report;
  absl::Status status = config::parseYaml("json_format:\n" + yaml, config, report);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return config.json_format();
}

std::string formatJson(const std::string& yaml, const http::StreamInfo& info,
                       FormatOptions options = {}) {
  auto f = compileJson(structOf(yaml), options, "");
  INFO(f.status().ToString());
  REQUIRE(f.ok());
  std::string out;
  (*f)->format(info, out);
  return out;
}

TEST_CASE("json_format prints one object per line with keys sorted", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  protocol: '%PROTOCOL%'\n  code: '%RESPONSE_CODE%'\n  method: "
                   "'%REQ(:METHOD)%'\n",
                   r.info) == "{\"code\":204,\"method\":\"POST\",\"protocol\":\"HTTP/2\"}\n");
}

TEST_CASE("json_format compiled without options matches the options form", "[formatter][json]") {
  Request r;
  auto f = compileJson(structOf("  a: '%BYTES_RECEIVED%'\n"));
  REQUIRE(f.ok());
  std::string out;
  (*f)->format(r.info, out);
  CHECK(out == "{\"a\":154}\n");
}

TEST_CASE("numeric operators are JSON numbers when they are the whole value", "[formatter][json]") {
  Request r;
  r.info.attempt_count = 2;
  CHECK(formatJson("  code: '%RESPONSE_CODE%'\n  rx: '%BYTES_RECEIVED%'\n  tx: '%BYTES_SENT%'\n"
                   "  duration: '%DURATION%'\n  req: '%REQUEST_DURATION%'\n"
                   "  resp: '%RESPONSE_DURATION%'\n  resp_tx: '%RESPONSE_TX_DURATION%'\n"
                   "  attempts: '%UPSTREAM_REQUEST_ATTEMPT_COUNT%'\n"
                   "  port: '%DOWNSTREAM_LOCAL_PORT%'\n",
                   r.info) ==
        "{\"attempts\":2,\"code\":204,\"duration\":226,\"port\":10000,\"req\":12,\"resp\":200,"
        "\"resp_tx\":26,\"rx\":154,\"tx\":0}\n");
}

TEST_CASE("string operators are JSON strings even when they look numeric", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  svc: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%'\n  host: '%UPSTREAM_HOST%'\n",
                   r.info) == "{\"host\":\"10.0.2.1:80\",\"svc\":\"100\"}\n");
}

TEST_CASE("a missing value that is the whole value is JSON null", "[formatter][json]") {
  Request r;
  r.info.last_downstream_tx_byte.reset();
  CHECK(formatJson("  duration: '%DURATION%'\n  ua: '%REQ(X-NONE)%'\n", r.info) ==
        "{\"duration\":null,\"ua\":null}\n");
}

TEST_CASE("RESPONSE_FLAGS without flags is a dash rather than null as in Envoy",
          "[formatter][json]") {
  Request r;
  CHECK(formatJson("  flags: '%RESPONSE_FLAGS%'\n", r.info) == "{\"flags\":\"-\"}\n");
  r.info.setFlag(http::kNoRouteFound);
  CHECK(formatJson("  flags: '%RESPONSE_FLAGS%'\n", r.info) == "{\"flags\":\"NR\"}\n");
}

TEST_CASE("values mixing text and operators are strings with a dash for missing parts",
          "[formatter][json]") {
  Request r;
  CHECK(formatJson("  line: '%REQ(:METHOD)% %REQ(:PATH)% %REQ(X-NONE)% code=%RESPONSE_CODE%'\n",
                   r.info) == "{\"line\":\"POST /api/v1/locations - code=204\"}\n");
}

TEST_CASE("values without operators are constant strings", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  app: 'remora'\n  pct: '100%%'\n  empty: ''\n", r.info) ==
        "{\"app\":\"remora\",\"empty\":\"\",\"pct\":\"100%\"}\n");
}

TEST_CASE("strings are escaped so every line is valid JSON", "[formatter][json]") {
  Request r;
  r.request_headers.add("user-agent-2", "a \"quoted\" \\ back\nslash\t\x01");
  r.request_headers.add("x-bytes", std::string("ok\xff\xfe") + "\xc3\xa9");
  CHECK(
      formatJson("  ua: '%REQ(USER-AGENT-2)%'\n  b: '%REQ(X-BYTES)%'\n", r.info) ==
      "{\"b\":\"ok\\ufffd\\ufffd\xc3\xa9\",\"ua\":\"a \\\"quoted\\\" \\\\ back\\nslash\\t\\u0001\"}"
      "\n");
}

TEST_CASE("keys are escaped too", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  'we\"ird': '%PROTOCOL%'\n", r.info) == "{\"we\\\"ird\":\"HTTP/2\"}\n");
}

TEST_CASE("nested structs become nested objects with sorted keys", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  upstream:\n    host: '%UPSTREAM_HOST%'\n    cluster: '%UPSTREAM_CLUSTER%'\n"
                   "  code: '%RESPONSE_CODE%'\n",
                   r.info) ==
        "{\"code\":204,\"upstream\":{\"cluster\":\"locations_cluster\",\"host\":\"10.0.2.1:80\"}}"
        "\n");
}

TEST_CASE("numbers booleans nulls and lists in the format are copied as JSON",
          "[formatter][json]") {
  Request r;
  CHECK(formatJson("  n: 42\n  f: 1.5\n  t: true\n  z: null\n  l: ['%RESPONSE_CODE%', 'x', "
                   "'%REQ(X-NONE)%']\n",
                   r.info) ==
        "{\"f\":1.5,\"l\":[204,\"x\",null],\"n\":42,\"t\":true,\"z\":null}\n");
}

TEST_CASE("truncation applies to JSON values", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  id: '%REQ(X-REQUEST-ID):8%'\n", r.info) == "{\"id\":\"cc21d9b0\"}\n");
}

TEST_CASE("START_TIME is a JSON string", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  t: '%START_TIME%'\n  s: '%START_TIME(%s)%'\n", r.info) ==
        "{\"s\":\"1460751420\",\"t\":\"2016-04-15T20:17:00.310Z\"}\n");
}

TEST_CASE("omit_empty_values leaves out keys whose value is missing", "[formatter][json]") {
  Request r;
  r.info.upstream_host.reset();
  CHECK(formatJson(
            "  a: '%UPSTREAM_HOST%'\n  b: '%RESPONSE_CODE%'\n  c: '%REQ(X-NONE)%'\n"
            "  d:\n    e: '%ROUTE_NAME%'\n    f: '%UPSTREAM_HOST%'\n  g: 'x %REQ(X-NONE)%'\n",
            r.info,
            FormatOptions{true}) == "{\"b\":204,\"d\":{\"e\":\"locations_route\"},\"g\":\"x \"}\n");
}

TEST_CASE("omit_empty_values can leave an object empty", "[formatter][json]") {
  Request r;
  CHECK(formatJson("  a: '%REQ(X-NONE)%'\n", r.info, FormatOptions{true}) == "{}\n");
}

TEST_CASE("a bad operator in json_format names its key path", "[formatter][json]") {
  auto f = compileJson(structOf("  outer:\n    inner: 'x %FOO%'\n"), FormatOptions{},
                       "access_log[0].typed_config.log_format.json_format");
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().message() ==
        "access_log[0].typed_config.log_format.json_format[\"outer\"][\"inner\"]: unknown command "
        "operator %FOO%");
}

TEST_CASE("a bad operator in a json_format list names its index", "[formatter][json]") {
  auto f = compileJson(structOf("  l: ['ok', '%REQ%']\n"));
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().message() == "[\"l\"][1]: %REQ% needs a header name, e.g. %REQ(x-request-id)%");
}

}  // namespace
}  // namespace remora::formatter
