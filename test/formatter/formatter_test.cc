// Specification of text formats and header value formats: every command operator, missing values,
// truncation, alternate headers, START_TIME formats, response flags and compile errors.
#include "source/formatter/formatter.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <climits>
#include <string>

#include "source/formatter/substitution_format_string.h"
#include "test/formatter/stream_info_fixture.h"

namespace remora::formatter {
namespace {

using std::chrono::milliseconds;
using test::Request;

std::string format(const std::string& text, const http::StreamInfo& info) {
  auto f = compileText(text);
  INFO(f.status().ToString());
  REQUIRE(f.ok());
  std::string out;
  (*f)->format(info, out);
  return out;
}

std::string formatHeader(const std::string& text, const http::StreamInfo& info) {
  auto f = compileHeaderValue(text);
  INFO(f.status().ToString());
  REQUIRE(f.ok());
  std::string out;
  (*f)->format(info, out);
  return out;
}

std::string errorOf(const std::string& text) {
  auto f = compileText(text);
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(f.status().message());
}

TEST_CASE("the default format is Envoy's documented default access log format", "[formatter]") {
  CHECK(defaultFormat() ==
        "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
        "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
        "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
        "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n");
}

TEST_CASE("the default format renders Envoy's documented example line", "[formatter]") {
  Request r;
  CHECK(format(defaultFormat(), r.info) ==
        "[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 204 - 154 0 226 100 "
        "\"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\" "
        "\"10.0.2.1:80\"\n");
}

TEST_CASE("format appends to the output without clearing it", "[formatter]") {
  Request r;
  auto f = compileText("%RESPONSE_CODE%");
  REQUIRE(f.ok());
  std::string out = "code=";
  (*f)->format(r.info, out);
  CHECK(out == "code=204");
}

TEST_CASE("text without operators is copied unchanged", "[formatter]") {
  Request r;
  CHECK(format("plain text: with (parens) and colons\n", r.info) ==
        "plain text: with (parens) and colons\n");
  CHECK(format("", r.info).empty());
}

TEST_CASE("a doubled percent sign is a literal percent sign", "[formatter]") {
  Request r;
  CHECK(format("100%% of %RESPONSE_CODE%%%", r.info) == "100% of 204%");
}

TEST_CASE("START_TIME defaults to ISO 8601 UTC with milliseconds", "[formatter]") {
  Request r;
  CHECK(format("%START_TIME%", r.info) == "2016-04-15T20:17:00.310Z");
  CHECK(format("%START_TIME()%", r.info) == "2016-04-15T20:17:00.310Z");
}

TEST_CASE("START_TIME takes a strftime format in UTC", "[formatter]") {
  Request r;
  CHECK(format("%START_TIME(%Y/%m/%d %H:%M:%S %z)%", r.info) == "2016/04/15 20:17:00 +0000");
  CHECK(format("%START_TIME(%a %b %e %j)%", r.info) == "Fri Apr 15 106");
}

TEST_CASE("START_TIME %s is seconds since the epoch", "[formatter]") {
  Request r;
  CHECK(format("%START_TIME(%s)%", r.info) == "1460751420");
  CHECK(format("%START_TIME(%s.%3f)%", r.info) == "1460751420.310");
}

TEST_CASE("START_TIME %Nf prints N truncated fractional digits and %f prints nine", "[formatter]") {
  Request r;
  CHECK(format("%START_TIME(%1f)%", r.info) == "3");
  CHECK(format("%START_TIME(%3f)%", r.info) == "310");
  CHECK(format("%START_TIME(%6f)%", r.info) == "310123");
  CHECK(format("%START_TIME(%9f)%", r.info) == "310123456");
  CHECK(format("%START_TIME(%f)%", r.info) == "310123456");
  CHECK(format("%START_TIME(%S.%3f|%S.%6f)%", r.info) == "00.310|00.310123");
}

TEST_CASE("START_TIME fractions keep leading zeros", "[formatter]") {
  Request r;
  r.info.start_time = test::exampleTime() - std::chrono::nanoseconds(310123456 - 1000);
  CHECK(format("%START_TIME(%3f %6f %9f)%", r.info) == "000 000001 000001000");
}

TEST_CASE("START_TIME treats %%s and %%f as literal text", "[formatter]") {
  Request r;
  CHECK(format("%START_TIME(%%s %%f %%3f)%", r.info) == "%s %f %3f");
}

TEST_CASE("START_TIME supports absl's sub-second conversions", "[formatter]") {
  Request r;
  CHECK(format("%START_TIME(%H:%M:%E3S)%", r.info) == "20:17:00.310");
  CHECK(format("%START_TIME(%E*S)%", r.info) == "00.310123456");
}

TEST_CASE("START_TIME follows the request time across seconds", "[formatter]") {
  Request r;
  auto f = compileText("%START_TIME% %START_TIME(%s)%");
  REQUIRE(f.ok());
  std::string first, second, third;
  (*f)->format(r.info, first);
  r.info.start_time += std::chrono::milliseconds(1500);
  (*f)->format(r.info, second);
  r.info.start_time -= std::chrono::milliseconds(1500);
  (*f)->format(r.info, third);
  CHECK(first == "2016-04-15T20:17:00.310Z 1460751420");
  CHECK(second == "2016-04-15T20:17:01.810Z 1460751421");
  CHECK(third == first);
}

TEST_CASE("REQ reads a request header whatever the case of its name", "[formatter]") {
  Request r;
  CHECK(format("%REQ(USER-AGENT)% %REQ(user-agent)% %REQ(:METHOD)%", r.info) ==
        "nsq2http nsq2http POST");
  CHECK(format("%REQUEST_HEADER(:PATH)%", r.info) == "/api/v1/locations");
}

TEST_CASE("REQ prints a dash for an absent header", "[formatter]") {
  Request r;
  CHECK(format("[%REQ(X-MISSING)%]", r.info) == "[-]");
}

TEST_CASE("REQ prints an empty header value as empty", "[formatter]") {
  Request r;
  r.request_headers.add("x-empty", "");
  CHECK(format("[%REQ(X-EMPTY)%]", r.info) == "[]");
}

TEST_CASE("REQ prints a dash when the request has no headers", "[formatter]") {
  Request r;
  r.info.request_headers = nullptr;
  r.info.response_headers = nullptr;
  r.info.response_trailers = nullptr;
  CHECK(format("%REQ(:PATH)% %RESP(:STATUS)% %TRAILER(GRPC-STATUS)%", r.info) == "- - -");
}

TEST_CASE("REQ(X?Y) falls back to Y only when X is absent", "[formatter]") {
  Request r;
  CHECK(format("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", r.info) == "/api/v1/locations");
  r.request_headers.add("x-envoy-original-path", "/original");
  CHECK(format("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", r.info) == "/original");
  CHECK(format("%REQ(X-A?X-B)%", r.info) == "-");
}

TEST_CASE("REQ(X):N truncates the value to N bytes", "[formatter]") {
  Request r;
  CHECK(format("%REQ(X-REQUEST-ID):8%", r.info) == "cc21d9b0");
  CHECK(format("%REQ(USER-AGENT):100%", r.info) == "nsq2http");
  CHECK(format("%REQ(X-MISSING):2%", r.info) == "-");
  CHECK(format("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME):1%", r.info) == "1");
}

TEST_CASE("RESP reads a response header", "[formatter]") {
  Request r;
  CHECK(format("%RESP(:STATUS)% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESP(X-NONE)%", r.info) ==
        "204 100 -");
  CHECK(format("%RESPONSE_HEADER(:status)%", r.info) == "204");
}

TEST_CASE("TRAILER reads a response trailer", "[formatter]") {
  Request r;
  CHECK(format("%TRAILER(GRPC-STATUS)% %TRAILER(GRPC-MESSAGE?GRPC-STATUS)% %TRAILER(X)%", r.info) ==
        "0 0 -");
  CHECK(format("%RESPONSE_TRAILER(grpc-status)%", r.info) == "0");
}

TEST_CASE("RESPONSE_CODE prints 0 when no response was sent", "[formatter]") {
  Request r;
  CHECK(format("%RESPONSE_CODE%", r.info) == "204");
  r.info.response_code = 0;
  CHECK(format("%RESPONSE_CODE%", r.info) == "0");
}

TEST_CASE("RESPONSE_CODE_DETAILS prints the details or a dash", "[formatter]") {
  Request r;
  CHECK(format("%RESPONSE_CODE_DETAILS%", r.info) == "via_upstream");
  r.info.response_code_details.clear();
  CHECK(format("%RESPONSE_CODE_DETAILS%", r.info) == "-");
}

TEST_CASE("RESPONSE_FLAGS prints a dash when no flag is set", "[formatter]") {
  Request r;
  CHECK(format("%RESPONSE_FLAGS%", r.info) == "-");
  CHECK(formatHeader("%RESPONSE_FLAGS%", r.info) == "-");
}

TEST_CASE("RESPONSE_FLAGS joins the short codes with commas in flag order", "[formatter]") {
  Request r;
  r.info.setFlag(http::kUpstreamRetryLimitExceeded);
  r.info.setFlag(http::kNoHealthyUpstream);
  r.info.setFlag(http::kUpstreamConnectionFailure);
  CHECK(format("%RESPONSE_FLAGS%", r.info) == "UH,UF,URX");
}

TEST_CASE("every response flag prints its Envoy short code", "[formatter]") {
  const std::vector<std::string> codes = {
      "LH",   "UH", "UT",  "LR", "UR", "UF",  "UC",    "UO",   "NR",   "DI", "FI",  "RL", "UAEX",
      "RLSE", "DC", "URX", "SI", "IH", "DPE", "UMSDR", "RFCF", "NFCF", "DT", "UPE", "NC", "OM"};
  Request r;
  for (size_t bit = 0; bit < codes.size(); ++bit) {
    r.info.response_flags = 1u << bit;
    CHECK(format("%RESPONSE_FLAGS%", r.info) == codes[bit]);
  }
  r.info.response_flags = (1u << codes.size()) - 1;
  std::string all;
  for (const auto& c : codes) all += (all.empty() ? "" : ",") + c;
  CHECK(format("%RESPONSE_FLAGS%", r.info) == all);
}

TEST_CASE("BYTES_RECEIVED and BYTES_SENT print body byte counts", "[formatter]") {
  Request r;
  r.info.bytes_sent = 1234567890123;
  CHECK(format("%BYTES_RECEIVED% %BYTES_SENT%", r.info) == "154 1234567890123");
}

TEST_CASE("durations are milliseconds from the request start", "[formatter]") {
  Request r;
  CHECK(format("%DURATION% %REQUEST_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION%",
               r.info) == "226 12 200 26");
}

TEST_CASE("durations of steps that did not happen print a dash", "[formatter]") {
  Request r;
  r.info.last_downstream_tx_byte.reset();
  r.info.first_upstream_rx_byte.reset();
  r.info.last_downstream_rx_byte.reset();
  CHECK(format("%DURATION% %REQUEST_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION%",
               r.info) == "- - - -");
}

TEST_CASE("upstream operators print the chosen host cluster and local address", "[formatter]") {
  Request r;
  r.info.upstream_transport_failure_reason = "TLS error";
  CHECK(format("%UPSTREAM_HOST% %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% "
               "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
               r.info) == "10.0.2.1:80 locations_cluster 10.0.0.1:33000 TLS error");
}

TEST_CASE("upstream operators print a dash before an upstream was chosen", "[formatter]") {
  Request r;
  r.info.upstream_host.reset();
  r.info.upstream_local_address.reset();
  r.info.upstream_cluster.clear();
  CHECK(format("%UPSTREAM_HOST% %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% "
               "%UPSTREAM_TRANSPORT_FAILURE_REASON%",
               r.info) == "- - - -");
}

TEST_CASE("downstream address operators print addresses with and without port", "[formatter]") {
  Request r;
  CHECK(format("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", r.info) ==
        "10.0.35.28:50000 10.0.35.28");
  CHECK(format("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS% "
               "%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%",
               r.info) == "10.0.0.9:40000 10.0.0.9");
  CHECK(format("%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% "
               "%DOWNSTREAM_LOCAL_PORT%",
               r.info) == "10.0.0.1:10000 10.0.0.1 10000");
}

TEST_CASE("IPv6 addresses without port drop the brackets", "[formatter]") {
  Request r;
  r.info.downstream_remote_address = test::address("::1", 8080);
  CHECK(format("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", r.info) ==
        "[::1]:8080 ::1");
}

TEST_CASE("pipe addresses print their path and have no port", "[formatter]") {
  Request r;
  r.info.downstream_local_address = *network::Address::fromPipe("/tmp/remora.sock");
  CHECK(format("%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% "
               "%DOWNSTREAM_LOCAL_PORT%",
               r.info) == "/tmp/remora.sock /tmp/remora.sock -");
}

TEST_CASE("unset downstream addresses print a dash", "[formatter]") {
  http::StreamInfo info;
  CHECK(format("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_LOCAL_PORT%", info) == "- -");
}

TEST_CASE("PROTOCOL and ROUTE_NAME print their values or a dash", "[formatter]") {
  Request r;
  CHECK(format("%PROTOCOL% %ROUTE_NAME%", r.info) == "HTTP/2 locations_route");
  r.info.protocol.clear();
  r.info.route_name.clear();
  CHECK(format("%PROTOCOL% %ROUTE_NAME%", r.info) == "- -");
}

TEST_CASE("HOSTNAME prints the machine's host name", "[formatter]") {
  char name[HOST_NAME_MAX + 1] = {};
  REQUIRE(gethostname(name, sizeof(name) - 1) == 0);
  Request r;
  CHECK(format("%HOSTNAME%", r.info) == name);
}

TEST_CASE("UPSTREAM_REQUEST_ATTEMPT_COUNT prints the number of upstream tries", "[formatter]") {
  Request r;
  r.info.attempt_count = 3;
  CHECK(format("%UPSTREAM_REQUEST_ATTEMPT_COUNT%", r.info) == "3");
}

TEST_CASE("REQUEST_HEADERS_BYTES counts header names and values", "[formatter]") {
  http::HeaderMap headers;
  headers.add(":path", "/");       // 5 + 1
  headers.add("host", "example");  // 4 + 7
  http::StreamInfo info;
  info.request_headers = &headers;
  CHECK(format("%REQUEST_HEADERS_BYTES% %RESPONSE_HEADERS_BYTES%", info) == "17 0");
}

TEST_CASE("an unknown operator is an error naming it", "[formatter]") {
  CHECK(errorOf("x %FOO% y") == "unknown command operator %FOO%");
  CHECK(errorOf("%FOO(bar)%") == "unknown command operator %FOO%");
}

TEST_CASE("Envoy operators Remora does not implement are errors saying so", "[formatter]") {
  CHECK(errorOf("%DYNAMIC_METADATA(ns:key)%") ==
        "command operator %DYNAMIC_METADATA% is not supported by Remora");
}

TEST_CASE("a percent sign that starts no operator is a syntax error", "[formatter]") {
  CHECK_THAT(errorOf("100% done"),
             Catch::StartsWith("bad command operator syntax at position 3 (no operator name"));
  CHECK_THAT(errorOf("trailing %"), Catch::StartsWith("bad command operator syntax at position 9"));
}

TEST_CASE("an operator without its closing percent sign is a syntax error", "[formatter]") {
  CHECK_THAT(errorOf("%RESPONSE_CODE"), Catch::Contains("missing closing '%'"));
  CHECK_THAT(errorOf("%REQ(:PATH"), Catch::Contains("missing ')'"));
  CHECK_THAT(errorOf("%REQ(:PATH) %"), Catch::Contains("missing closing '%'"));
}

TEST_CASE("a max length that is not a number is a syntax error", "[formatter]") {
  CHECK_THAT(errorOf("%REQ(:PATH):x%"), Catch::Contains("max length is not a number"));
  CHECK_THAT(errorOf("%REQ(:PATH):99999999999999999999999%"),
             Catch::Contains("max length is not a number"));
}

TEST_CASE("header operators need a header name", "[formatter]") {
  CHECK(errorOf("%REQ%") == "%REQ% needs a header name, e.g. %REQ(x-request-id)%");
  CHECK(errorOf("%RESP()%") == "%RESP% needs a header name, e.g. %RESP(x-request-id)%");
  CHECK(errorOf("%REQ(A?)%") == "%REQ(A?)% has an empty header name");
}

TEST_CASE("header operators take at most one alternative", "[formatter]") {
  CHECK(errorOf("%REQ(A?B?C)%") ==
        "%REQ(A?B?C)% names more than one alternative header (at most X?Y)");
}

TEST_CASE("operators without parameters reject an argument or a max length", "[formatter]") {
  CHECK(errorOf("%PROTOCOL(x)%") == "%PROTOCOL% does not take an argument");
  CHECK(errorOf("%PROTOCOL:3%") == "%PROTOCOL% does not take a max length");
  CHECK(errorOf("%START_TIME(%s):3%") == "%START_TIME% does not take a max length");
}

TEST_CASE("header values print missing values as empty", "[formatter]") {
  Request r;
  r.info.upstream_host.reset();
  CHECK(formatHeader("[%UPSTREAM_HOST%][%REQ(X-NONE)%][%ROUTE_NAME%]", r.info) ==
        "[][][locations_route]");
  CHECK(formatHeader("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", r.info) == "10.0.35.28");
}

TEST_CASE("header values read a doubled percent sign as a literal one", "[formatter]") {
  Request r;
  CHECK(formatHeader("50%% from %PROTOCOL%", r.info) == "50% from HTTP/2");
}

TEST_CASE("header values reject Envoy's metadata variables as unsupported", "[formatter]") {
  auto f = compileHeaderValue("%UPSTREAM_METADATA([\"ns\", \"key\"])%");
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().message() == "command operator %UPSTREAM_METADATA% is not supported by Remora");
}

TEST_CASE("omit_empty_values prints missing text values as empty", "[formatter]") {
  Request r;
  auto f = compileText("[%REQ(X-NONE)%][%PROTOCOL%]", FormatOptions{true});
  REQUIRE(f.ok());
  std::string out;
  (*f)->format(r.info, out);
  CHECK(out == "[][HTTP/2]");
}

}  // namespace
}  // namespace remora::formatter
