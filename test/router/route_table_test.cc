// Specification of route selection: virtual hosts by domain (exact > *.suffix > prefix.* > *),
// then routes in order by path, headers, query parameters and grpc; and the config errors that
// RouteTable::compile reports with their field paths.
#include "source/router/route_table.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "test/router/route_test_util.h"

namespace remora::router {
namespace {

using test::compileError;
using test::mustCompile;
using test::request;
using test::routed;
using test::vhostFor;

// One virtual host per (name, domains) pair, each with a catch-all route.
std::string vhosts(const std::vector<std::pair<std::string, std::vector<std::string>>>& hosts,
                   const std::string& extra = "") {
  std::string yaml = extra + "virtual_hosts:\n";
  for (const auto& [name, domains] : hosts) {
    std::vector<std::string> quoted;
    for (const auto& d : domains) quoted.push_back(absl::StrCat("\"", d, "\""));
    absl::StrAppend(&yaml, "- name: ", name, "\n  domains: [", absl::StrJoin(quoted, ", "),
                    "]\n  routes: [{match: {prefix: /}, route: {cluster: c}}]\n");
  }
  return yaml;
}

// A single virtual host for every domain with the given routes (YAML list items, indented 2).
std::string routes(const std::string& route_items, const std::string& extra = "") {
  return absl::StrCat(extra, "virtual_hosts:\n- name: vh\n  domains: [\"*\"]\n  routes:\n",
                      route_items);
}

// --- Virtual hosts ------------------------------------------------------------------------------

TEST_CASE("an exact domain selects its virtual host ignoring case on both sides", "[router]") {
  auto table = mustCompile(vhosts({{"foo", {"Foo.Example.COM"}}, {"bar", {"bar.example.com"}}}));
  CHECK(vhostFor(*table, "foo.example.com") == "foo");
  CHECK(vhostFor(*table, "FOO.example.com") == "foo");
  CHECK(vhostFor(*table, "BAR.EXAMPLE.COM") == "bar");
  CHECK(vhostFor(*table, "baz.example.com") == "none");
}

TEST_CASE("an exact domain wins over suffix and prefix wildcards and the default", "[router]") {
  auto table = mustCompile(vhosts({{"default", {"*"}},
                                   {"prefix", {"api.*"}},
                                   {"suffix", {"*.foo.com"}},
                                   {"exact", {"api.foo.com"}}}));
  CHECK(vhostFor(*table, "api.foo.com") == "exact");
}

TEST_CASE("a suffix wildcard wins over a prefix wildcard", "[router]") {
  auto table =
      mustCompile(vhosts({{"default", {"*"}}, {"prefix", {"api.*"}}, {"suffix", {"*.foo.com"}}}));
  CHECK(vhostFor(*table, "api.foo.com") == "suffix");
  CHECK(vhostFor(*table, "api.bar.com") == "prefix");
  CHECK(vhostFor(*table, "www.bar.com") == "default");
}

TEST_CASE("the longest suffix wildcard wins", "[router]") {
  auto table = mustCompile(vhosts({{"short", {"*.foo.com"}}, {"long", {"*.bar.foo.com"}}}));
  CHECK(vhostFor(*table, "a.bar.foo.com") == "long");
  CHECK(vhostFor(*table, "a.baz.foo.com") == "short");
}

TEST_CASE("the longest prefix wildcard wins", "[router]") {
  auto table = mustCompile(vhosts({{"short", {"foo.*"}}, {"long", {"foo.bar.*"}}}));
  CHECK(vhostFor(*table, "foo.bar.com") == "long");
  CHECK(vhostFor(*table, "foo.baz.com") == "short");
}

TEST_CASE("a domain wildcard does not match the empty string", "[router]") {
  auto table =
      mustCompile(vhosts({{"default", {"*"}}, {"dash", {"*-bar.foo.com"}}, {"prefix", {"foo-*"}}}));
  CHECK(vhostFor(*table, "baz-bar.foo.com") == "dash");
  CHECK(vhostFor(*table, "-bar.foo.com") == "default");
  CHECK(vhostFor(*table, "foo-") == "default");
  CHECK(vhostFor(*table, "foo-x") == "prefix");
}

TEST_CASE("without a * virtual host an unknown domain has no route", "[router]") {
  auto table = mustCompile(vhosts({{"foo", {"foo.com"}}}));
  CHECK(table->route(request("other.com", "/")) == nullptr);
}

TEST_CASE("by default the port in :authority takes part in domain matching", "[router]") {
  auto table = mustCompile(vhosts({{"default", {"*"}},
                                   {"plain", {"foo.com"}},
                                   {"with_port", {"foo.com:8080"}},
                                   {"suffix", {"*.bar.com"}}}));
  CHECK(vhostFor(*table, "foo.com") == "plain");
  CHECK(vhostFor(*table, "foo.com:8080") == "with_port");
  CHECK(vhostFor(*table, "foo.com:9090") == "default");
  CHECK(vhostFor(*table, "a.bar.com:443") == "default");
}

TEST_CASE("ignore_port_in_host_matching drops the port before matching domains", "[router]") {
  auto table =
      mustCompile(vhosts({{"foo", {"foo.com"}}, {"suffix", {"*.bar.com"}}, {"v6", {"[::1]"}}},
                         "ignore_port_in_host_matching: true\n"));
  CHECK(vhostFor(*table, "foo.com:9090") == "foo");
  CHECK(vhostFor(*table, "a.bar.com:443") == "suffix");
  CHECK(vhostFor(*table, "[::1]:80") == "v6");
  CHECK(vhostFor(*table, "[::1]") == "v6");
}

TEST_CASE("a domain used by two virtual hosts is a compile error naming the second", "[router]") {
  CHECK(compileError(vhosts({{"a", {"x.com"}}, {"b", {"y.com", "X.com"}}})) ==
        "route_config.virtual_hosts[1].domains[1]: domain 'x.com' is already used by virtual host "
        "'a'; domains must be unique across virtual hosts");
}

TEST_CASE("two virtual hosts with the * domain are a compile error", "[router]") {
  CHECK(absl::StartsWith(compileError(vhosts({{"a", {"*"}}, {"b", {"*"}}})),
                         "route_config.virtual_hosts[1].domains[0]: only one virtual host may use "
                         "the wildcard domain '*'"));
}

TEST_CASE("a wildcard inside a domain is a compile error", "[router]") {
  CHECK(compileError(vhosts({{"a", {"foo.*.com"}}})) ==
        "route_config.virtual_hosts[0].domains[0]: 'foo.*.com': a wildcard '*' may only be the "
        "first or the last character");
  CHECK(!compileError(vhosts({{"a", {"*foo*"}}})).empty());
}

TEST_CASE("duplicate virtual host names are a compile error", "[router]") {
  CHECK(compileError(vhosts({{"a", {"x.com"}}, {"a", {"y.com"}}})) ==
        "route_config.virtual_hosts[1].name: duplicate virtual host name 'a'");
}

TEST_CASE("a virtual host without domains is a compile error", "[router]") {
  CHECK(compileError("virtual_hosts: [{name: a}]") ==
        "route_config.virtual_hosts[0].domains: at least one domain is required");
}

// --- Path matching ------------------------------------------------------------------------------

TEST_CASE("routes are tried in order and the first match wins", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: api, match: {prefix: /api}, route: {cluster: a}}
  - {name: api_v2, match: {prefix: /api/v2}, route: {cluster: b}}
  - {name: rest, match: {prefix: /}, route: {cluster: c}}
)"));
  CHECK(routed(*table, request("h", "/api/v2/x")) == "api");
  CHECK(routed(*table, request("h", "/other")) == "rest");
}

