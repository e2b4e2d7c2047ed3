// One compiled route: its matcher and its action (forward, redirect or direct response), with
// rewrites, timeouts, retry policy and header mutations. Internal to source/router.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "re2/re2.h"
#include "source/router/hash_policy.h"
#include "source/router/route_match.h"
#include "source/router/route_table.h"

namespace envoy::config::route::v3 {
class Route;
}

namespace remora::router {

class RouteEntryImpl : public Route {
 public:
  struct Options {
    uint32_t max_direct_response_body_bytes = 4096;
    bool ignore_path_parameters = false;
  };

  static absl::StatusOr<std::unique_ptr<RouteEntryImpl>> compile(
      const envoy::config::route::v3::Route& config, const VirtualHost& virtual_host,
      const Options& options, const std::string& path);

  bool matches(const http::HeaderMap& headers, const RequestPath& path) const {
    return matcher_.matches(headers, path);
  }
  const RouteMatcher& matcher() const { return matcher_; }
  // Appends the cluster names this route names statically.
  void addReferencedClusters(std::vector<std::string>& out) const;

  // Route
  const std::string& name() const override { return name_; }
  const VirtualHost& virtualHost() const override { return virtual_host_; }
  const DirectResponse* directResponse() const override {
    return direct_response_ ? &*direct_response_ : nullptr;
  }
  bool isRedirect() const override { return redirect_ != nullptr; }
  uint32_t redirectStatus() const override;
  std::string redirectLocation(const http::HeaderMap& request_headers) const override;
  std::string clusterName(const http::HeaderMap& request_headers, uint64_t random) const override;
  uint32_t clusterNotFoundStatus() const override { return cluster_not_found_status_; }
  void rewriteRequest(http::HeaderMap& headers) const override;
  bool autoHostRewrite() const override { return auto_host_rewrite_; }
  std::chrono::milliseconds timeout() const override { return timeout_; }
  std::optional<std::chrono::milliseconds> idleTimeout() const override { return idle_timeout_; }
  const RetryPolicy* retryPolicy() const override;
  const HashPolicy* hashPolicy() const override { return hash_policy_.get(); }
  upstream::RoutingPriority priority() const override { return priority_; }
  const HeaderMutations& requestHeaderMutations() const override { return request_mutations_; }
  const HeaderMutations& responseHeaderMutations() const override { return response_mutations_; }

  // prefix_rewrite or regex_rewrite, for forwarding or for a redirect's path.
  struct PathRewrite {
    std::string prefix;
    std::unique_ptr<const re2::RE2> regex;
    std::string substitution;
    bool configured() const { return !prefix.empty() || regex != nullptr; }
  };

 private:
  RouteEntryImpl(RouteMatcher matcher, const VirtualHost& virtual_host)
      : matcher_(std::move(matcher)), virtual_host_(virtual_host) {}

  struct WeightedClusterEntry {
    std::string name;
    std::string header;  // Lowercase; set instead of `name` for cluster_header entries.
    uint32_t weight = 0;
  };
  struct Redirect {
    std::string scheme;  // Empty: the request's.
    std::string host;    // Empty: the request's :authority.
    uint32_t port = 0;   // 0: keep.
    std::string path;    // path_redirect.
    bool path_has_query = false;
    PathRewrite rewrite;
    bool strip_query = false;
    uint32_t status = 301;
  };

  // The rewritten :path, or nullopt when `rewrite` is not configured or the route does not match
  // `full_path`.
  std::optional<std::string> rewritePath(absl::string_view full_path,
                                         const PathRewrite& rewrite) const;
  absl::Status compileAction(const envoy::config::route::v3::Route& config, const Options& options,
                             const std::string& path);

  std::string name_;
  RouteMatcher matcher_;
  const VirtualHost& virtual_host_;
  bool ignore_path_parameters_ = false;

  // Forwarding: exactly one of cluster_, cluster_header_, weighted_ is set.
  std::string cluster_;
  std::string cluster_header_;  // Lowercase.
  std::vector<WeightedClusterEntry> weighted_;
  uint64_t total_weight_ = 0;
  std::string random_value_header_;  // WeightedCluster.header_name, lowercase.
  uint32_t cluster_not_found_status_ = 503;

  PathRewrite path_rewrite_;
  std::string host_rewrite_literal_;
  std::string host_rewrite_header_;  // Lowercase.
  std::unique_ptr<const re2::RE2> host_rewrite_path_regex_;
  std::string host_rewrite_path_substitution_;
  bool auto_host_rewrite_ = false;
  bool append_x_forwarded_host_ = false;

  std::chrono::milliseconds timeout_{15000};
  std::optional<std::chrono::milliseconds> idle_timeout_;
  std::optional<RetryPolicy> retry_policy_;
  std::unique_ptr<const HashPolicy> hash_policy_;
  upstream::RoutingPriority priority_ = upstream::RoutingPriority::kDefault;

  std::unique_ptr<Redirect> redirect_;
  std::optional<DirectResponse> direct_response_;

  HeaderMutations request_mutations_;
  HeaderMutations response_mutations_;
};

}  // namespace remora::router
