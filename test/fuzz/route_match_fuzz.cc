// libFuzzer target for route matching: the input draws a route table (virtual hosts with domains
// of every kind, and up to 40 routes each, so hosts of 16+ routes go through RouteIndex) and a
// request, from small alphabets so that requests often meet routes. RouteTable::route() must be
// deterministic and equal a plain reference: the virtual host picked by the domain rules written
// out naively, then its first route that matches when compiled alone in a table of its own.
// Then the chosen route's action runs on the request (cluster, redirect, rewrites).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/route/v3/route.pb.h"
#include "source/http/header_map.h"
#include "source/router/route_table.h"
#include "test/fuzz/fuzz_support.h"

namespace {

using envoy::config::route::v3::HeaderMatcher;
using envoy::config::route::v3::Route;
using envoy::config::route::v3::RouteConfiguration;
using envoy::type::matcher::v3::StringMatcher;
using remora::http::HeaderMap;
using remora::router::RouteTable;

void fail(const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  std::abort();
}

std::string word(FuzzedDataProvider& in, absl::string_view alphabet, size_t max_len) {
  std::string out(in.ConsumeIntegralInRange<size_t>(0, max_len), ' ');
  for (char& c : out) c = alphabet[in.ConsumeIntegralInRange<size_t>(0, alphabet.size() - 1)];
  return out;
}

constexpr absl::string_view kHostChars = "abAB.-";
constexpr absl::string_view kPathChars = "/abAB;.%";
constexpr absl::string_view kRequestPathChars = "/abAB;.%?#=&";
constexpr absl::string_view kValueChars = "abAB/09-";

template <size_t N>
std::string pick(FuzzedDataProvider& in, const char* const (&choices)[N]) {
  return choices[in.ConsumeIntegralInRange<size_t>(0, N - 1)];
}

std::string regex(FuzzedDataProvider& in) {
  static const char* const kRegexes[] = {"/a.*",       "/[ab]+", ".*",           "/A?b;?.*",
                                         "(/a|/b)/.*", "[",      "a{1000}{1000}"};
  if (in.ConsumeBool()) return pick(in, kRegexes);
  return word(in, "/ab.*+?[]()|\\", 8);
}

void stringMatcher(FuzzedDataProvider& in, StringMatcher& m) {
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      m.set_exact(word(in, kValueChars, 4));
      break;
    case 1:
      m.set_prefix(word(in, kValueChars, 3));
      break;
    case 2:
      m.set_suffix(word(in, kValueChars, 3));
      break;
    case 3:
      m.set_contains(word(in, kValueChars, 3));
      break;
    default:
      m.mutable_safe_regex()->set_regex(regex(in));
  }
  m.set_ignore_case(in.ConsumeBool());
}

void headerMatcher(FuzzedDataProvider& in, HeaderMatcher& h) {
  static const char* const kNames[] = {"x", "y", "content-type", ":method", ":authority"};
  h.set_name(pick(in, kNames));
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      h.set_present_match(in.ConsumeBool());
      break;
    case 1:
      h.mutable_range_match()->set_start(in.ConsumeIntegralInRange<int64_t>(-3, 12));
      h.mutable_range_match()->set_end(in.ConsumeIntegralInRange<int64_t>(-3, 12));
      break;
    default:
      stringMatcher(in, *h.mutable_string_match());
  }
  h.set_invert_match(in.ConsumeBool());
  h.set_treat_missing_header_as_empty(in.ConsumeBool());
}

void routeMatch(FuzzedDataProvider& in, Route& r) {
  auto& m = *r.mutable_match();
  switch (in.ConsumeIntegralInRange(0, 5)) {
    case 0:
    case 1:  // Prefixes and exact paths are what the index serves; draw them more often.
      m.set_prefix(word(in, kPathChars, 4));
      break;
    case 2:
      m.set_path(word(in, kPathChars, 4));
      break;
    case 3:
      m.mutable_safe_regex()->set_regex(regex(in));
      break;
    case 4:
      m.set_path_separated_prefix(word(in, kPathChars, 4));
      break;
    default:
      m.mutable_connect_matcher();
  }
  if (in.ConsumeIntegralInRange(0, 3) == 0) m.mutable_case_sensitive()->set_value(in.ConsumeBool());
  const int headers = in.ConsumeIntegralInRange(0, 3) == 0 ? in.ConsumeIntegralInRange(1, 2) : 0;
  for (int i = 0; i < headers; ++i) headerMatcher(in, *m.add_headers());
  if (in.ConsumeIntegralInRange(0, 4) == 0) {
    auto& q = *m.add_query_parameters();
    q.set_name(in.ConsumeBool() ? "q" : "r");
    if (in.ConsumeBool()) {
      q.set_present_match(true);
    } else {
      stringMatcher(in, *q.mutable_string_match());
    }
  }
  if (in.ConsumeIntegralInRange(0, 7) == 0) m.mutable_grpc();
}