TEST_CASE("a prefix matches the start of the path without its query string", "[router]") {
  auto table = mustCompile(routes("  - {name: r, match: {prefix: /api}, route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/api")) == "r");
  CHECK(routed(*table, request("h", "/apiary")) == "r");
  CHECK(routed(*table, request("h", "/ap?i=1")) == "none");
  CHECK(routed(*table, request("h", "/API")) == "none");
}

TEST_CASE("a path matches the whole path without its query string", "[router]") {
  auto table = mustCompile(routes("  - {name: r, match: {path: /a/b}, route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/a/b")) == "r");
  CHECK(routed(*table, request("h", "/a/b?x=1")) == "r");
  CHECK(routed(*table, request("h", "/a/b#frag")) == "r");
  CHECK(routed(*table, request("h", "/a/b/")) == "none");
  CHECK(routed(*table, request("h", "/a")) == "none");
}

TEST_CASE("case_sensitive false makes prefix and path matching ignore case", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: p, match: {path: /Exact, case_sensitive: false}, route: {cluster: a}}
  - {name: pre, match: {prefix: /Api/, case_sensitive: false}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/eXACT")) == "p");
  CHECK(routed(*table, request("h", "/API/x")) == "pre");
}

TEST_CASE("a safe_regex must match the entire path without its query string", "[router]") {
  auto table = mustCompile(routes(
      "  - {name: r, match: {safe_regex: {regex: \"/v[0-9]+/[a-z]+\"}}, route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/v12/users")) == "r");
  CHECK(routed(*table, request("h", "/v12/users?limit=3")) == "r");
  CHECK(routed(*table, request("h", "/v12/users/7")) == "none");
  CHECK(routed(*table, request("h", "/x/v12/users")) == "none");
}

