#include "source/router/route_entry.h"

#include "source/config/data_source.h"

#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/route/v3/route_components.pb.h"
#include "source/config/field_path.h"
#include "source/router/header_mutations_config.h"

namespace remora::router {
namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;
using RouteActionProto = envoy::config::route::v3::RouteAction;
using RedirectProto = envoy::config::route::v3::RedirectAction;

std::chrono::milliseconds toMillis(const google::protobuf::Duration& d) {
  return std::chrono::milliseconds(d.seconds() * 1000 + d.nanos() / 1000000);
}

bool isNegative(const google::protobuf::Duration& d) { return d.seconds() < 0 || d.nanos() < 0; }

bool hasForbiddenChar(absl::string_view text) {
  return text.find_first_of(absl::string_view("\0\r\n", 3)) != absl::string_view::npos;
}

absl::Status checkHeaderText(const std::string& text, const std::string& path) {
  if (hasForbiddenChar(text)) return invalidAt(path, "must not contain NUL, CR or LF");
  return absl::OkStatus();
}

absl::Status checkHeaderName(const std::string& name, const std::string& path) {
  if (name.empty()) return invalidAt(path, "must not be empty");
  return checkHeaderText(name, path);
}

absl::Status compileRegexRewrite(const envoy::type::matcher::v3::RegexMatchAndSubstitute& config,
                                 const std::string& path, std::unique_ptr<const re2::RE2>& regex,
                                 std::string& substitution) {
  auto compiled = compileRegex(config.pattern().regex(), fieldPath(path, "pattern.regex"));
  if (!compiled.ok()) return compiled.status();
  std::string error;
  if (!(*compiled)->CheckRewriteString(config.substitution(), &error)) {
    return invalidAt(fieldPath(path, "substitution"),
                     absl::StrCat("'", config.substitution(), "': ", error));
  }
  regex = std::move(*compiled);
  substitution = config.substitution();
  return absl::OkStatus();
}

// append_x_forwarded_host: add the host being replaced unless it is already the last entry.
void appendForwardedHost(http::HeaderMap& headers, const std::string& original_host) {
  if (original_host.empty()) return;
  std::string forwarded = headers.getJoined("x-forwarded-host");
  if (!forwarded.empty()) {
    const size_t comma = forwarded.rfind(',');
    absl::string_view last = comma == std::string::npos
                                 ? absl::string_view(forwarded)
                                 : absl::string_view(forwarded).substr(comma + 1);
    if (absl::StripAsciiWhitespace(last) == original_host) return;
    forwarded.push_back(',');
  }
  forwarded.append(original_host);
  headers.set("x-forwarded-host", forwarded);
}

uint32_t redirectStatusFor(RedirectProto::RedirectResponseCode code) {
  switch (code) {
    case RedirectProto::FOUND:
      return 302;
    case RedirectProto::SEE_OTHER:
      return 303;
    case RedirectProto::TEMPORARY_REDIRECT:
      return 307;
    case RedirectProto::PERMANENT_REDIRECT:
      return 308;
    default:
      return 301;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RouteEntryImpl>> RouteEntryImpl::compile(
    const envoy::config::route::v3::Route& config, const VirtualHost& virtual_host,
    const Options& options, const std::string& path) {
  if (!config.has_match()) return invalidAt(fieldPath(path, "match"), "is required");
  auto matcher = RouteMatcher::compile(config.match(), fieldPath(path, "match"));
  if (!matcher.ok()) return matcher.status();

  std::unique_ptr<RouteEntryImpl> route(new RouteEntryImpl(std::move(*matcher), virtual_host));
  route->name_ = config.name();
  route->ignore_path_parameters_ = options.ignore_path_parameters;
  if (absl::Status s = route->compileAction(config, options, path); !s.ok()) return s;

  auto request =
      compileHeaderMutations(config.request_headers_to_add(), config.request_headers_to_remove(),
                             path, "request_headers_to_add", "request_headers_to_remove");
  if (!request.ok()) return request.status();
  route->request_mutations_ = std::move(*request);
  auto response =
      compileHeaderMutations(config.response_headers_to_add(), config.response_headers_to_remove(),
                             path, "response_headers_to_add", "response_headers_to_remove");
  if (!response.ok()) return response.status();
  route->response_mutations_ = std::move(*response);
  return route;
}

absl::Status RouteEntryImpl::compileAction(const envoy::config::route::v3::Route& config,
                                           const Options& options, const std::string& path) {
  using RouteProto = envoy::config::route::v3::Route;
  switch (config.action_case()) {
    case RouteProto::kRoute:
      break;
    case RouteProto::kRedirect: {
      const RedirectProto& r = config.redirect();
      const std::string rpath = fieldPath(path, "redirect");
      redirect_ = std::make_unique<Redirect>();
      if (r.scheme_rewrite_specifier_case() == RedirectProto::kHttpsRedirect &&
          r.https_redirect()) {
        redirect_->scheme = "https";
      } else if (r.scheme_rewrite_specifier_case() == RedirectProto::kSchemeRedirect) {
        redirect_->scheme = absl::AsciiStrToLower(r.scheme_redirect());
        if (absl::Status s =
                checkHeaderText(r.scheme_redirect(), fieldPath(rpath, "scheme_redirect"));
            !s.ok()) {
          return s;
        }
      }
      redirect_->host = r.host_redirect();
      if (absl::Status s = checkHeaderText(r.host_redirect(), fieldPath(rpath, "host_redirect"));
          !s.ok()) {
        return s;
      }
      if (r.port_redirect() > 65535) {
        return invalidAt(fieldPath(rpath, "port_redirect"),
                         absl::StrCat(r.port_redirect(), " is out of range (1-65535)"));
      }
      redirect_->port = r.port_redirect();
      switch (r.path_rewrite_specifier_case()) {
        case RedirectProto::kPathRedirect:
          if (absl::Status s =
                  checkHeaderText(r.path_redirect(), fieldPath(rpath, "path_redirect"));
              !s.ok()) {
            return s;
          }
          redirect_->path = r.path_redirect();
          redirect_->path_has_query = absl::StrContains(r.path_redirect(), '?');
          break;
        case RedirectProto::kPrefixRewrite:
          if (absl::Status s =
                  checkHeaderText(r.prefix_rewrite(), fieldPath(rpath, "prefix_rewrite"));
              !s.ok()) {
            return s;
          }
          redirect_->rewrite.prefix = r.prefix_rewrite();
          break;
        case RedirectProto::kRegexRewrite:
          if (absl::Status s =
                  compileRegexRewrite(r.regex_rewrite(), fieldPath(rpath, "regex_rewrite"),
                                      redirect_->rewrite.regex, redirect_->rewrite.substitution);
              !s.ok()) {
            return s;
          }
          break;
        default:
          break;
      }
      if (!RedirectProto::RedirectResponseCode_IsValid(r.response_code())) {
        return invalidAt(fieldPath(rpath, "response_code"),
                         absl::StrCat("unknown value ", r.response_code()));
      }
      redirect_->status = redirectStatusFor(r.response_code());
      redirect_->strip_query = r.strip_query();
      return absl::OkStatus();
    }
    case RouteProto::kDirectResponse: {
      const auto& d = config.direct_response();
      const std::string dpath = fieldPath(path, "direct_response");
      if (d.status() < 200 || d.status() >= 600) {
        return invalidAt(fieldPath(dpath, "status"),
                         absl::StrCat(d.status(), " is out of range (200-599)"));
      }
      DirectResponse response;
      response.status = d.status();
      if (d.has_body()) {
        auto body = config::readDataSource(d.body(), fieldPath(dpath, "body"));
        if (!body.ok()) return body.status();
        if (body->size() > options.max_direct_response_body_bytes) {
          return invalidAt(fieldPath(dpath, "body"),
                           absl::StrCat("is ", body->size(),
                                        " bytes, more than max_direct_response_body_size_bytes (",
                                        options.max_direct_response_body_bytes, ")"));
        }
        response.body = std::move(*body);
      }
      direct_response_ = std::move(response);
      return absl::OkStatus();
    }
    case RouteProto::kFilterAction:
      return invalidAt(fieldPath(path, "filter_action"), "not supported by Remora");
    case RouteProto::kNonForwardingAction:
      return invalidAt(fieldPath(path, "non_forwarding_action"), "not supported by Remora");
    default:
      return invalidAt(path, "one of route, redirect or direct_response is required");
  }

  const RouteActionProto& action = config.route();
  const std::string apath = fieldPath(path, "route");
  switch (action.cluster_specifier_case()) {
    case RouteActionProto::kCluster:
      if (action.cluster().empty())
        return invalidAt(fieldPath(apath, "cluster"), "must not be empty");
      cluster_ = action.cluster();
      break;
    case RouteActionProto::kClusterHeader:
      if (absl::Status s =
              checkHeaderName(action.cluster_header(), fieldPath(apath, "cluster_header"));
          !s.ok()) {
        return s;
      }
      cluster_header_ = absl::AsciiStrToLower(action.cluster_header());
      break;
    case RouteActionProto::kWeightedClusters: {
      const auto& wc = action.weighted_clusters();
      const std::string wpath = fieldPath(apath, "weighted_clusters");
      const std::string cpath = fieldPath(wpath, "clusters");
      if (wc.clusters_size() == 0) return invalidAt(cpath, "at least one cluster is required");
      for (int i = 0; i < wc.clusters_size(); ++i) {
        const auto& cw = wc.clusters(i);
        const std::string epath = indexPath(cpath, i);
        if (!cw.name().empty() && !cw.cluster_header().empty()) {
          return invalidAt(epath, "only one of name and cluster_header may be set");
        }
        if (cw.name().empty() && cw.cluster_header().empty()) {
          return invalidAt(epath, "one of name or cluster_header is required");
        }
        if (absl::Status s =
                checkHeaderText(cw.cluster_header(), fieldPath(epath, "cluster_header"));
            !s.ok()) {
          return s;
        }
        WeightedClusterEntry entry;
        entry.name = cw.name();
        entry.header = absl::AsciiStrToLower(cw.cluster_header());
        entry.weight = cw.has_weight() ? cw.weight().value() : 0;
        total_weight_ += entry.weight;
        weighted_.push_back(std::move(entry));
      }
      // total_weight is deprecated in Envoy (and absent from our proto): the sum is the total.
      if (total_weight_ == 0) return invalidAt(cpath, "the sum of weights must be greater than 0");
      if (total_weight_ > std::numeric_limits<uint32_t>::max()) {
        return invalidAt(cpath, absl::StrCat("the sum of weights (", total_weight_,
                                             ") must not exceed 4294967295"));
      }
      if (absl::Status s = checkHeaderText(wc.header_name(), fieldPath(wpath, "header_name"));
          !s.ok()) {
        return s;
      }
      random_value_header_ = absl::AsciiStrToLower(wc.header_name());
      break;
    }
    case RouteActionProto::kClusterSpecifierPlugin:
      return invalidAt(fieldPath(apath, "cluster_specifier_plugin"), "not supported by Remora");
    case RouteActionProto::kInlineClusterSpecifierPlugin:
      return invalidAt(fieldPath(apath, "inline_cluster_specifier_plugin"),
                       "not supported by Remora");
    default:
      return invalidAt(apath, "one of cluster, cluster_header or weighted_clusters is required");
  }

  switch (action.cluster_not_found_response_code()) {
    case RouteActionProto::SERVICE_UNAVAILABLE:
      cluster_not_found_status_ = 503;
      break;
    case RouteActionProto::NOT_FOUND:
      cluster_not_found_status_ = 404;
      break;
    case RouteActionProto::INTERNAL_SERVER_ERROR:
      cluster_not_found_status_ = 500;
      break;
    default:
      return invalidAt(fieldPath(apath, "cluster_not_found_response_code"),
                       absl::StrCat("unknown value ", action.cluster_not_found_response_code()));
  }

  const int rewrites = (!action.prefix_rewrite().empty() ? 1 : 0) +
                       (action.has_regex_rewrite() ? 1 : 0) +
                       (action.has_path_rewrite_policy() ? 1 : 0);
  if (rewrites > 1) {
    return invalidAt(apath,
                     "only one of prefix_rewrite, regex_rewrite or path_rewrite_policy may be set");
  }
  if (action.has_path_rewrite_policy()) {
    return invalidAt(fieldPath(apath, "path_rewrite_policy"), "not supported by Remora");
  }
  if (absl::Status s = checkHeaderText(action.prefix_rewrite(), fieldPath(apath, "prefix_rewrite"));
      !s.ok()) {
    return s;
  }
  path_rewrite_.prefix = action.prefix_rewrite();
  if (action.has_regex_rewrite()) {
    if (absl::Status s =
            compileRegexRewrite(action.regex_rewrite(), fieldPath(apath, "regex_rewrite"),
                                path_rewrite_.regex, path_rewrite_.substitution);
        !s.ok()) {
      return s;
    }
  }

  switch (action.host_rewrite_specifier_case()) {
    case RouteActionProto::kHostRewriteLiteral:
      if (absl::Status s = checkHeaderText(action.host_rewrite_literal(),
                                           fieldPath(apath, "host_rewrite_literal"));
          !s.ok()) {
        return s;
      }
      host_rewrite_literal_ = action.host_rewrite_literal();
      break;
    case RouteActionProto::kAutoHostRewrite:
      auto_host_rewrite_ = action.auto_host_rewrite().value();
      break;
    case RouteActionProto::kHostRewriteHeader:
      if (absl::Status s = checkHeaderName(action.host_rewrite_header(),
                                           fieldPath(apath, "host_rewrite_header"));
          !s.ok()) {
        return s;
      }
      host_rewrite_header_ = absl::AsciiStrToLower(action.host_rewrite_header());
      break;
    case RouteActionProto::kHostRewritePathRegex:
      if (absl::Status s = compileRegexRewrite(
              action.host_rewrite_path_regex(), fieldPath(apath, "host_rewrite_path_regex"),
              host_rewrite_path_regex_, host_rewrite_path_substitution_);
          !s.ok()) {
        return s;
      }
      break;
    default:
      break;
  }
  append_x_forwarded_host_ = action.append_x_forwarded_host();

  if (action.has_timeout()) {
    if (isNegative(action.timeout())) {
      return invalidAt(fieldPath(apath, "timeout"), "must not be negative");
    }
    timeout_ = toMillis(action.timeout());
  }
  if (action.has_idle_timeout()) {
    if (isNegative(action.idle_timeout())) {
      return invalidAt(fieldPath(apath, "idle_timeout"), "must not be negative");
    }
    idle_timeout_ = toMillis(action.idle_timeout());
  }
  if (action.has_retry_policy()) {
    auto policy = compileRetryPolicy(action.retry_policy(), fieldPath(apath, "retry_policy"));
    if (!policy.ok()) return policy.status();
    retry_policy_ = std::move(*policy);
  }
  auto hash_policy = HashPolicy::compile(action, apath);
  if (!hash_policy.ok()) return hash_policy.status();
  hash_policy_ = std::move(*hash_policy);
  if (action.priority() == envoy::config::core::v3::HIGH) {
    priority_ = upstream::RoutingPriority::kHigh;
  }
  return absl::OkStatus();
}

void RouteEntryImpl::addReferencedClusters(std::vector<std::string>& out) const {
  if (!cluster_.empty()) out.push_back(cluster_);
  for (const WeightedClusterEntry& e : weighted_) {
    if (!e.name.empty()) out.push_back(e.name);
  }
}

uint32_t RouteEntryImpl::redirectStatus() const {
  return redirect_ != nullptr ? redirect_->status : 301;
}

const RetryPolicy* RouteEntryImpl::retryPolicy() const {
  return retry_policy_ ? &*retry_policy_ : virtual_host_.retryPolicy();
}

std::string RouteEntryImpl::clusterName(const http::HeaderMap& request_headers,
                                        uint64_t random) const {
  auto header_or_empty = [&](const std::string& name) {
    const std::string* value = request_headers.get(name);
    return value != nullptr ? *value : std::string();
  };
  if (!cluster_.empty()) return cluster_;
  if (!cluster_header_.empty()) return header_or_empty(cluster_header_);
  if (weighted_.empty()) return std::string();

  // header_name lets an earlier proxy's pick carry through; a missing or malformed value falls
  // back to `random`.
  if (!random_value_header_.empty()) {
    const std::string* value = request_headers.get(random_value_header_);
    uint64_t from_header = 0;
    if (value != nullptr && absl::SimpleAtoi(*value, &from_header)) random = from_header;
  }
  uint64_t pick = random % total_weight_;
  for (const WeightedClusterEntry& e : weighted_) {
    if (pick < e.weight) return e.header.empty() ? e.name : header_or_empty(e.header);
    pick -= e.weight;
  }
  return std::string();  // Unreachable: the weights sum to total_weight_.
}

std::optional<std::string> RouteEntryImpl::rewritePath(absl::string_view full_path,
                                                       const PathRewrite& rewrite) const {
  const RequestPath parts = RequestPath::split(full_path, ignore_path_parameters_);
  if (!rewrite.prefix.empty()) {
    const std::optional<size_t> matched = matcher_.matchedLength(parts);
    if (!matched) return std::nullopt;
    return absl::StrCat(rewrite.prefix, full_path.substr(*matched));
  }
  if (rewrite.regex != nullptr) {
    // The regex sees the path without query or fragment; those are kept as they were.
    std::string path(parts.path);
    re2::RE2::GlobalReplace(&path, *rewrite.regex, rewrite.substitution);
    return absl::StrCat(path, full_path.substr(parts.path.size()));
  }
  return std::nullopt;
}

void RouteEntryImpl::rewriteRequest(http::HeaderMap& headers) const {
  // The host goes first: host_rewrite_path_regex reads the path the client sent.
  std::optional<std::string> host;
  if (!host_rewrite_literal_.empty()) {
    host = host_rewrite_literal_;
  } else if (!host_rewrite_header_.empty()) {
    const std::string* value = headers.get(host_rewrite_header_);
    if (value != nullptr && !value->empty()) host = *value;
  } else if (host_rewrite_path_regex_ != nullptr) {
    std::string path(RequestPath::split(headers.path(), false).path);
    re2::RE2::GlobalReplace(&path, *host_rewrite_path_regex_, host_rewrite_path_substitution_);
    host = std::move(path);
  }
  if (host) {
    if (append_x_forwarded_host_) appendForwardedHost(headers, std::string(headers.authority()));
    headers.set(":authority", *host);
  }

  if (!path_rewrite_.configured()) return;
  // Copied: set() may move the entry that headers.path() points into.
  const std::string original(headers.path());
  std::optional<std::string> path = rewritePath(original, path_rewrite_);
  if (!path) return;
  headers.set("x-envoy-original-path", original);
  headers.set(":path", *path);
}

std::string RouteEntryImpl::redirectLocation(const http::HeaderMap& request_headers) const {
  if (redirect_ == nullptr) return std::string();
  const Redirect& r = *redirect_;

  // x-forwarded-proto is the scheme the client used even behind another proxy; :scheme is what
  // reached us.
  const std::string* forwarded_proto = request_headers.get("x-forwarded-proto");
  std::string original_scheme = absl::AsciiStrToLower(
      forwarded_proto != nullptr ? absl::string_view(*forwarded_proto) : request_headers.scheme());
  if (original_scheme.empty()) original_scheme = "http";
  const std::string& scheme = r.scheme.empty() ? original_scheme : r.scheme;

  std::string host;
  if (!r.host.empty()) {
    host = r.host;
    if (r.port != 0) host = host.substr(0, hostPortStart(host));
  } else {
    host = std::string(request_headers.authority());
    const size_t port_start = hostPortStart(host);
    if (port_start != std::string::npos) {
      const absl::string_view port = absl::string_view(host).substr(port_start);
      // A new port replaces the old; a scheme change drops the old scheme's default port.
      bool drop = r.port != 0;
      if (scheme != original_scheme) {
        drop = drop || (original_scheme == "http" && port == ":80") ||
               (original_scheme == "https" && port == ":443");
      }
      if (drop) host.resize(port_start);
    }
  }

  const absl::string_view request_path = request_headers.path();
  std::string path;
  if (!r.path.empty()) {
    // A query in path_redirect replaces the request's and survives strip_query.
    path = r.path;
    if (!r.path_has_query && !r.strip_query) {
      const size_t query = request_path.find('?');
      if (query != absl::string_view::npos) absl::StrAppend(&path, request_path.substr(query));
    }
  } else {
    path = rewritePath(request_path, r.rewrite).value_or(std::string(request_path));
    if (r.strip_query) path = path.substr(0, path.find('?'));
  }
  if (!absl::StartsWith(path, "/")) path.insert(0, "/");

  return r.port != 0 ? absl::StrCat(scheme, "://", host, ":", r.port, path)
                     : absl::StrCat(scheme, "://", host, path);
}

}  // namespace remora::router