void routeAction(FuzzedDataProvider& in, Route& r) {
  switch (in.ConsumeIntegralInRange(0, 3)) {
    case 0: {
      auto& a = *r.mutable_route();
      if (in.ConsumeBool()) {
        a.set_cluster_header("x");
      } else {
        a.set_cluster(absl::StrCat("c", in.ConsumeIntegralInRange(0, 3)));
      }
      if (in.ConsumeBool()) a.set_prefix_rewrite(word(in, kPathChars, 4));
      break;
    }
    case 1: {
      auto& a = *r.mutable_route();
      auto& weighted = *a.mutable_weighted_clusters();
      const int n = in.ConsumeIntegralInRange(1, 3);
      for (int i = 0; i < n; ++i) {
        auto& c = *weighted.add_clusters();
        c.set_name(absl::StrCat("w", i));
        c.mutable_weight()->set_value(in.ConsumeIntegralInRange<uint32_t>(0, 5));
      }
      if (in.ConsumeBool()) {
        auto& rr = *a.mutable_regex_rewrite();
        rr.mutable_pattern()->set_regex(regex(in));
        rr.set_substitution(word(in, "/ab\\1", 4));
      }
      if (in.ConsumeBool()) a.set_host_rewrite_literal(word(in, kHostChars, 4));
      break;
    }
    case 2: {
      auto& a = *r.mutable_redirect();
      if (in.ConsumeBool()) a.set_host_redirect(word(in, kHostChars, 4));
      if (in.ConsumeBool()) a.set_https_redirect(true);
      if (in.ConsumeBool()) a.set_port_redirect(in.ConsumeIntegralInRange<uint32_t>(0, 70000));
      switch (in.ConsumeIntegralInRange(0, 2)) {
        case 0:
          a.set_path_redirect(word(in, kRequestPathChars, 4));
          break;
        case 1:
          a.set_prefix_rewrite(word(in, kPathChars, 4));
          break;
        default:
          break;
      }
      a.set_strip_query(in.ConsumeBool());
      break;
    }
    default:
      r.mutable_direct_response()->set_status(in.ConsumeIntegralInRange<uint32_t>(100, 600));
  }
}

// Lowercase domains already used, so that the draw rarely makes a table Envoy would reject.
std::string domain(FuzzedDataProvider& in) {
  const std::string host = word(in, kHostChars, 4);
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0:
      return "*";
    case 1:
      return "*" + host;
    case 2:
      return host + "*";
    case 3:
      return host + ":80";
    default:
      return host;
  }
}

// The virtual host the domain rules pick, written as plainly as possible: exact, then the longest
// "*suffix", then the longest "prefix*", then "*"; a '*' stands for at least one character.
const envoy::config::route::v3::VirtualHost* referenceVirtualHost(const RouteConfiguration& config,
                                                                  std::string authority) {
  if (config.ignore_port_in_host_matching()) {
    const size_t colon = authority.rfind(':');
    if (colon != std::string::npos) authority.resize(colon);
  }
  authority = absl::AsciiStrToLower(authority);
  const envoy::config::route::v3::VirtualHost* exact = nullptr;
  const envoy::config::route::v3::VirtualHost* suffix = nullptr;
  const envoy::config::route::v3::VirtualHost* prefix = nullptr;
  const envoy::config::route::v3::VirtualHost* any = nullptr;
  size_t suffix_len = 0;
  size_t prefix_len = 0;
  for (const auto& vhost : config.virtual_hosts()) {
    for (const std::string& d : vhost.domains()) {
      const std::string lower = absl::AsciiStrToLower(d);
      if (lower == "*") {
        any = &vhost;
      } else if (!lower.empty() && lower.front() == '*') {
        const std::string fixed = lower.substr(1);
        if (authority.size() > fixed.size() && absl::EndsWith(authority, fixed) &&
            (suffix == nullptr || fixed.size() > suffix_len)) {
          suffix = &vhost;
          suffix_len = fixed.size();
        }
      } else if (!lower.empty() && lower.back() == '*') {
        const std::string fixed = lower.substr(0, lower.size() - 1);
        if (authority.size() > fixed.size() && absl::StartsWith(authority, fixed) &&
            (prefix == nullptr || fixed.size() > prefix_len)) {
          prefix = &vhost;
          prefix_len = fixed.size();
        }
      } else if (lower == authority) {
        exact = &vhost;
      }
    }
  }
  if (exact != nullptr) return exact;
  if (suffix != nullptr) return suffix;
  if (prefix != nullptr) return prefix;
  return any;
}