TEST_CASE("case_sensitive does not apply to safe_regex", "[router]") {
  auto table =
      mustCompile(routes("  - {name: r, match: {safe_regex: {regex: /abc}, case_sensitive: false}, "
                         "route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/abc")) == "r");
  CHECK(routed(*table, request("h", "/ABC")) == "none");
}

TEST_CASE("path_separated_prefix matches whole path segments only", "[router]") {
  auto table = mustCompile(
      routes("  - {name: r, match: {path_separated_prefix: /api/dev}, route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/api/dev")) == "r");
  CHECK(routed(*table, request("h", "/api/dev/")) == "r");
  CHECK(routed(*table, request("h", "/api/dev/v1")) == "r");
  CHECK(routed(*table, request("h", "/api/dev?param=true")) == "r");
  CHECK(routed(*table, request("h", "/api/developer")) == "none");
}

TEST_CASE("ignore_path_parameters_in_path_matching drops path parameters before matching",
          "[router]") {
  const std::string items = "  - {name: r, match: {path: /a/b}, route: {cluster: a}}\n";
  auto plain = mustCompile(routes(items));
  auto ignoring = mustCompile(routes(items, "ignore_path_parameters_in_path_matching: true\n"));
  CHECK(routed(*plain, request("h", "/a/b;v=1?q")) == "none");
  CHECK(routed(*ignoring, request("h", "/a/b;v=1?q")) == "r");
}

// --- Header matching ----------------------------------------------------------------------------

