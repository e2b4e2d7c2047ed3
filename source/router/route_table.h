// Route tables compiled once per snapshot from a RouteConfiguration: virtual hosts chosen by
// domain (exact, *.suffix, prefix*, *; most specific wins), then routes tried in order. Matching
// allocates nothing in the usual case; a request keeps the table it started with.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "source/http/header_map.h"
#include "source/http/stream_info.h"
#include "source/router/header_mutations.h"
#include "source/router/retry_policy.h"
#include "source/upstream/resource_manager.h"

namespace envoy::config::route::v3 {
class RouteConfiguration;
}

namespace remora::router {

struct DirectResponse {
  uint32_t status = 200;
  std::string body;
};

class HashPolicy;
class Route;
class VirtualHost;

class RouteTable {
 public:
  // Validates and compiles. Errors name the field path under `path` (e.g.
  // "listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[1].domains[0]").
  // Envoy rejects duplicate domains across virtual hosts and duplicate virtual host names, and so
  // does this; a '*' anywhere but first or last in a domain is rejected too.
  static absl::StatusOr<std::shared_ptr<const RouteTable>> compile(
      const envoy::config::route::v3::RouteConfiguration& config, const std::string& path);
  ~RouteTable();

  // The route for a request (headers carry :authority, :path, :method), or nullptr (→ 404).
  // Domains match case-insensitively and, as in Envoy, including any port in :authority
  // ("foo.com:8080" does not match "foo.com") unless ignore_port_in_host_matching is set.
  const Route* route(const http::HeaderMap& headers) const;

  const std::string& name() const;
  // Route-configuration-level header mutations (applied after vhost and route level, unless
  // mostSpecificHeaderMutationsWins(); see applyRequestHeaderMutations below).
  const HeaderMutations& requestHeaderMutations() const;
  const HeaderMutations& responseHeaderMutations() const;
  // most_specific_header_mutations_wins: the levels apply in reverse order.
  bool mostSpecificHeaderMutationsWins() const;
  // Cluster names that routes name statically (for "unknown cluster" warnings).
  std::vector<std::string> referencedClusters() const;

 private:
  RouteTable();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class VirtualHost {
 public:
  virtual ~VirtualHost() = default;
  virtual const std::string& name() const = 0;
  virtual const HeaderMutations& requestHeaderMutations() const = 0;
  virtual const HeaderMutations& responseHeaderMutations() const = 0;
  // The virtual host's retry_policy, used when a route has none (nullptr when neither has).
  virtual const RetryPolicy* retryPolicy() const = 0;
};

class Route {
 public:
  virtual ~Route() = default;
  virtual const std::string& name() const = 0;
  virtual const VirtualHost& virtualHost() const = 0;

  // Exactly one of these is the route's action.
  virtual const DirectResponse* directResponse() const = 0;
  // A redirect: the status (301 by default) and the Location computed from the request.
  virtual bool isRedirect() const = 0;
  virtual uint32_t redirectStatus() const = 0;
  virtual std::string redirectLocation(const http::HeaderMap& request_headers) const = 0;
  // Forwarding: the cluster to use. Weighted clusters pick by `random` (any uint64; the
  // route takes it modulo total_weight); cluster_header reads the request header. Empty when
  // the header is missing.
  virtual std::string clusterName(const http::HeaderMap& request_headers,
                                  uint64_t random) const = 0;

  // The status for a cluster that does not exist or a cluster_header that is missing
  // (cluster_not_found_response_code): 503 by default, or 404 / 500.
  virtual uint32_t clusterNotFoundStatus() const { return 503; }

  // Rewrites :authority (host_rewrite_literal, host_rewrite_header, host_rewrite_path_regex; with
  // append_x_forwarded_host the old value is appended to x-forwarded-host) and then :path
  // (prefix_rewrite / regex_rewrite; the query string is kept) in place before forwarding. Sets
  // x-envoy-original-path to the path as received whenever a path rewrite is configured, as
  // Envoy's router does unless suppress_envoy_headers is set (the caller then removes it). Call
  // after applyRequestHeaderMutations, as Envoy orders them.
  virtual void rewriteRequest(http::HeaderMap& headers) const = 0;
  // auto_host_rewrite: the caller sets :authority to the chosen endpoint's hostname.
  virtual bool autoHostRewrite() const = 0;

  virtual std::chrono::milliseconds timeout() const = 0;  // 0: none. Default 15 s.
  virtual std::optional<std::chrono::milliseconds> idleTimeout() const = 0;
  // The route's retry policy, else its virtual host's; nullptr when neither has one.
  virtual const RetryPolicy* retryPolicy() const = 0;
  // The route's hash_policy for consistent-hash balancers; nullptr when it has none.
  virtual const HashPolicy* hashPolicy() const = 0;
  // RouteAction.priority: which of the cluster's circuit breaker thresholds apply.
  virtual upstream::RoutingPriority priority() const = 0;

  virtual const HeaderMutations& requestHeaderMutations() const = 0;
  virtual const HeaderMutations& responseHeaderMutations() const = 0;
};

// Applies request_headers_to_add / _remove of the three levels to a request routed by `route`
// (which must come from `table`). Envoy's order, which decides who wins when levels touch the
// same header: route, then virtual host, then route configuration, so the least specific level
// wins; with most_specific_header_mutations_wins the order is reversed so the route wins. Each
// level removes first, then adds. Formatters read `info` (set info.request_headers to `headers`
// for %REQ(...)%). Apply before Route::rewriteRequest so %REQ(:path)% sees the original path.
void applyRequestHeaderMutations(const Route& route, const RouteTable& table,
                                 http::HeaderMap& headers, const http::StreamInfo& info);
// The same for response_headers_to_add / _remove, on every response to a request that matched
// `route`, including direct responses and redirects (set info.response_headers for %RESP(...)%).
void applyResponseHeaderMutations(const Route& route, const RouteTable& table,
                                  http::HeaderMap& headers, const http::StreamInfo& info);

}  // namespace remora::router
