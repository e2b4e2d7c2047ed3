// Specification of parseYaml(): protobuf's JSON mapping over YAML, with exact field paths in
// errors. Uses a message type built at test time so it does not depend on proto/.
#include "source/config/yaml_to_proto.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/api.pb.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/wrappers.pb.h"
#include "test/config/test_config_types.h"

namespace remora::config {
namespace {

using google::protobuf::Message;
using test::TestTypes;

// Parses into a fresh remora.test.Config; returns the status, keeps the message and warnings.
struct Parsed {
  std::unique_ptr<Message> msg = TestTypes::get().newConfig();
  ParseReport report;
  absl::Status status;
  std::string text() const { return msg->ShortDebugString(); }
};

Parsed parse(const std::string& yaml) {
  Parsed p;
  p.status = parseYaml(yaml, *p.msg, p.report);
  return p;
}

// Parses text that must be valid, failing the test with the error otherwise.
Parsed parseOk(const std::string& yaml) {
  Parsed p = parse(yaml);
  INFO(p.status.ToString());
  REQUIRE(p.status.ok());
  return p;
}

std::string errorOf(const std::string& yaml) {
  Parsed p = parse(yaml);
  REQUIRE_FALSE(p.status.ok());
  CHECK(p.status.code() == absl::StatusCode::kInvalidArgument);
  return std::string(p.status.message());
}

TEST_CASE("keys may be proto field names or camelCase JSON names", "[config]") {
  Parsed p = parseOk("name: a\nconnectTimeoutMs: 5\nscalars: {u32: 7}\n");
  CHECK(p.text() == "name: \"a\" scalars { u32: 7 } connect_timeout_ms: 5");
  CHECK(p.report.warnings.empty());
}

TEST_CASE("errors under a camelCase key name the proto field", "[config]") {
  CHECK(errorOf("connectTimeoutMs: x") ==
        "connect_timeout_ms: invalid int32 'x' (expected an integer)");
}

TEST_CASE("an unknown key is a warning naming its path, and is skipped", "[config]") {
  Parsed p = parseOk("name: a\nendpoints:\n- host: h\n  weight: 3\nbogus: {x: 1}\n");
  CHECK(p.text() == "name: \"a\" endpoints { host: \"h\" }");
  CHECK(p.report.warnings ==
        std::vector<std::string>{"endpoints[0].weight: unknown field, ignored (not in Remora's "
                                 "API subset)",
                                 "bogus: unknown field, ignored (not in Remora's API subset)"});
}

TEST_CASE("a duplicate key is an error", "[config]") {
  CHECK(errorOf("scalars:\n  u32: 1\n  u32: 2\n") == "scalars.u32: duplicate key 'u32'");
}

TEST_CASE("one field given by both its names is an error naming both", "[config]") {
  CHECK(errorOf("connect_timeout_ms: 1\nconnectTimeoutMs: 2\n") ==
        "connect_timeout_ms: field given twice, as 'connect_timeout_ms' and 'connectTimeoutMs'");
}

TEST_CASE("setting two fields of a oneof is an error naming both", "[config]") {
  CHECK(errorOf("cluster: a\nweighted: b\n") ==
        "weighted: oneof 'target' is already set by 'cluster'; set only one of them");
  // A null member is unset, so it does not conflict.
  CHECK(parseOk("cluster: ~\nweighted: b\n").text() == "weighted: \"b\"");
}

TEST_CASE("integers accept numbers, quoted numeric strings and integral exponents", "[config]") {
  Parsed p = parseOk(
      "scalars: {i32: -5, i64: '-9223372036854775808', u32: \"8080\", u64: 18446744073709551615,"
      " s32: 1e3, f64: 8080.0}");
  CHECK(p.text() ==
        "scalars { i32: -5 i64: -9223372036854775808 u32: 8080 u64: 18446744073709551615 s32: 1000 "
        "f64: 8080 }");
}

TEST_CASE("integers are range-checked", "[config]") {
  CHECK(errorOf("scalars: {i32: 2147483648}") ==
        "scalars.i32: value '2147483648' is out of range for int32 (-2147483648..2147483647)");
  CHECK(errorOf("scalars: {u32: 4294967296}") ==
        "scalars.u32: value '4294967296' is out of range for uint32 (0..4294967295)");
  CHECK(errorOf("scalars: {u64: 18446744073709551616}") ==
        "scalars.u64: value '18446744073709551616' is out of range for uint64 "
        "(0..18446744073709551615)");
  CHECK(errorOf("scalars: {i64: 1e19}") ==
        "scalars.i64: value '1e19' is out of range for int64 "
        "(-9223372036854775808..9223372036854775807)");
}

TEST_CASE("a negative value for an unsigned field is an error", "[config]") {
  CHECK(errorOf("scalars: {u32: -1}") ==
        "scalars.u32: negative value '-1' is not allowed for uint32");
  CHECK(errorOf("scalars: {f64: '-2'}") ==
        "scalars.f64: negative value '-2' is not allowed for fixed64");
}

TEST_CASE("a non-integer for an integer field is an error", "[config]") {
  CHECK(errorOf("scalars: {i32: 1.5}") == "scalars.i32: invalid int32 '1.5' (expected an integer)");
  CHECK(errorOf("scalars: {u32: 0x10}") ==
        "scalars.u32: invalid uint32 '0x10' (expected an integer)");
  CHECK(errorOf("scalars: {i64: [1]}") == "scalars.i64: expected int64, got a list");
}

TEST_CASE("floating point accepts numbers, Infinity and NaN", "[config]") {
  Parsed p = parseOk("scalars: {d: 1.5e2, f: '-0.25'}");
  CHECK(p.text() == "scalars { d: 150 f: -0.25 }");
  p = parseOk("scalars: {d: Infinity, f: -Infinity}");
  CHECK(p.text() == "scalars { d: inf f: -inf }");
  p = parseOk("scalars: {d: NaN, f: .inf}");
  CHECK(p.text() == "scalars { d: nan f: inf }");
  CHECK(errorOf("scalars: {d: fast}") ==
        "scalars.d: invalid double 'fast' (expected a number, Infinity or NaN)");
  CHECK(errorOf("scalars: {f: 1e39}") ==
        "scalars.f: value '1e39' is out of range for float (write Infinity for an infinite value)");
}

TEST_CASE("bool accepts true and false only", "[config]") {
  CHECK(parseOk("scalars: {b: true}").text() == "scalars { b: true }");
  CHECK(parseOk("scalars: {b: false}").text() == "scalars { }");
  CHECK(errorOf("scalars: {b: yes}") == "scalars.b: invalid bool 'yes' (expected true or false)");
  CHECK(errorOf("scalars: {b: 1}") == "scalars.b: invalid bool '1' (expected true or false)");
}

TEST_CASE("string fields take any scalar as text, but not a mapping", "[config]") {
  CHECK(parseOk("name: 8080").text() == "name: \"8080\"");
  CHECK(parseOk("name: 'true'").text() == "name: \"true\"");
  CHECK(errorOf("name: {a: 1}") == "name: expected string, got a mapping");
}

TEST_CASE("bytes fields take standard or URL-safe base64", "[config]") {
  CHECK(parseOk("scalars: {by: aGVsbG8=}").text() == "scalars { by: \"hello\" }");
  CHECK(parseOk("scalars: {by: aGVsbG8}").text() == "scalars { by: \"hello\" }");
  CHECK(parseOk("scalars: {by: '-_8='}").text() == "scalars { by: \"\\373\\377\" }");
  CHECK(errorOf("scalars: {by: '!!'}") ==
        "scalars.by: invalid base64 '!!' (bytes fields take base64 text)");
}

TEST_CASE("enums accept a value name or number, and list the valid names otherwise", "[config]") {
  CHECK(parseOk("scalars: {color: GREEN}").text() == "scalars { color: GREEN }");
  CHECK(parseOk("scalars: {color: 1}").text() == "scalars { color: RED }");
  CHECK(errorOf("scalars: {color: BLUE}") ==
        "scalars.color: invalid value 'BLUE' for enum remora.test.Color "
        "(valid: COLOR_UNSPECIFIED, RED, GREEN)");
  CHECK(errorOf("scalars: {color: green}") ==
        "scalars.color: invalid value 'green' for enum remora.test.Color "
        "(valid: COLOR_UNSPECIFIED, RED, GREEN; did you mean 'GREEN'?)");
  CHECK(errorOf("scalars: {color: 7}") ==
        "scalars.color: unknown number 7 for enum remora.test.Color "
        "(valid: COLOR_UNSPECIFIED, RED, GREEN)");
}

TEST_CASE("null leaves a field unset", "[config]") {
  Parsed p = parseOk("name: ~\nscalars: null\ntimeout:\nendpoints: ~\nnamed: ~\ntyped_config: ~\n");
  CHECK(p.text().empty());
  CHECK(p.report.warnings.empty());
}

TEST_CASE("a repeated field needs a list", "[config]") {
  CHECK(parseOk("domains: [a, '*']").text() == "domains: \"a\" domains: \"*\"");
  CHECK(errorOf("domains: '*'") == "domains: expected a list, got '*'");
  CHECK(errorOf("domains: [a, ~]") == "domains[1]: null is not allowed in a list");
}

TEST_CASE("a single mapping where a list of messages is expected is a one-element list",
          "[config]") {
  Parsed p = parseOk("endpoints: {host: h, port_value: 1}");
  CHECK(p.text() == "endpoints { host: \"h\" port_value: 1 }");
  CHECK(p.report.warnings ==
        std::vector<std::string>{
            "endpoints: expected a list, got a single mapping; treated as a one-element list"});
}

TEST_CASE("map fields take a mapping and errors name the key", "[config]") {
  Parsed p = parseOk("named: {a: {host: x}}\nby_number: {'80': http, 443: https}\n");
  CHECK(p.text() ==
        "by_number { key: 80 value: \"http\" } by_number { key: 443 value: \"https\" } "
        "named { key: \"a\" value { host: \"x\" } }");
  CHECK(errorOf("named: {a: {port_value: -1}}") ==
        "named[\"a\"].port_value: negative value '-1' is not allowed for uint32");
  CHECK(errorOf("by_number: {http: x}") ==
        "by_number[\"http\"]: invalid uint32 'http' (expected an integer)");
  CHECK(errorOf("named: {a: {}, a: {}}") == "named[\"a\"]: duplicate map key");
  CHECK(errorOf("named: [a]") == "named: expected a mapping, got a list");
  CHECK(errorOf("named: {a: ~}") == "named[\"a\"]: null is not allowed as a map value");
}

TEST_CASE("nested errors name the full path with list indexes", "[config]") {
  CHECK(errorOf("endpoints:\n- host: a\n- host: b\n  port_value: eighty\n") ==
        "endpoints[1].port_value: invalid uint32 'eighty' (expected an integer)");
  CHECK(errorOf("endpoints: [{host: a}, 5]") ==
        "endpoints[1]: expected a mapping for remora.test.Endpoint, got '5'");
}

TEST_CASE("a message given where a mapping is needed at the top is an error", "[config]") {
  CHECK(errorOf("just text") == "expected a mapping for remora.test.Config, got 'just text'");
  CHECK(parseOk("").text().empty());
}

TEST_CASE("durations are strings with an s suffix", "[config]") {
  CHECK(parseOk("timeout: 1.5s").text() == "timeout { seconds: 1 nanos: 500000000 }");
  CHECK(parseOk("timeout: 0.001s").text() == "timeout { nanos: 1000000 }");
  CHECK(parseOk("timeout: -2s").text() == "timeout { seconds: -2 }");
  CHECK(parseOk("timeout: '-0.5s'").text() == "timeout { nanos: -500000000 }");
  CHECK(errorOf("timeout: abc") == "timeout: invalid duration 'abc' (expected e.g. '0.25s')");
  CHECK(errorOf("timeout: 5") ==
        "timeout: invalid duration '5' (expected e.g. '0.25s'; did you mean '5s'?)");
  CHECK(errorOf("timeout: 1.0123456789s") ==
        "timeout: invalid duration '1.0123456789s' (expected e.g. '0.25s')");
  CHECK(errorOf("timeout: 315576000001s") ==
        "timeout: duration '315576000001s' is out of range (at most 315576000000s either way)");
}

TEST_CASE("timestamps are RFC 3339 strings", "[config]") {
  CHECK(parseOk("created: 1972-01-01T10:00:20.021Z").text() ==
        "created { seconds: 63108020 nanos: 21000000 }");
  CHECK(parseOk("created: '1972-01-01T10:00:20+05:30'").text() == "created { seconds: 63088220 }");
  CHECK(errorOf("created: yesterday") ==
        "created: invalid timestamp 'yesterday' (expected RFC 3339, e.g. '2024-01-02T03:04:05Z')");
}

TEST_CASE("wrapper types are written as bare values", "[config]") {
  Parsed p = parseOk("max_requests: '100'\nenabled: false\nlabel: x\nratio: 0.5\n");
  CHECK(p.text() ==
        "max_requests { value: 100 } enabled { } label { value: \"x\" } ratio { value: 0.5 }");
  CHECK(errorOf("max_requests: {value: 5}") ==
        "max_requests: expected a bare value for google.protobuf.UInt32Value "
        "(write 'field: 5', not 'field: {value: 5}')");
  CHECK(errorOf("max_requests: -1") ==
        "max_requests: negative value '-1' is not allowed for uint32");
}

TEST_CASE("Struct, Value and ListValue take any YAML", "[config]") {
  Parsed p = parseOk(
      "metadata: {n: 1, q: '8080', b: true, s: text, z: ~, l: [1, x], m: {k: v}}\n"
      "extra: [1, {a: false}]\nlist: [~, 2.5]\n");
  google::protobuf::Struct expected;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(
      R"pb(fields {
             key: "n"
             value { number_value: 1 }
           }
           fields {
             key: "q"
             value { string_value: "8080" }
           }
           fields {
             key: "b"
             value { bool_value: true }
           }
           fields {
             key: "s"
             value { string_value: "text" }
           }
           fields {
             key: "z"
             value { null_value: NULL_VALUE }
           }
           fields {
             key: "l"
             value {
               list_value {
                 values { number_value: 1 }
                 values { string_value: "x" }
               }
             }
           }
           fields {
             key: "m"
             value {
               struct_value {
                 fields {
                   key: "k"
                   value { string_value: "v" }
                 }
               }
             }
           })pb",
      &expected));
  google::protobuf::Struct actual;
  const Message& metadata = TestTypes::get().subMessage(*p.msg, "metadata");
  REQUIRE(actual.ParseFromString(metadata.SerializeAsString()));
  CHECK(google::protobuf::util::MessageDifferencer::Equals(actual, expected));
  CHECK(TestTypes::get().subMessage(*p.msg, "extra").ShortDebugString() ==
        "list_value { values { number_value: 1 } values { struct_value { fields { key: \"a\" "
        "value { bool_value: false } } } } }");
  CHECK(TestTypes::get().subMessage(*p.msg, "list").ShortDebugString() ==
        "values { null_value: NULL_VALUE } values { number_value: 2.5 }");
  CHECK(parseOk("extra: ~").text() == "extra { null_value: NULL_VALUE }");
  CHECK(errorOf("metadata: [1]") ==
        "metadata: expected a mapping for google.protobuf.Struct, got a list");
  CHECK(errorOf("metadata: {a: 1, a: 2}") == "metadata[\"a\"]: duplicate map key");
}

