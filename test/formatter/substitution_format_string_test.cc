// Specification of compileSubstitutionFormatString(): the text or JSON form of an access log's
// log_format, omit_empty_values, and errors naming the field.
#include "source/formatter/substitution_format_string.h"

#include <stdlib.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <string>

#include "source/config/yaml_to_proto.h"
#include "test/formatter/stream_info_fixture.h"

namespace remora::formatter {
namespace {

using envoy::config::core::v3::SubstitutionFormatString;
using test::Request;

absl::StatusOr<FormatterConstPtr> compileYaml(const std::string& yaml) {
  SubstitutionFormatString config;
  config::ParseReport report;
  absl::Status status = config::parseYaml(yaml, config, report);
  INFO(status.ToString());
  REQUIRE(status.ok());
  return compileSubstitutionFormatString(config, "log_format");
}

std::string formatYaml(const std::string& yaml, const http::StreamInfo& info) {
  auto f = compileYaml(yaml);
  INFO(f.status().ToString());
  REQUIRE(f.ok());
  std::string out;
  (*f)->format(info, out);
  return out;
}

std::string errorOf(const std::string& yaml) {
  auto f = compileYaml(yaml);
  REQUIRE_FALSE(f.ok());
  return std::string(f.status().message());
}

TEST_CASE("text_format_source inline_string is a text format", "[formatter]") {
  Request r;
  CHECK(formatYaml("text_format_source: {inline_string: \"%RESPONSE_CODE% %REQ(X-NONE)%\\n\"}",
                   r.info) == "204 -\n");
}

TEST_CASE("text_format_source inline_bytes is a text format", "[formatter]") {
  Request r;
  // "%PROTOCOL%" in base64, as protobuf's JSON mapping gives bytes.
  CHECK(formatYaml("text_format_source: {inline_bytes: JVBST1RPQ09MJQ==}", r.info) == "HTTP/2");
}

TEST_CASE("text_format_source filename reads the format at config time", "[formatter]") {
  char path[] = "/tmp/remora-format-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << "%ROUTE_NAME%";
  Request r;
  CHECK(formatYaml(std::string("text_format_source: {filename: ") + path + "}", r.info) ==
        "locations_route");
  std::remove(path);
}

TEST_CASE("text_format_source environment_variable reads the format at config time",
          "[formatter]") {
  setenv("REMORA_TEST_LOG_FORMAT", "%UPSTREAM_CLUSTER%", 1);
  Request r;
  CHECK(formatYaml("text_format_source: {environment_variable: REMORA_TEST_LOG_FORMAT}", r.info) ==
        "locations_cluster");
}

TEST_CASE("json_format is a JSON format", "[formatter]") {
  Request r;
  CHECK(formatYaml("json_format: {code: '%RESPONSE_CODE%'}", r.info) == "{\"code\":204}\n");
}

TEST_CASE("omit_empty_values applies to text formats", "[formatter]") {
  Request r;
  CHECK(formatYaml("text_format_source: {inline_string: '[%REQ(X-NONE)%]'}\nomit_empty_values: "
                   "true",
                   r.info) == "[]");
}

TEST_CASE("omit_empty_values applies to JSON formats", "[formatter]") {
  Request r;
  CHECK(formatYaml("json_format: {a: '%REQ(X-NONE)%', b: '%PROTOCOL%'}\nomit_empty_values: true",
                   r.info) == "{\"b\":\"HTTP/2\"}\n");
}

TEST_CASE("a bad text format names the inline_string field", "[formatter]") {
  CHECK(errorOf("text_format_source: {inline_string: '%NOPE%'}") ==
        "log_format.text_format_source.inline_string: unknown command operator %NOPE%");
}

TEST_CASE("a bad JSON format names the key", "[formatter]") {
  CHECK(errorOf("json_format: {a: {b: '%NOPE%'}}") ==
        "log_format.json_format[\"a\"][\"b\"]: unknown command operator %NOPE%");
}

TEST_CASE("a missing format file is an error naming the filename field", "[formatter]") {
  CHECK(errorOf("text_format_source: {filename: /nonexistent/format}") ==
        "log_format.text_format_source.filename: cannot read '/nonexistent/format'");
}

TEST_CASE("a log_format without a format is an error", "[formatter]") {
  CHECK(errorOf("omit_empty_values: true") ==
        "log_format: one of text_format_source or json_format is required");
}

TEST_CASE("formatter extensions are rejected", "[formatter]") {
  CHECK(errorOf("text_format_source: {inline_string: x}\nformatters: [{name: "
                "envoy.formatter.req_without_query}]") ==
        "log_format.formatters: formatter extensions are not supported by Remora");
}

}  // namespace
}  // namespace remora::formatter
