// Specification of request/response header mutations: each append_action, keep_empty_value,
// removal before addition, %VAR% values, what may not be touched, and the order of the route,
// virtual host and route configuration levels.
#include "source/router/header_mutations.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "source/router/route_table.h"
#include "test/router/route_test_util.h"

namespace remora::router {
namespace {

using test::compileError;
using test::mustCompile;
using test::request;

// A table whose route configuration level has `fields` (YAML lines at top level).
std::shared_ptr<const RouteTable> global(const std::string& fields) {
  return mustCompile(
      absl::StrCat(fields,
                   "virtual_hosts: [{name: vh, domains: [\"*\"], routes: [{match: {prefix: /}, "
                   "route: {cluster: a}}]}]\n"));
}

// Applies the route-configuration-level request mutations to `headers`.
void applyGlobal(const RouteTable& table, http::HeaderMap& headers) {
  http::StreamInfo info;
  info.request_headers = &headers;
  table.requestHeaderMutations().apply(headers, info);
}

std::string addOne(const std::string& key, const std::string& value, const std::string& action) {
  return absl::StrCat("request_headers_to_add: [{header: {key: ", key, ", value: \"", value,
                      "\"}, append_action: ", action, "}]\n");
}

TEST_CASE("APPEND_IF_EXISTS_OR_ADD adds a value next to existing ones", "[router]") {
  auto table = global(addOne("x-a", "new", "APPEND_IF_EXISTS_OR_ADD"));
  http::HeaderMap existing = request("h", "/", {{"x-a", "old"}});
  applyGlobal(*table, existing);
  CHECK(existing.getJoined("x-a") == "old,new");
  http::HeaderMap absent = request("h", "/");
  applyGlobal(*table, absent);
  CHECK(absent.getJoined("x-a") == "new");
}

TEST_CASE("append_action defaults to APPEND_IF_EXISTS_OR_ADD", "[router]") {
  auto table = global("request_headers_to_add: [{header: {key: x-a, value: new}}]\n");
  http::HeaderMap headers = request("h", "/", {{"x-a", "old"}});
  applyGlobal(*table, headers);
  CHECK(headers.getJoined("x-a") == "old,new");
}

TEST_CASE("ADD_IF_ABSENT adds only when the header is missing", "[router]") {
  auto table = global(addOne("x-a", "new", "ADD_IF_ABSENT"));
  http::HeaderMap existing = request("h", "/", {{"x-a", "old"}});
  applyGlobal(*table, existing);
  CHECK(existing.getJoined("x-a") == "old");
  http::HeaderMap absent = request("h", "/");
  applyGlobal(*table, absent);
  CHECK(absent.getJoined("x-a") == "new");
}

TEST_CASE("OVERWRITE_IF_EXISTS_OR_ADD replaces every existing value or adds", "[router]") {
  auto table = global(addOne("x-a", "new", "OVERWRITE_IF_EXISTS_OR_ADD"));
  http::HeaderMap existing = request("h", "/", {{"x-a", "old1"}, {"x-a", "old2"}});
  applyGlobal(*table, existing);
  CHECK(existing.getJoined("x-a") == "new");
  http::HeaderMap absent = request("h", "/");
  applyGlobal(*table, absent);
  CHECK(absent.getJoined("x-a") == "new");
}

TEST_CASE("OVERWRITE_IF_EXISTS replaces an existing header and adds nothing otherwise",
          "[router]") {
  auto table = global(addOne("x-a", "new", "OVERWRITE_IF_EXISTS"));
  http::HeaderMap existing = request("h", "/", {{"x-a", "old"}});
  applyGlobal(*table, existing);
  CHECK(existing.getJoined("x-a") == "new");
  http::HeaderMap absent = request("h", "/");
  applyGlobal(*table, absent);
  CHECK_FALSE(absent.has("x-a"));
}

TEST_CASE("an empty value is dropped unless keep_empty_value", "[router]") {
  auto table = global(R"(request_headers_to_add:
- {header: {key: x-dropped, value: "%REQ(x-missing)%"}}
- {header: {key: x-kept, value: ""}, keep_empty_value: true}
)");
  http::HeaderMap headers = request("h", "/");
  applyGlobal(*table, headers);
  CHECK_FALSE(headers.has("x-dropped"));
  REQUIRE(headers.get("x-kept") != nullptr);
  CHECK(headers.get("x-kept")->empty());
}

TEST_CASE("removals happen before additions", "[router]") {
  auto table = global(R"(request_headers_to_remove: [x-a, X-Gone]
request_headers_to_add: [{header: {key: x-a, value: fresh}}]
)");
  http::HeaderMap headers = request("h", "/", {{"x-a", "stale"}, {"x-gone", "1"}});
  applyGlobal(*table, headers);
  CHECK(headers.getJoined("x-a") == "fresh");
  CHECK_FALSE(headers.has("x-gone"));
}

TEST_CASE("header values are formatted with %VAR% operators", "[router]") {
  auto table = global(R"(request_headers_to_add:
- {header: {key: X-Who, value: "%REQ(x-user)% via %PROTOCOL% at 100%%"}}
)");
  http::HeaderMap headers = request("h", "/", {{"x-user", "alice"}});
  applyGlobal(*table, headers);
  CHECK(headers.getJoined("x-who") == "alice via HTTP/1.1 at 100%");
}

TEST_CASE("every value is formatted before any header of the level changes", "[router]") {
  auto table = global(R"(request_headers_to_add:
- {header: {key: x-b, value: replaced}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
- {header: {key: x-c, value: "%REQ(x-b)%"}}
)");
  http::HeaderMap headers = request("h", "/", {{"x-b", "original"}});
  applyGlobal(*table, headers);
  CHECK(headers.getJoined("x-b") == "replaced");
  CHECK(headers.getJoined("x-c") == "original");
}

TEST_CASE("raw_value is used as the header value", "[router]") {
  auto table = global("request_headers_to_add: [{header: {key: x-raw, raw_value: cmF3}}]\n");
  http::HeaderMap headers = request("h", "/");
  applyGlobal(*table, headers);
  CHECK(headers.getJoined("x-raw") == "raw");
}

TEST_CASE("adding a pseudo-header or host is a compile error", "[router]") {
  CHECK(
      compileError(addOne("\":path\"", "/x", "APPEND_IF_EXISTS_OR_ADD") + "virtual_hosts: []\n") ==
      "route_config.request_headers_to_add[0].header.key: ':path': ':'-prefixed or host headers "
      "may not be modified");
  CHECK(compileError(addOne("Host", "x", "OVERWRITE_IF_EXISTS_OR_ADD") + "virtual_hosts: []\n") ==
        "route_config.request_headers_to_add[0].header.key: 'host': ':'-prefixed or host headers "
        "may not be modified");
}

TEST_CASE("removing a pseudo-header or host is a compile error naming the level", "[router]") {
  CHECK(compileError(R"(virtual_hosts:
- name: vh
  domains: ["*"]
  routes:
  - {match: {prefix: /}, route: {cluster: a}, response_headers_to_remove: [x-ok, ":status"]}
)") == "route_config.virtual_hosts[0].routes[0].response_headers_to_remove[1]: ':status': "
       "':'-prefixed or host headers may not be removed");
  CHECK(compileError(R"(virtual_hosts:
- {name: vh, domains: ["*"], request_headers_to_remove: [HOST]}
)") == "route_config.virtual_hosts[0].request_headers_to_remove[0]: 'host': ':'-prefixed or "
       "host headers may not be removed");
}

TEST_CASE("an unknown formatter operator is a compile error naming the value", "[router]") {
  const std::string error = compileError(
      "response_headers_to_add: [{header: {key: x-a, value: \"%NOT_AN_OPERATOR%\"}}]\n"
      "virtual_hosts: []\n");
  CHECK(absl::StartsWith(error, "route_config.response_headers_to_add[0].header.value: "));
}

constexpr char kLevels[] = R"(
request_headers_to_add:
- {header: {key: x-winner, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
- {header: {key: x-order, value: config}}
response_headers_to_add:
- {header: {key: x-winner, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
virtual_hosts:
- name: vh
  domains: ["*"]
  request_headers_to_add:
  - {header: {key: x-winner, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
  - {header: {key: x-order, value: vhost}}
  response_headers_to_add:
  - {header: {key: x-winner, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
  routes:
  - match: {prefix: /}
    route: {cluster: a}
    request_headers_to_add:
    - {header: {key: x-winner, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
    - {header: {key: x-order, value: route}}
    response_headers_to_add:
    - {header: {key: x-winner, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
)";

struct Applied {
  http::HeaderMap request;
  http::HeaderMap response;
};

Applied applyAllLevels(const std::string& yaml) {
  auto table = mustCompile(yaml);
  Applied out;
  out.request = request("h", "/");
  const Route* route = table->route(out.request);
  REQUIRE(route != nullptr);
  http::StreamInfo info;
  info.request_headers = &out.request;
  applyRequestHeaderMutations(*route, *table, out.request, info);
  out.response.add(":status", "200");
  info.response_headers = &out.response;
  applyResponseHeaderMutations(*route, *table, out.response, info);
  return out;
}

TEST_CASE("header mutation levels apply route then virtual host then route configuration",
          "[router]") {
  Applied a = applyAllLevels(kLevels);
  CHECK(a.request.getJoined("x-order") == "route,vhost,config");
  CHECK(a.request.getJoined("x-winner") == "config");
  CHECK(a.response.getJoined("x-winner") == "config");
}

TEST_CASE("most_specific_header_mutations_wins applies the route level last", "[router]") {
  Applied a = applyAllLevels(absl::StrCat("most_specific_header_mutations_wins: true\n", kLevels));
  CHECK(a.request.getJoined("x-order") == "config,vhost,route");
  CHECK(a.request.getJoined("x-winner") == "route");
  CHECK(a.response.getJoined("x-winner") == "route");
}

}  // namespace
}  // namespace remora::router