TEST_CASE("Any resolves @type from the generated pool and packs the payload", "[config]") {
  Parsed p = parseOk(
      "typed_config:\n"
      "  '@type': type.googleapis.com/google.protobuf.Api\n"
      "  name: svc\n"
      "  methods: [{name: Get, requestStreaming: true}]\n");
  google::protobuf::Any any;
  REQUIRE(
      any.ParseFromString(TestTypes::get().subMessage(*p.msg, "typed_config").SerializeAsString()));
  CHECK(any.type_url() == "type.googleapis.com/google.protobuf.Api");
  google::protobuf::Api api;
  REQUIRE(any.UnpackTo(&api));
  CHECK(api.ShortDebugString() ==
        "name: \"svc\" methods { name: \"Get\" request_streaming: true }");
}

TEST_CASE("Any with a well-known payload type takes it under 'value'", "[config]") {
  google::protobuf::Any any;
  ParseReport report;
  REQUIRE(
      parseYaml("{'@type': type.googleapis.com/google.protobuf.Duration, value: 2s}", any, report)
          .ok());
  google::protobuf::Duration d;
  REQUIRE(any.UnpackTo(&d));
  CHECK(d.seconds() == 2);
  CHECK(parseYaml("{'@type': type.googleapis.com/google.protobuf.Duration, value: 2}", any, report)
            .message() ==
        "value: invalid duration '2' (expected e.g. '0.25s'; did you mean '2s'?)");
}

