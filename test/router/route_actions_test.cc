// Specification of what a matched route does: cluster choice (incl. weighted splits), path and
// host rewrites, redirect Locations, direct responses, timeouts and the retry and hash policies it
// carries.
#include <xxhash.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "source/router/hash_policy.h"
#include "source/router/route_table.h"
#include "test/router/route_test_util.h"

namespace remora::router {
namespace {

using test::compileError;
using test::mustCompile;
using test::request;

// A table whose only route (catching everything) is `route_yaml`: the inside of one route item,
// e.g. "route: {cluster: a}".
std::shared_ptr<const RouteTable> single(const std::string& route_yaml,
                                         const std::string& match = "{prefix: /}") {
  return mustCompile(
      absl::StrCat("virtual_hosts:\n- name: vh\n  domains: [\"*\"]\n  routes:\n  - {",
                   "match: ", match, ", ", route_yaml, "}\n"));
}

std::string singleError(const std::string& route_yaml, const std::string& extra = "") {
  return compileError(
      absl::StrCat(extra, "virtual_hosts:\n- name: vh\n  domains: [\"*\"]\n  routes:\n  - {",
                   "match: {prefix: /}, ", route_yaml, "}\n"));
}

const Route& only(const RouteTable& table, const std::string& path = "/") {
  const Route* route = table.route(request("h", path));
  REQUIRE(route != nullptr);
  return *route;
}

// The :path after rewriteRequest.
std::string rewrittenPath(const RouteTable& table, const std::string& path) {
  http::HeaderMap headers = request("h", path);
  const Route* route = table.route(headers);
  REQUIRE(route != nullptr);
  route->rewriteRequest(headers);
  return std::string(headers.path());
}

std::string location(const std::string& redirect_yaml, const std::string& authority,
                     const std::string& path, test::Headers extra = {},
                     const std::string& match = "{prefix: /}") {
  auto table = single(absl::StrCat("redirect: ", redirect_yaml), match);
  http::HeaderMap headers = request(authority, path, extra);
  const Route* route = table->route(headers);
  REQUIRE(route != nullptr);
  REQUIRE(route->isRedirect());
  return route->redirectLocation(headers);
}

// --- Clusters -----------------------------------------------------------------------------------

TEST_CASE("a cluster action names its cluster", "[router]") {
  auto table = single("route: {cluster: backend}");
  const Route& route = only(*table);
  CHECK(route.clusterName(request("h", "/"), 7) == "backend");
  CHECK(route.directResponse() == nullptr);
  CHECK_FALSE(route.isRedirect());
}

TEST_CASE("cluster_header takes the cluster from the request header", "[router]") {
  auto table = single("route: {cluster_header: X-Cluster}");
  const Route& route = only(*table);
  CHECK(route.clusterName(request("h", "/", {{"x-cluster", "blue"}}), 0) == "blue");
  CHECK(route.clusterName(request("h", "/"), 0) == "");
}

TEST_CASE("cluster_not_found_response_code defaults to 503", "[router]") {
  CHECK(only(*single("route: {cluster: a}")).clusterNotFoundStatus() == 503);
  CHECK(only(*single("route: {cluster: a, cluster_not_found_response_code: NOT_FOUND}"))
            .clusterNotFoundStatus() == 404);
  CHECK(only(*single("route: {cluster: a, cluster_not_found_response_code: "
                     "INTERNAL_SERVER_ERROR}"))
            .clusterNotFoundStatus() == 500);
}

TEST_CASE("weighted clusters pick by random modulo the sum of weights", "[router]") {
  auto table = single(
      "route: {weighted_clusters: {clusters: [{name: a, weight: 30}, {name: b, weight: 70}]}}");
  const Route& route = only(*table);
  const http::HeaderMap headers = request("h", "/");
  CHECK(route.clusterName(headers, 0) == "a");
  CHECK(route.clusterName(headers, 29) == "a");
  CHECK(route.clusterName(headers, 30) == "b");
  CHECK(route.clusterName(headers, 99) == "b");
  CHECK(route.clusterName(headers, 100) == "a");
  CHECK(route.clusterName(headers, 130) == "b");
}

TEST_CASE("weighted clusters split traffic in proportion to their weights", "[router]") {
  auto table = single(
      "route: {weighted_clusters: {clusters: [{name: a, weight: 1}, {name: b, weight: 2}, "
      "{name: c, weight: 7}]}}");
  const Route& route = only(*table);
  const http::HeaderMap headers = request("h", "/");
  std::map<std::string, int> counts;
  for (uint64_t r = 0; r < 10000; ++r) counts[route.clusterName(headers, r * 7919)]++;
  CHECK(counts["a"] == 1000);
  CHECK(counts["b"] == 2000);
  CHECK(counts["c"] == 7000);
}

TEST_CASE("a weighted cluster with weight 0 is never picked", "[router]") {
  auto table = single(
      "route: {weighted_clusters: {clusters: [{name: a, weight: 0}, {name: b, weight: 5}]}}");
  const Route& route = only(*table);
  for (uint64_t r = 0; r < 20; ++r) CHECK(route.clusterName(request("h", "/"), r) == "b");
}

TEST_CASE("weighted clusters header_name supplies the random value when it parses", "[router]") {
  auto table = single(
      "route: {weighted_clusters: {header_name: x-pick, clusters: [{name: a, weight: 50}, "
      "{name: b, weight: 50}]}}");
  const Route& route = only(*table);
  CHECK(route.clusterName(request("h", "/", {{"x-pick", "75"}}), 0) == "b");
  CHECK(route.clusterName(request("h", "/", {{"x-pick", "junk"}}), 0) == "a");
  CHECK(route.clusterName(request("h", "/"), 60) == "b");
}

TEST_CASE("a weighted cluster entry may read its cluster from a header", "[router]") {
  auto table = single("route: {weighted_clusters: {clusters: [{cluster_header: x-c, weight: 1}]}}");
  CHECK(only(*table).clusterName(request("h", "/", {{"x-c", "dyn"}}), 3) == "dyn");
}

TEST_CASE("weighted clusters whose weights sum to 0 are a compile error", "[router]") {
  CHECK(singleError("route: {weighted_clusters: {clusters: [{name: a}, {name: b, weight: 0}]}}") ==
        "route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters: the sum of "
        "weights must be greater than 0");
}

TEST_CASE("a weighted cluster with both name and cluster_header is a compile error", "[router]") {
  CHECK(singleError("route: {weighted_clusters: {clusters: [{name: a, weight: 1}, {name: b, "
                    "cluster_header: x, weight: 1}]}}") ==
        "route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters[1]: only one of "
        "name and cluster_header may be set");
}

// --- Path and host rewrites ---------------------------------------------------------------------

TEST_CASE("prefix_rewrite replaces the matched prefix and keeps the query", "[router]") {
  auto table = single("route: {cluster: a, prefix_rewrite: /v2/}", "{prefix: /api/}");
  CHECK(rewrittenPath(*table, "/api/users?id=3") == "/v2/users?id=3");
}

TEST_CASE("prefix_rewrite needs two routes to strip a prefix with and without a trailing slash",
          "[router]") {
  auto table = mustCompile(R"(
virtual_hosts:
- name: vh
  domains: ["*"]
  routes:
  - {match: {prefix: /prefix/}, route: {cluster: a, prefix_rewrite: /}}
  - {match: {prefix: /prefix}, route: {cluster: a, prefix_rewrite: /}}
)");
  CHECK(rewrittenPath(*table, "/prefix") == "/");
  CHECK(rewrittenPath(*table, "/prefix/etc") == "/etc");
  // With only the second route "/prefix/etc" would become "//etc", as Envoy documents.
  auto one_route = single("route: {cluster: a, prefix_rewrite: /}", "{prefix: /prefix}");
  CHECK(rewrittenPath(*one_route, "/prefix/etc") == "//etc");
}

TEST_CASE("prefix_rewrite after a case-insensitive prefix replaces the matched bytes", "[router]") {
  auto table =
      single("route: {cluster: a, prefix_rewrite: /new}", "{prefix: /old, case_sensitive: false}");
  CHECK(rewrittenPath(*table, "/OLD/x") == "/new/x");
}

TEST_CASE("prefix_rewrite on a path or regex route replaces the whole path", "[router]") {
  auto by_path = single("route: {cluster: a, prefix_rewrite: /b}", "{path: /a}");
  CHECK(rewrittenPath(*by_path, "/a?q=1") == "/b?q=1");
  auto by_regex = single("route: {cluster: a, prefix_rewrite: /r}", "{safe_regex: {regex: /x/.*}}");
  CHECK(rewrittenPath(*by_regex, "/x/y/z?q=1") == "/r?q=1");
}

TEST_CASE("regex_rewrite substitutes capture groups in the path", "[router]") {
  auto table = single(
      "route: {cluster: a, regex_rewrite: {pattern: {regex: \"^/service/([^/]+)(/.*)$\"}, "
      "substitution: \"\\\\2/instance/\\\\1\"}}");
  CHECK(rewrittenPath(*table, "/service/foo/v1/api") == "/v1/api/instance/foo");
}

TEST_CASE("regex_rewrite replaces every match and keeps the query", "[router]") {
  auto table =
      single("route: {cluster: a, regex_rewrite: {pattern: {regex: one}, substitution: two}}");
  CHECK(rewrittenPath(*table, "/xxx/one/yyy/one/zzz?q=one") == "/xxx/two/yyy/two/zzz?q=one");
}

TEST_CASE("a rewrite keeps the original path in x-envoy-original-path", "[router]") {
  auto table = single("route: {cluster: a, prefix_rewrite: /b}", "{prefix: /a}");
  http::HeaderMap headers = request("h", "/a/x?y=1");
  only(*table, "/a/x").rewriteRequest(headers);
  CHECK(headers.path() == "/b/x?y=1");
  REQUIRE(headers.get("x-envoy-original-path") != nullptr);
  CHECK(*headers.get("x-envoy-original-path") == "/a/x?y=1");
}

TEST_CASE("without a path rewrite no x-envoy-original-path is added", "[router]") {
  auto table = single("route: {cluster: a}");
  http::HeaderMap headers = request("h", "/a");
  only(*table).rewriteRequest(headers);
  CHECK(headers.path() == "/a");
  CHECK_FALSE(headers.has("x-envoy-original-path"));
}

TEST_CASE("a regex_rewrite substitution naming a missing group is a compile error", "[router]") {
  CHECK(absl::StartsWith(
      singleError("route: {cluster: a, regex_rewrite: {pattern: {regex: \"(a)\"}, substitution: "
                  "\"\\\\2\"}}"),
      "route_config.virtual_hosts[0].routes[0].route.regex_rewrite.substitution: '\\2'"));
}

TEST_CASE("prefix_rewrite together with regex_rewrite is a compile error", "[router]") {
  CHECK(singleError("route: {cluster: a, prefix_rewrite: /x, regex_rewrite: {pattern: {regex: a}, "
                    "substitution: b}}") ==
        "route_config.virtual_hosts[0].routes[0].route: only one of prefix_rewrite, regex_rewrite "
        "or path_rewrite_policy may be set");
}

TEST_CASE("host_rewrite_literal replaces :authority", "[router]") {
  auto table = single("route: {cluster: a, host_rewrite_literal: upstream.internal}");
  http::HeaderMap headers = request("public.example.com", "/");
  only(*table).rewriteRequest(headers);
  CHECK(headers.authority() == "upstream.internal");
  CHECK_FALSE(headers.has("x-forwarded-host"));
}

TEST_CASE("host_rewrite_header copies a request header into :authority when non-empty",
          "[router]") {
  auto table = single("route: {cluster: a, host_rewrite_header: x-host}");
  http::HeaderMap with = request("h", "/", {{"x-host", "other"}});
  only(*table).rewriteRequest(with);
  CHECK(with.authority() == "other");
  http::HeaderMap empty = request("h", "/", {{"x-host", ""}});
  only(*table).rewriteRequest(empty);
  CHECK(empty.authority() == "h");
}

TEST_CASE("host_rewrite_path_regex derives :authority from the path", "[router]") {
  auto table = single(
      "route: {cluster: a, host_rewrite_path_regex: {pattern: {regex: \"^/(.+)/.+$\"}, "
      "substitution: \"\\\\1\"}}");
  http::HeaderMap headers = request("h", "/envoyproxy.io/some/path?q=1");
  only(*table).rewriteRequest(headers);
  CHECK(headers.authority() == "envoyproxy.io/some");
  CHECK(headers.path() == "/envoyproxy.io/some/path?q=1");
}

TEST_CASE("append_x_forwarded_host records the replaced host once", "[router]") {
  auto table =
      single("route: {cluster: a, host_rewrite_literal: new.host, append_x_forwarded_host: true}");
  http::HeaderMap fresh = request("old.host", "/");
  only(*table).rewriteRequest(fresh);
  CHECK(fresh.getJoined("x-forwarded-host") == "old.host");
  http::HeaderMap chained = request("old.host", "/", {{"x-forwarded-host", "edge.host"}});
  only(*table).rewriteRequest(chained);
  CHECK(chained.getJoined("x-forwarded-host") == "edge.host,old.host");
  http::HeaderMap repeated = request("old.host", "/", {{"x-forwarded-host", "old.host"}});
  only(*table).rewriteRequest(repeated);
  CHECK(repeated.getJoined("x-forwarded-host") == "old.host");
}

TEST_CASE("auto_host_rewrite is reported for the caller to apply", "[router]") {
  CHECK(only(*single("route: {cluster: a, auto_host_rewrite: true}")).autoHostRewrite());
  CHECK_FALSE(only(*single("route: {cluster: a}")).autoHostRewrite());
}

// --- Timeouts and retry policies ----------------------------------------------------------------

TEST_CASE("the route timeout defaults to 15 s and 0 disables it", "[router]") {
  using std::chrono::milliseconds;
  CHECK(only(*single("route: {cluster: a}")).timeout() == milliseconds(15000));
  CHECK(only(*single("route: {cluster: a, timeout: 2.5s}")).timeout() == milliseconds(2500));
  CHECK(only(*single("route: {cluster: a, timeout: 0s}")).timeout() == milliseconds(0));
}

TEST_CASE("the route idle_timeout is unset unless configured", "[router]") {
  using std::chrono::milliseconds;
  CHECK_FALSE(only(*single("route: {cluster: a}")).idleTimeout().has_value());
  CHECK(only(*single("route: {cluster: a, idle_timeout: 30s}")).idleTimeout() ==
        milliseconds(30000));
  CHECK(only(*single("route: {cluster: a, idle_timeout: 0s}")).idleTimeout() == milliseconds(0));
}

TEST_CASE("a route retry_policy replaces the virtual host one entirely", "[router]") {
  auto table = mustCompile(R"(
virtual_hosts:
- name: vh
  domains: ["*"]
  retry_policy: {retry_on: 5xx, num_retries: 4}
  routes:
  - {match: {prefix: /own}, route: {cluster: a, retry_policy: {retry_on: reset}}}
  - {match: {prefix: /}, route: {cluster: a}}
)");
  const RetryPolicy* own = only(*table, "/own").retryPolicy();
  REQUIRE(own != nullptr);
  CHECK(own->retry_on == kRetryReset);
  CHECK(own->num_retries == 1);
  const RetryPolicy* inherited = only(*table, "/other").retryPolicy();
  REQUIRE(inherited != nullptr);
  CHECK(inherited->retry_on == kRetry5xx);
  CHECK(inherited->num_retries == 4);
  CHECK(only(*single("route: {cluster: a}")).retryPolicy() == nullptr);
}

TEST_CASE("an invalid retry back-off is a compile error naming the route field", "[router]") {
  CHECK(singleError("route: {cluster: a, retry_policy: {retry_back_off: {base_interval: 1s, "
                    "max_interval: 0.5s}}}") ==
        "route_config.virtual_hosts[0].routes[0].route.retry_policy.retry_back_off.max_interval: "
        "must be greater than or equal to base_interval");
}

TEST_CASE("a route hash_policy is compiled from the route action", "[router]") {
  auto table = mustCompile(R"(
virtual_hosts:
- name: vh
  domains: ["*"]
  routes:
  - match: {prefix: /sticky}
    route:
      cluster: a
      hash_policy:
      - header: {header_name: x-user}
        terminal: true
      - cookie: {name: session, ttl: 60s, path: /}
      - connection_properties: {source_ip: true}
      - query_parameter: {name: shard}
  - {match: {prefix: /}, route: {cluster: a}}
)");
  const HashPolicy* policy = only(*table, "/sticky").hashPolicy();
  REQUIRE(policy != nullptr);
  http::StreamInfo info;
  std::vector<std::string> set_cookies;
  const uint64_t alice = XXH64("alice", 5, 0);
  CHECK(policy->generateHash(request("h", "/sticky", {{"x-user", "alice"}}), info, set_cookies) ==
        alice);
  CHECK(set_cookies.empty());
  CHECK(only(*table, "/other").hashPolicy() == nullptr);
}

TEST_CASE("an unsupported hash_policy is a compile error naming the route field", "[router]") {
  CHECK(singleError("route: {cluster: a, hash_policy: [{filter_state: {key: k}}]}") ==
        "route_config.virtual_hosts[0].routes[0].route.hash_policy[0].filter_state: "
        "not supported by Remora");
}

// --- Redirects ----------------------------------------------------------------------------------

TEST_CASE("a redirect defaults to 301 and keeps scheme host and path", "[router]") {
  auto table = single("redirect: {host_redirect: new.example.com}");
  const Route& route = only(*table);
  CHECK(route.isRedirect());
  CHECK(route.redirectStatus() == 301);
  CHECK(route.clusterName(request("h", "/"), 0) == "");
  CHECK(location("{host_redirect: new.example.com}", "old.example.com", "/a/b?c=d") ==
        "http://new.example.com/a/b?c=d");
}

TEST_CASE("redirect response codes map to their statuses", "[router]") {
  const std::pair<const char*, uint32_t> codes[] = {{"MOVED_PERMANENTLY", 301},
                                                    {"FOUND", 302},
                                                    {"SEE_OTHER", 303},
                                                    {"TEMPORARY_REDIRECT", 307},
                                                    {"PERMANENT_REDIRECT", 308}};
  for (const auto& [name, status] : codes) {
    auto table = single(absl::StrCat("redirect: {path_redirect: /x, response_code: ", name, "}"));
    CHECK(only(*table).redirectStatus() == status);
  }
}

TEST_CASE("https_redirect switches the scheme and drops an explicit :80", "[router]") {
  CHECK(location("{https_redirect: true}", "example.com:80", "/p") == "https://example.com/p");
  CHECK(location("{https_redirect: true}", "example.com:8080", "/p") ==
        "https://example.com:8080/p");
  CHECK(location("{https_redirect: true}", "example.com", "/p") == "https://example.com/p");
}

TEST_CASE("scheme_redirect to http drops an explicit :443 from an https request", "[router]") {
  CHECK(location("{scheme_redirect: http}", "example.com:443", "/p",
                 {{"x-forwarded-proto", "https"}}) == "http://example.com/p");
  CHECK(location("{scheme_redirect: https}", "example.com:443", "/p",
                 {{"x-forwarded-proto", "https"}}) == "https://example.com:443/p");
}

TEST_CASE("port_redirect replaces the request port", "[router]") {
  CHECK(location("{port_redirect: 8443}", "example.com:8080", "/p") == "http://example.com:8443/p");
  CHECK(location("{port_redirect: 8443}", "[::1]:8080", "/p") == "http://[::1]:8443/p");
  CHECK(location("{host_redirect: other.com, port_redirect: 9000}", "example.com:8080", "/p") ==
        "http://other.com:9000/p");
}

TEST_CASE("path_redirect keeps the request query unless strip_query", "[router]") {
  CHECK(location("{path_redirect: /new-path-1}", "h", "/old-path-1?bar=1") ==
        "http://h/new-path-1?bar=1");
  CHECK(location("{path_redirect: /new-path-2, strip_query: true}", "h", "/old-path-2?bar=1") ==
        "http://h/new-path-2");
}

TEST_CASE("a query in path_redirect replaces the request query and survives strip_query",
          "[router]") {
  CHECK(location("{path_redirect: \"/new-path-3?foo=1\", strip_query: true}", "h",
                 "/old-path-3?bar=1") == "http://h/new-path-3?foo=1");
}

TEST_CASE("a redirect prefix_rewrite swaps the matched prefix", "[router]") {
  CHECK(location("{prefix_rewrite: /v2/}", "h", "/v1/users?id=1", {}, "{prefix: /v1/}") ==
        "http://h/v2/users?id=1");
  CHECK(location("{prefix_rewrite: /v2/, strip_query: true}", "h", "/v1/users?id=1", {},
                 "{prefix: /v1/}") == "http://h/v2/users");
}

TEST_CASE("a redirect regex_rewrite rewrites the path and keeps the query", "[router]") {
  CHECK(location("{regex_rewrite: {pattern: {regex: \"^/service/([^/]+)(/.*)$\"}, substitution: "
                 "\"\\\\2/instance/\\\\1\"}}",
                 "h", "/service/foo/v1/api?x=1") == "http://h/v1/api/instance/foo?x=1");
}

// --- Direct responses ---------------------------------------------------------------------------

TEST_CASE("a direct response carries its status and inline body", "[router]") {
  auto table = single("direct_response: {status: 418, body: {inline_string: \"short and stout\"}}");
  const DirectResponse* response = only(*table).directResponse();
  REQUIRE(response != nullptr);
  CHECK(response->status == 418);
  CHECK(response->body == "short and stout");
  CHECK_FALSE(only(*table).isRedirect());
}

TEST_CASE("a direct response body may be inline bytes or absent", "[router]") {
  auto bytes = single("direct_response: {status: 200, body: {inline_bytes: aGVsbG8=}}");
  CHECK(only(*bytes).directResponse()->body == "hello");
  auto none = single("direct_response: {status: 204}");
  CHECK(only(*none).directResponse()->body.empty());
}

TEST_CASE("a direct response body may come from a file", "[router]") {
  const std::string file = "/tmp/remora-router-test-body.txt";
  {
    std::ofstream out(file);
    out << "from a file";
  }
  auto table = single(absl::StrCat("direct_response: {status: 200, body: {filename: ", file, "}}"));
  CHECK(only(*table).directResponse()->body == "from a file");
  std::remove(file.c_str());
  CHECK(singleError("direct_response: {status: 200, body: {filename: /nonexistent/remora}}") ==
        "route_config.virtual_hosts[0].routes[0].direct_response.body.filename: cannot read "
        "'/nonexistent/remora'");
}

TEST_CASE("a direct response status outside 200-599 is a compile error", "[router]") {
  CHECK(singleError("direct_response: {status: 100}") ==
        "route_config.virtual_hosts[0].routes[0].direct_response.status: 100 is out of range "
        "(200-599)");
  CHECK(!singleError("direct_response: {status: 600}").empty());
}

TEST_CASE("a direct response body above the size limit is a compile error", "[router]") {
  const std::string body(5000, 'x');
  const std::string route =
      absl::StrCat("direct_response: {status: 200, body: {inline_string: ", body, "}}");
  CHECK(singleError(route) ==
        "route_config.virtual_hosts[0].routes[0].direct_response.body: is 5000 bytes, more than "
        "max_direct_response_body_size_bytes (4096)");
  CHECK(singleError(route, "max_direct_response_body_size_bytes: 8192\n").empty());
}

}  // namespace
}  // namespace remora::router
