// Specification of reportUnsupportedFields(): every set field Remora does not act on is named in
// a warning, and left in place for the config dump.
#include <catch2/catch.hpp>

#include "google/protobuf/api.pb.h"
#include "source/config/yaml_to_proto.h"
#include "test/config/test_config_types.h"

namespace remora::config {
namespace {

using test::TestTypes;

std::unique_ptr<google::protobuf::Message> config(const std::string& yaml) {
  auto msg = TestTypes::get().newConfig();
  ParseReport report;
  const absl::Status s = parseYaml(yaml, *msg, report);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return msg;
}

std::vector<std::string> warningsFor(const google::protobuf::Message& msg,
                                     const absl::flat_hash_set<std::string>& supported,
                                     const std::string& prefix = "") {
  ParseReport report;
  reportUnsupportedFields(msg, supported, report, prefix);
  return report.warnings;
}

TEST_CASE("a set field outside the supported set is reported and kept", "[config]") {
  auto msg = config("name: a\nconnect_timeout_ms: 5\n");
  CHECK(warningsFor(*msg, {"remora.test.Config.name"}) ==
        std::vector<std::string>{"connect_timeout_ms: field not supported by Remora, ignored"});
  CHECK(msg->ShortDebugString() == "name: \"a\" connect_timeout_ms: 5");
}

TEST_CASE("unset fields are not reported", "[config]") {
  auto msg = config("name: a\n");
  CHECK(warningsFor(*msg, {"remora.test.Config.name"}).empty());
}

TEST_CASE("supported message fields, lists and maps are looked into", "[config]") {
  auto msg = config(
      "scalars: {u32: 1, b: true}\n"
      "endpoints: [{host: a}, {host: b, port_value: 2}]\n"
      "named: {z: {port_value: 3}, a: {host: x, port_value: 4}}\n");
  CHECK(warningsFor(*msg, {"remora.test.Config.scalars", "remora.test.Scalars.u32",
                           "remora.test.Config.endpoints", "remora.test.Endpoint.host",
                           "remora.test.Config.named"}) ==
        std::vector<std::string>{
            "scalars.b: field not supported by Remora, ignored",
            "endpoints[1].port_value: field not supported by Remora, ignored",
            "named[\"a\"].port_value: field not supported by Remora, ignored",
            "named[\"z\"].port_value: field not supported by Remora, ignored",
        });
}

TEST_CASE("an unsupported message field is reported once, not looked into", "[config]") {
  auto msg = config("scalars: {u32: 1, b: true}\n");
  CHECK(warningsFor(*msg, {}) ==
        std::vector<std::string>{"scalars: field not supported by Remora, ignored"});
}

TEST_CASE("Any payloads of a supported field are looked into", "[config]") {
  auto msg = config(
      "typed_config: {'@type': type.googleapis.com/google.protobuf.Api, name: x, version: v1}\n");
  CHECK(warningsFor(*msg, {"remora.test.Config.typed_config", "google.protobuf.Api.name"}) ==
        std::vector<std::string>{"typed_config.version: field not supported by Remora, ignored"});
}

TEST_CASE("well-known value types are not looked into", "[config]") {
  auto msg = config("timeout: 1s\nmetadata: {a: 1}\nmax_requests: 3\n");
  CHECK(warningsFor(*msg, {"remora.test.Config.timeout", "remora.test.Config.metadata",
                           "remora.test.Config.max_requests"})
            .empty());
}

TEST_CASE("fields unknown to our protos, kept from the wire, are reported", "[config]") {
  auto msg = config("scalars: {u32: 1}\n");
  auto& scalars = TestTypes::mutableSubMessage(*msg, "scalars");
  scalars.GetReflection()->MutableUnknownFields(&scalars)->AddVarint(99, 1);
  scalars.GetReflection()->MutableUnknownFields(&scalars)->AddVarint(42, 1);
  CHECK(warningsFor(*msg, {"remora.test.Config.scalars", "remora.test.Scalars.u32"}) ==
        std::vector<std::string>{
            "scalars: unknown field number(s) 42, 99 ignored (not in Remora's API subset)"});
}

TEST_CASE("the path prefix is prepended to reported paths", "[config]") {
  auto msg = config("name: a\n");
  CHECK(warningsFor(*msg, {}, "resources[0]") ==
        std::vector<std::string>{"resources[0].name: field not supported by Remora, ignored"});
}

}  // namespace
}  // namespace remora::config