TEST_CASE("errors inside an Any payload name the path through it", "[config]") {
  CHECK(errorOf("anys:\n- '@type': type.googleapis.com/google.protobuf.Api\n"
                "  methods: [{name: a}, {name: b, request_streaming: maybe}]\n") ==
        "anys[0].methods[1].request_streaming: invalid bool 'maybe' (expected true or false)");
}

TEST_CASE("Any with an unknown @type is an error naming the URL", "[config]") {
  CHECK(errorOf("typed_config: {'@type': type.googleapis.com/acme.Widget, size: 3}") ==
        "typed_config: unknown type 'type.googleapis.com/acme.Widget'");
  CHECK(errorOf("typed_config: {size: 3}") ==
        "typed_config: missing '@type' (e.g. '@type: type.googleapis.com/<message name>')");
  CHECK(errorOf("typed_config: {'@type': Widget}") ==
        "typed_config.@type: invalid type URL 'Widget' (expected "
        "'type.googleapis.com/<message name>')");
}

TEST_CASE("Any holding a TypedStruct is kept without its value, with a warning", "[config]") {
  for (const std::string type : {"udpa.type.v1.TypedStruct", "xds.type.v3.TypedStruct"}) {
    const std::string url = "type.googleapis.com/" + type;
    Parsed p = parseOk("typed_config: {'@type': " + url + ", type_url: x.y.Z, value: {a: 1}}");
    google::protobuf::Any any;
    REQUIRE(any.ParseFromString(
        TestTypes::get().subMessage(*p.msg, "typed_config").SerializeAsString()));
    CHECK(any.type_url() == url);
    CHECK(any.value().empty());
    CHECK(p.report.warnings ==
          std::vector<std::string>{"typed_config: TypedStruct '" + url +
                                   "' is not supported by Remora; kept as an Any without its "
                                   "value"});
  }
}

