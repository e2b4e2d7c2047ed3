#include "source/router/route_index.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "test/router/route_test_util.h"

namespace remora::router {
namespace {

using Kind = RouteIndex::Key::Kind;

// Every candidate the index visits, with nothing stopping the walk.
std::vector<uint32_t> candidates(const RouteIndex& index, absl::string_view path) {
  std::vector<uint32_t> out;
  index.forEachCandidate(path, [&](uint32_t i) {
    out.push_back(i);
    return false;
  });
  return out;
}

// The definition the index must agree with: every key that admits the path, in route order.
std::vector<uint32_t> admitted(const std::vector<RouteIndex::Key>& keys, absl::string_view path) {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < keys.size(); ++i) {
    const auto& k = keys[i];
    if (k.kind == Kind::kAlways || (k.kind == Kind::kExact && path == k.value) ||
        (k.kind == Kind::kPrefix && absl::StartsWith(path, k.value))) {
      out.push_back(i);
    }
  }
  return out;
}

std::string randomPath(std::mt19937& rng, size_t max_len) {
  // A small alphabet, so that random prefixes and paths collide often.
  static constexpr char kAlphabet[] = "/ab";
  std::string s;
  const size_t len = rng() % (max_len + 1);
  for (size_t i = 0; i < len; ++i) s.push_back(kAlphabet[rng() % 3]);
  return s;
}

TEST_CASE("the route index visits exactly the admitting routes, in route order", "[router]") {
  std::mt19937 rng(12345);
  int tables = 0;
  int mismatches = 0;
  for (int t = 0; t < 200; ++t, ++tables) {
    std::vector<RouteIndex::Key> keys(1 + rng() % 60);
    for (auto& k : keys) {
      const unsigned roll = rng() % 10;
      k.kind = roll < 6 ? Kind::kPrefix : roll < 9 ? Kind::kExact : Kind::kAlways;
      if (k.kind != Kind::kAlways) k.value = randomPath(rng, 5);
    }
    const RouteIndex index(keys);
    for (int p = 0; p < 50; ++p) {
      const std::string path = randomPath(rng, 7);
      if (candidates(index, path) != admitted(keys, path)) ++mismatches;
    }
  }
  CHECK(tables == 200);
  CHECK(mismatches == 0);
}

TEST_CASE("the route index stops at the first route the visitor accepts", "[router]") {
  const RouteIndex index({{Kind::kPrefix, "/a"}, {Kind::kAlways, ""}, {Kind::kPrefix, "/"}});
  std::vector<uint32_t> seen;
  CHECK(index.forEachCandidate("/b", [&](uint32_t i) {
    seen.push_back(i);
    return i == 1;
  }));
  CHECK(seen == std::vector<uint32_t>{1});
  CHECK_FALSE(index.forEachCandidate("/b", [](uint32_t) { return false; }));
}

// Through RouteTable: a virtual host large enough to be indexed keeps Envoy's first-match order
// across every kind of path condition and the matchers the index does not look at.
TEST_CASE("an indexed virtual host routes as the ordered scan would", "[router]") {
  std::string items;
  auto add = [&](const std::string& name, const std::string& match) {
    absl::StrAppend(&items, "  - name: ", name, "\n    match: ", match,
                    "\n    route: {cluster: c}\n");
  };
  add("regex-first", "{safe_regex: {regex: \"/r/[0-9]+\"}}");
  add("header-gated", "{prefix: /api, headers: [{name: x-canary, string_match: {exact: \"1\"}}]}");
  add("ci-prefix", "{prefix: /CI, case_sensitive: false}");
  add("exact", "{path: /api/exact}");
  add("separated", "{path_separated_prefix: /sep}");
  for (int i = 0; i < 30; ++i) add(absl::StrCat("p", i), absl::StrCat("{prefix: /p", i, "/}"));
  add("api", "{prefix: /api}");
  add("query-gated", "{prefix: /q, query_parameters: [{name: v, present_match: true}]}");
  add("catch-all", "{prefix: /}");
  auto table = test::mustCompile(
      absl::StrCat("virtual_hosts:\n- name: vh\n  domains: [\"*\"]\n  routes:\n", items));
  auto route = [&](const std::string& path, test::Headers extra = {}) {
    return test::routed(*table, test::request("h", path, extra));
  };
  CHECK(route("/r/12") == "regex-first");
  CHECK(route("/api/x", {{"x-canary", "1"}}) == "header-gated");
  CHECK(route("/api/x") == "api");
  CHECK(route("/api/exact") == "exact");
  CHECK(route("/api/exact", {{"x-canary", "1"}}) == "header-gated");
  CHECK(route("/ci/anything") == "ci-prefix");
  CHECK(route("/sep/x") == "separated");
  CHECK(route("/sepx") == "catch-all");
  CHECK(route("/p7/x") == "p7");
  CHECK(route("/p17/x") == "p17");
  CHECK(route("/p1") == "catch-all");
  CHECK(route("/q?v=1") == "query-gated");
  CHECK(route("/q") == "catch-all");
}

}  // namespace
}  // namespace remora::router