TEST_CASE("header string_match supports exact prefix suffix contains and regex", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: exact, match: {prefix: /, headers: [{name: X-Kind, string_match: {exact: one}}]}, route: {cluster: a}}
  - {name: prefix, match: {prefix: /, headers: [{name: x-kind, string_match: {prefix: pre}}]}, route: {cluster: a}}
  - {name: suffix, match: {prefix: /, headers: [{name: x-kind, string_match: {suffix: fix}}]}, route: {cluster: a}}
  - {name: contains, match: {prefix: /, headers: [{name: x-kind, string_match: {contains: mid}}]}, route: {cluster: a}}
  - {name: regex, match: {prefix: /, headers: [{name: x-kind, string_match: {safe_regex: {regex: "[0-9]{3}"}}}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/", {{"x-kind", "one"}})) == "exact");
  CHECK(routed(*table, request("h", "/", {{"x-kind", "prelude"}})) == "prefix");
  CHECK(routed(*table, request("h", "/", {{"x-kind", "postfix"}})) == "suffix");
  CHECK(routed(*table, request("h", "/", {{"x-kind", "amidst"}})) == "contains");
  CHECK(routed(*table, request("h", "/", {{"x-kind", "123"}})) == "regex");
  CHECK(routed(*table, request("h", "/", {{"x-kind", "1234"}})) == "none");
  CHECK(routed(*table, request("h", "/")) == "none");
}

TEST_CASE("header string_match ignore_case compares without case", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: exact, match: {prefix: /, headers: [{name: a, string_match: {exact: One, ignore_case: true}}]}, route: {cluster: a}}
  - {name: contains, match: {prefix: /, headers: [{name: b, string_match: {contains: MiD, ignore_case: true}}]}, route: {cluster: a}}
  - {name: strict, match: {prefix: /, headers: [{name: c, string_match: {exact: One}}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/", {{"a", "oNE"}})) == "exact");
  CHECK(routed(*table, request("h", "/", {{"b", "aMIDst"}})) == "contains");
  CHECK(routed(*table, request("h", "/", {{"c", "one"}})) == "none");
}

TEST_CASE("a header sent several times is matched on its comma-joined values", "[router]") {
  auto table = mustCompile(routes(
      "  - {name: r, match: {prefix: /, headers: [{name: x-v, string_match: {exact: \"a,b\"}}]}, "
      "route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/", {{"x-v", "a"}, {"x-v", "b"}})) == "r");
  CHECK(routed(*table, request("h", "/", {{"x-v", "a"}})) == "none");
}

TEST_CASE("present_match true needs the header and false needs it absent", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: has, match: {prefix: /, headers: [{name: x-a, present_match: true}]}, route: {cluster: a}}
  - {name: lacks, match: {prefix: /, headers: [{name: x-b, present_match: false}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/", {{"x-a", ""}})) == "has");
  CHECK(routed(*table, request("h", "/", {{"x-b", "1"}})) == "none");
  CHECK(routed(*table, request("h", "/")) == "lacks");
}

TEST_CASE("a header matcher with only a name matches on presence", "[router]") {
  auto table = mustCompile(
      routes("  - {name: r, match: {prefix: /, headers: [{name: x-a}]}, route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/", {{"x-a", "v"}})) == "r");
  CHECK(routed(*table, request("h", "/")) == "none");
}

TEST_CASE("range_match accepts whole integers from start up to but excluding end", "[router]") {
  auto table =
      mustCompile(routes("  - {name: r, match: {prefix: /, headers: [{name: x-n, range_match: "
                         "{start: -10, end: 0}}]}, "
                         "route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/", {{"x-n", "-1"}})) == "r");
  CHECK(routed(*table, request("h", "/", {{"x-n", "-10"}})) == "r");
  CHECK(routed(*table, request("h", "/", {{"x-n", "0"}})) == "none");
  CHECK(routed(*table, request("h", "/", {{"x-n", "-1somestring"}})) == "none");
  CHECK(routed(*table, request("h", "/", {{"x-n", "-1.5"}})) == "none");
  CHECK(routed(*table, request("h", "/", {{"x-n", " -1"}})) == "none");
  CHECK(routed(*table, request("h", "/", {{"x-n", ""}})) == "none");
}

TEST_CASE("invert_match inverts the result for a present header", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: r, match: {prefix: /, headers: [{name: x-n, range_match: {start: -10, end: 0}, invert_match: true}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/", {{"x-n", "-1"}})) == "none");
  CHECK(routed(*table, request("h", "/", {{"x-n", "5"}})) == "r");
}

TEST_CASE("an inverted matcher does not match a missing header", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: r, match: {prefix: /, headers: [{name: x-n, range_match: {start: 0, end: 10}, invert_match: true}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/")) == "none");
}

TEST_CASE("treat_missing_header_as_empty matches a missing header as the empty string",
          "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: inverted_range, match: {prefix: /a, headers: [{name: x-n, range_match: {start: 0, end: 10}, invert_match: true, treat_missing_header_as_empty: true}]}, route: {cluster: a}}
  - {name: empty_regex, match: {prefix: /b, headers: [{name: x-e, string_match: {safe_regex: {regex: "^$"}}, treat_missing_header_as_empty: true}]}, route: {cluster: a}}
  - {name: strict_regex, match: {prefix: /c, headers: [{name: x-e, string_match: {safe_regex: {regex: "^$"}}}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/a")) == "inverted_range");
  CHECK(routed(*table, request("h", "/b")) == "empty_regex");
  CHECK(routed(*table, request("h", "/c")) == "none");
}

TEST_CASE("a present_match inverted matches when the header is absent", "[router]") {
  auto table = mustCompile(routes(
      "  - {name: r, match: {prefix: /, headers: [{name: x-a, present_match: true, invert_match: "
      "true}]}, route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/")) == "r");
  CHECK(routed(*table, request("h", "/", {{"x-a", "1"}})) == "none");
}

TEST_CASE("every header matcher of a route must match", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: r, match: {prefix: /, headers: [{name: ":method", string_match: {exact: POST}}, {name: x-a, present_match: true}]}, route: {cluster: a}}
)"));
  http::HeaderMap post = request("h", "/", {{"x-a", "1"}});
  post.set(":method", "POST");
  CHECK(routed(*table, post) == "r");
  CHECK(routed(*table, request("h", "/", {{"x-a", "1"}})) == "none");
}

// --- Query parameters and grpc ------------------------------------------------------------------

TEST_CASE("query_parameters string_match compares the first value of the parameter", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: r, match: {prefix: /, query_parameters: [{name: debug, string_match: {exact: "1"}}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/x?debug=1")) == "r");
  CHECK(routed(*table, request("h", "/x?a=b&debug=1#frag")) == "r");
  CHECK(routed(*table, request("h", "/x?debug=2&debug=1")) == "none");
  CHECK(routed(*table, request("h", "/x?debugger=1")) == "none");
  CHECK(routed(*table, request("h", "/x")) == "none");
}

TEST_CASE("query_parameters values are compared still percent-encoded", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: r, match: {prefix: /, query_parameters: [{name: q, string_match: {exact: "a%20b"}}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/?q=a%20b")) == "r");
  CHECK(routed(*table, request("h", "/?q=a b")) == "none");
}

TEST_CASE("query_parameters present_match needs the name with or without a value", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: r, match: {prefix: /, query_parameters: [{name: flag, present_match: true}]}, route: {cluster: a}}
)"));
  CHECK(routed(*table, request("h", "/?flag")) == "r");
  CHECK(routed(*table, request("h", "/?x=1&flag=")) == "r");
  CHECK(routed(*table, request("h", "/?flags=1")) == "none");
  CHECK(routed(*table, request("h", "/flag")) == "none");
}

TEST_CASE("a grpc route matches only gRPC content types", "[router]") {
  auto table =
      mustCompile(routes("  - {name: r, match: {prefix: /, grpc: {}}, route: {cluster: a}}\n"));
  CHECK(routed(*table, request("h", "/", {{"content-type", "application/grpc"}})) == "r");
  CHECK(routed(*table, request("h", "/", {{"content-type", "application/grpc+proto"}})) == "r");
  CHECK(routed(*table, request("h", "/", {{"content-type", "application/grpc-web"}})) == "none");
  CHECK(routed(*table, request("h", "/")) == "none");
}

// --- Compile errors -----------------------------------------------------------------------------

TEST_CASE("an invalid route regex is a compile error naming the regex field", "[router]") {
  const std::string error =
      compileError(routes("  - {match: {safe_regex: {regex: \"/(a\"}}, route: {cluster: a}}\n"));
  CHECK(absl::StartsWith(
      error,
      "route_config.virtual_hosts[0].routes[0].match.safe_regex.regex: invalid regex '/(a'"));
}

TEST_CASE("an invalid header regex is a compile error naming the regex field", "[router]") {
  const std::string error = compileError(routes(
      "  - {match: {prefix: /, headers: [{name: a, string_match: {safe_regex: {regex: \"[\"}}}]}, "
      "route: {cluster: a}}\n"));
  CHECK(absl::StartsWith(error,
                         "route_config.virtual_hosts[0].routes[0].match.headers[0].string_match."
                         "safe_regex.regex: invalid regex '['"));
}

TEST_CASE("a regex above the program size limit is a compile error", "[router]") {
  const std::string error = compileError(
      routes("  - {match: {safe_regex: {regex: \"/(abc|xyz){40}\"}}, route: {cluster: a}}\n"));
  CHECK(absl::StrContains(error, "program size"));
}

TEST_CASE("a route without a path specifier is a compile error", "[router]") {
  CHECK(compileError(routes("  - {match: {headers: [{name: a}]}, route: {cluster: a}}\n")) ==
        "route_config.virtual_hosts[0].routes[0].match: one of prefix, path, safe_regex or "
        "path_separated_prefix is required");
}

TEST_CASE("a path_separated_prefix ending in a slash is a compile error", "[router]") {
  CHECK(absl::StartsWith(
      compileError(routes("  - {match: {path_separated_prefix: /api/}, route: {cluster: a}}\n")),
      "route_config.virtual_hosts[0].routes[0].match.path_separated_prefix: '/api/'"));
}

TEST_CASE("a route without an action is a compile error", "[router]") {
  CHECK(compileError(routes("  - {match: {prefix: /}}\n")) ==
        "route_config.virtual_hosts[0].routes[0]: one of route, redirect or direct_response is "
        "required");
}

TEST_CASE("a route action without a cluster is a compile error", "[router]") {
  CHECK(compileError(routes("  - {match: {prefix: /}, route: {timeout: 1s}}\n")) ==
        "route_config.virtual_hosts[0].routes[0].route: one of cluster, cluster_header or "
        "weighted_clusters is required");
}

TEST_CASE("an empty string_match prefix is a compile error", "[router]") {
  CHECK(compileError(routes("  - {match: {prefix: /, headers: [{name: a, string_match: {prefix: "
                            "\"\"}}]}, route: {cluster: a}}\n")) ==
        "route_config.virtual_hosts[0].routes[0].match.headers[0].string_match.prefix: must not "
        "be empty");
}

TEST_CASE("connect_matcher matches CONNECT requests and path routes do not", "[router]") {
  auto table = mustCompile(routes(R"(
  - {name: plain, match: {prefix: /}, route: {cluster: a}}
  - {name: tunnel, match: {connect_matcher: {}}, route: {cluster: b}}
)"));
  http::HeaderMap connect;
  connect.add(":method", "CONNECT");
  connect.add(":authority", "example.com:443");
  CHECK(routed(*table, connect) == "tunnel");
  CHECK(routed(*table, request("example.com", "/x")) == "plain");
}

TEST_CASE("referencedClusters lists static cluster names once each", "[router]") {
  auto table = mustCompile(routes(R"(
  - {match: {prefix: /a}, route: {cluster: one}}
  - {match: {prefix: /b}, route: {weighted_clusters: {clusters: [{name: two, weight: 1}, {name: one, weight: 1}]}}}
  - {match: {prefix: /c}, route: {cluster_header: x-cluster}}
  - {match: {prefix: /d}, direct_response: {status: 200}}
)"));
  CHECK(table->referencedClusters() == std::vector<std::string>{"one", "two"});
}

}  // namespace
}  // namespace remora::router