TEST_CASE("YAML anchors, aliases and merge keys work", "[config]") {
  Parsed p = parseOk(
      "endpoints:\n"
      "- &base {host: a, port_value: 80}\n"
      "- *base\n"
      "- <<: *base\n"
      "  port_value: 81\n"
      "- <<: [{host: c}, *base]\n");
  CHECK(p.text() ==
        "endpoints { host: \"a\" port_value: 80 } endpoints { host: \"a\" port_value: 80 } "
        "endpoints { host: \"a\" port_value: 81 } endpoints { host: \"c\" port_value: 80 }");
  CHECK(errorOf("scalars: {<<: 5}") ==
        "scalars.<<: a merge key needs a mapping or a list of mappings");
}

TEST_CASE("JSON text parses like the equivalent YAML", "[config]") {
  Parsed json = parseOk(R"({"name": "a", "endpoints": [{"host": "h", "portValue": "80"}],)"
                        R"( "timeout": "1s", "metadata": {"k": 1}})");
  Parsed yaml = parseOk(
      "name: a\nendpoints: [{host: h, port_value: 80}]\ntimeout: 1s\n"
      "metadata: {k: 1}\n");
  CHECK(json.text() == yaml.text());
}

TEST_CASE("invalid YAML syntax is an error with its line", "[config]") {
  CHECK(errorOf("name: a\nendpoints: [\n") ==
        "invalid YAML at line 3, column 1: end of sequence flow not found");
}