// Whether `route` alone matches: a table holding only it, under a catch-all domain, with the
// same table-wide options.
bool matchesAlone(const RouteConfiguration& config, const Route& route, const HeaderMap& request) {
  RouteConfiguration alone;
  alone.set_ignore_path_parameters_in_path_matching(
      config.ignore_path_parameters_in_path_matching());
  auto& vhost = *alone.add_virtual_hosts();
  vhost.set_name("alone");
  vhost.add_domains("*");
  *vhost.add_routes() = route;
  auto table = RouteTable::compile(alone, "");
  if (!table.ok()) fail("a route of a valid table fails alone: " + table.status().ToString());
  return (*table)->route(request) != nullptr;
}

void runAction(const remora::router::Route& route, const HeaderMap& request, uint64_t random) {
  (void)route.clusterName(request, random);
  if (route.isRedirect()) (void)route.redirectLocation(request);
  HeaderMap rewritten = request;
  route.rewriteRequest(rewritten);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  remora::fuzz::quietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  RouteConfiguration config;
  config.set_ignore_port_in_host_matching(in.ConsumeBool());
  config.set_ignore_path_parameters_in_path_matching(in.ConsumeBool());
  const int vhosts = in.ConsumeIntegralInRange(1, 4);
  std::vector<std::string> used_domains;
  for (int v = 0; v < vhosts; ++v) {
    auto& vhost = *config.add_virtual_hosts();
    vhost.set_name(absl::StrCat("v", v));
    const int domains = in.ConsumeIntegralInRange(1, 3);
    for (int d = 0; d < domains; ++d) {
      std::string name = domain(in);
      const std::string lower = absl::AsciiStrToLower(name);
      bool seen = false;
      for (const std::string& u : used_domains) seen = seen || u == lower;
      if (seen) continue;
      used_domains.push_back(lower);
      vhost.add_domains(name);
    }
    if (vhost.domains().empty()) vhost.add_domains(absl::StrCat("only-v", v));
    const int routes = in.ConsumeIntegralInRange(0, 40);
    for (int r = 0; r < routes; ++r) {
      Route& route = *vhost.add_routes();
      route.set_name(absl::StrCat("v", v, "r", r));
      routeMatch(in, route);
      routeAction(in, route);
    }
  }

  HeaderMap request;
  static const char* const kMethods[] = {"GET", "POST", "CONNECT", "HEAD"};
  request.add(":method", pick(in, kMethods));
  static const char* const kPorts[] = {"", ":80", ":8080"};
  const std::string authority = word(in, kHostChars, 5) + pick(in, kPorts);
  request.add(":authority", authority);
  request.add(":path", word(in, kRequestPathChars, 8));
  request.add(":scheme", "http");
  const int headers = in.ConsumeIntegralInRange(0, 3);
  for (int i = 0; i < headers; ++i) {
    static const char* const kNames[] = {"x", "y", "content-type", "z"};
    static const char* const kTypes[] = {"application/grpc", "application/grpc+proto",
                                         "text/plain"};
    const std::string name = pick(in, kNames);
    request.add(name, name == "content-type" && in.ConsumeBool() ? pick(in, kTypes)
                                                                 : word(in, kValueChars, 4));
  }
  const uint64_t random = in.ConsumeIntegral<uint64_t>();

  auto table = RouteTable::compile(config, "");
  if (!table.ok()) {
    remora::fuzz::checkRejection(table.status());
    return 0;
  }
  const remora::router::Route* found = (*table)->route(request);
  if ((*table)->route(request) != found) fail("route() is not deterministic");

  std::string expected = "(none)";
  const auto* vhost = referenceVirtualHost(config, authority);
  if (vhost != nullptr) {
    for (const Route& r : vhost->routes()) {
      if (matchesAlone(config, r, request)) {
        expected = r.name();
        break;
      }
    }
  }
  const std::string actual = found == nullptr ? "(none)" : found->name();
  if (actual != expected) {
    fail(absl::StrCat("route() chose ", actual, ", the reference ", expected, "\ntable:\n",
                      config.DebugString(), "request: :authority=", authority,
                      " :path=", request.path(), " :method=", request.method()));
  }
  if (found != nullptr) {
    if (found->virtualHost().name() != vhost->name()) fail("route of another virtual host");
    runAction(*found, request, random);
  }
  return 0;
}