TEST_CASE("parseYamlNode prepends the path prefix to errors and warnings", "[config]") {
  YAML::Node node = YAML::Load("endpoints: [{host: a, weight: 1, port_value: x}]");
  auto msg = TestTypes::get().newConfig();
  ParseReport report;
  absl::Status s = parseYamlNode(node, *msg, report, "resources[3]");
  CHECK(s.message() ==
        "resources[3].endpoints[0].port_value: invalid uint32 'x' (expected an "
        "integer)");
  CHECK(report.warnings == std::vector<std::string>{"resources[3].endpoints[0].weight: unknown "
                                                    "field, ignored (not in Remora's API subset)"});
}

TEST_CASE("nesting deeper than protobuf's limit is an error, not a stack overflow", "[config]") {
  const std::string deep = "extra: " + std::string(200, '[') + std::string(200, ']');
  CHECK_THAT(errorOf(deep), Catch::EndsWith(": nested too deeply"));
  CHECK(parseOk("extra: " + std::string(50, '[') + std::string(50, ']')).status.ok());
}

TEST_CASE("a YAML alias cycle is an error, not a hang", "[config]") {
  CHECK_THAT(errorOf("scalars: &x {u32: 1, <<: *x}"), Catch::EndsWith(": nested too deeply"));
  CHECK_THAT(errorOf("extra: &x [1, *x]"), Catch::EndsWith(": nested too deeply"));
}

TEST_CASE("well-known types parse at the top level too", "[config]") {
  ParseReport report;
  google::protobuf::Duration d;
  REQUIRE(parseYaml("0.25s", d, report).ok());
  CHECK(d.nanos() == 250000000);
  google::protobuf::Struct s;
  REQUIRE(parseYaml("{a: [1]}", s, report).ok());
  CHECK(s.fields().at("a").list_value().values(0).number_value() == 1);
}

}  // namespace
}  // namespace remora::config
