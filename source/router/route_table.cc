#include "source/router/route_table.h"

#include <algorithm>
#include <functional>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "envoy/config/route/v3/route.pb.h"
#include "source/config/field_path.h"
#include "source/router/header_mutations_config.h"
#include "source/router/route_entry.h"
#include "source/router/route_index.h"
#include "source/router/route_match.h"

namespace remora::router {
namespace {

using config::fieldPath;
using config::indexPath;
using config::invalidAt;

class VirtualHostImpl : public VirtualHost {
 public:
  const std::string& name() const override { return name_; }
  const HeaderMutations& requestHeaderMutations() const override { return request_mutations_; }
  const HeaderMutations& responseHeaderMutations() const override { return response_mutations_; }
  const RetryPolicy* retryPolicy() const override {
    return retry_policy_ ? &*retry_policy_ : nullptr;
  }

  std::string name_;
  HeaderMutations request_mutations_;
  HeaderMutations response_mutations_;
  std::optional<RetryPolicy> retry_policy_;
  std::vector<std::unique_ptr<RouteEntryImpl>> routes_;
  std::unique_ptr<RouteIndex> index_;  // Only for hosts with many routes.
};

// What the index may assume of a route's path condition.
RouteIndex::Key indexKey(const RouteMatcher& m) {
  using Kind = RouteIndex::Key::Kind;
  if (!m.caseSensitive()) return {};
  switch (m.pathKind()) {
    case RouteMatcher::PathKind::kPrefix:
    case RouteMatcher::PathKind::kSeparatedPrefix:
      return {Kind::kPrefix, m.pathValue()};
    case RouteMatcher::PathKind::kPath:
      return {Kind::kExact, m.pathValue()};
    default:
      return {};
  }
}

// Wildcard domains grouped by the length of their fixed part, longest first, so the first hit is
// the longest (most specific) wildcard.
using WildcardMap =
    std::map<size_t, absl::flat_hash_map<std::string, const VirtualHostImpl*>, std::greater<>>;

const VirtualHostImpl* findWildcard(const WildcardMap& map, absl::string_view host, bool suffix) {
  for (const auto& [length, domains] : map) {
    // The '*' must stand for at least one character.
    if (length >= host.size()) continue;
    const absl::string_view part =
        suffix ? host.substr(host.size() - length) : host.substr(0, length);
    auto it = domains.find(part);
    if (it != domains.end()) return it->second;
  }
  return nullptr;
}

}  // namespace

struct RouteTable::Impl {
  std::string name;
  std::vector<std::unique_ptr<VirtualHostImpl>> virtual_hosts;
  absl::flat_hash_map<std::string, const VirtualHostImpl*> exact_domains;
  WildcardMap suffix_domains;  // "*.foo.com" stored as ".foo.com".
  WildcardMap prefix_domains;  // "foo.*" stored as "foo.".
  const VirtualHostImpl* default_virtual_host = nullptr;
  HeaderMutations request_mutations;
  HeaderMutations response_mutations;
  bool most_specific_header_mutations_wins = false;
  bool ignore_port_in_host_matching = false;
  bool ignore_path_parameters = false;

  const VirtualHostImpl* findVirtualHost(absl::string_view authority) const;
};

const VirtualHostImpl* RouteTable::Impl::findVirtualHost(absl::string_view authority) const {
  if (exact_domains.empty() && suffix_domains.empty() && prefix_domains.empty()) {
    return default_virtual_host;
  }
  // By default Envoy matches the port too ("foo.com:8080" does not match "foo.com");
  // ignore_port_in_host_matching drops it first.
  if (ignore_port_in_host_matching) authority = authority.substr(0, hostPortStart(authority));
  // Domains are stored lowercase; lowercase the host only when it needs it, so the usual request
  // allocates nothing here.
  std::string lowered;
  absl::string_view host = authority;
  if (std::any_of(host.begin(), host.end(), absl::ascii_isupper)) {
    lowered = absl::AsciiStrToLower(host);
    host = lowered;
  }
  if (auto it = exact_domains.find(host); it != exact_domains.end()) return it->second;
  if (const VirtualHostImpl* v = findWildcard(suffix_domains, host, true)) return v;
  if (const VirtualHostImpl* v = findWildcard(prefix_domains, host, false)) return v;
  return default_virtual_host;
}

RouteTable::RouteTable() : impl_(std::make_unique<Impl>()) {}
RouteTable::~RouteTable() = default;

absl::StatusOr<std::shared_ptr<const RouteTable>> RouteTable::compile(
    const envoy::config::route::v3::RouteConfiguration& config, const std::string& path) {
  std::shared_ptr<RouteTable> table(new RouteTable());
  Impl& impl = *table->impl_;
  impl.name = config.name();
  impl.most_specific_header_mutations_wins = config.most_specific_header_mutations_wins();
  impl.ignore_port_in_host_matching = config.ignore_port_in_host_matching();
  impl.ignore_path_parameters = config.ignore_path_parameters_in_path_matching();

  RouteEntryImpl::Options options;
  if (config.has_max_direct_response_body_size_bytes()) {
    options.max_direct_response_body_bytes = config.max_direct_response_body_size_bytes().value();
  }
  options.ignore_path_parameters = impl.ignore_path_parameters;

  auto request =
      compileHeaderMutations(config.request_headers_to_add(), config.request_headers_to_remove(),
                             path, "request_headers_to_add", "request_headers_to_remove");
  if (!request.ok()) return request.status();
  impl.request_mutations = std::move(*request);
  auto response =
      compileHeaderMutations(config.response_headers_to_add(), config.response_headers_to_remove(),
                             path, "response_headers_to_add", "response_headers_to_remove");
  if (!response.ok()) return response.status();
  impl.response_mutations = std::move(*response);

  // Which virtual host (by name) claimed each domain, for error messages.
  absl::flat_hash_map<std::string, std::string> domain_owner;
  absl::flat_hash_set<std::string> names;
  const std::string vhosts_path = fieldPath(path, "virtual_hosts");
  for (int i = 0; i < config.virtual_hosts_size(); ++i) {
    const auto& vconfig = config.virtual_hosts(i);
    const std::string vpath = indexPath(vhosts_path, i);
    auto vhost = std::make_unique<VirtualHostImpl>();
    vhost->name_ = vconfig.name();
    if (vhost->name_.empty()) return invalidAt(fieldPath(vpath, "name"), "must not be empty");
    if (!names.insert(vhost->name_).second) {
      return invalidAt(fieldPath(vpath, "name"),
                       absl::StrCat("duplicate virtual host name '", vhost->name_, "'"));
    }

    auto vrequest = compileHeaderMutations(vconfig.request_headers_to_add(),
                                           vconfig.request_headers_to_remove(), vpath,
                                           "request_headers_to_add", "request_headers_to_remove");
    if (!vrequest.ok()) return vrequest.status();
    vhost->request_mutations_ = std::move(*vrequest);
    auto vresponse = compileHeaderMutations(
        vconfig.response_headers_to_add(), vconfig.response_headers_to_remove(), vpath,
        "response_headers_to_add", "response_headers_to_remove");
    if (!vresponse.ok()) return vresponse.status();
    vhost->response_mutations_ = std::move(*vresponse);
    if (vconfig.has_retry_policy()) {
      auto policy = compileRetryPolicy(vconfig.retry_policy(), fieldPath(vpath, "retry_policy"));
      if (!policy.ok()) return policy.status();
      vhost->retry_policy_ = std::move(*policy);
    }

    const std::string domains_path = fieldPath(vpath, "domains");
    if (vconfig.domains_size() == 0)
      return invalidAt(domains_path, "at least one domain is required");
    for (int j = 0; j < vconfig.domains_size(); ++j) {
      const std::string dpath = indexPath(domains_path, j);
      const std::string domain = absl::AsciiStrToLower(vconfig.domains(j));
      if (absl::string_view(domain).find_first_of(absl::string_view("\0\r\n", 3)) !=
          absl::string_view::npos) {
        return invalidAt(dpath, "must not contain NUL, CR or LF");
      }
      if (auto [it, inserted] = domain_owner.emplace(domain, vhost->name_); !inserted) {
        if (domain == "*") {
          return invalidAt(dpath, absl::StrCat("only one virtual host may use the wildcard "
                                               "domain '*'; virtual host '",
                                               it->second, "' already does"));
        }
        return invalidAt(
            dpath, absl::StrCat("domain '", domain, "' is already used by virtual host '",
                                it->second, "'; domains must be unique across virtual hosts"));
      }
      if (domain == "*") {
        impl.default_virtual_host = vhost.get();
        continue;
      }
      const bool leading = !domain.empty() && domain.front() == '*';
      const bool trailing = !domain.empty() && domain.back() == '*';
      absl::string_view fixed = domain;
      if (leading) {
        fixed.remove_prefix(1);
      } else if (trailing) {
        fixed.remove_suffix(1);
      }
      if (fixed.find('*') != absl::string_view::npos) {
        return invalidAt(dpath, absl::StrCat("'", vconfig.domains(j),
                                             "': a wildcard '*' may only be the first or the "
                                             "last character"));
      }
      if (leading) {
        impl.suffix_domains[fixed.size()].emplace(std::string(fixed), vhost.get());
      } else if (trailing) {
        impl.prefix_domains[fixed.size()].emplace(std::string(fixed), vhost.get());
      } else {
        impl.exact_domains.emplace(domain, vhost.get());
      }
    }

    const std::string routes_path = fieldPath(vpath, "routes");
    for (int j = 0; j < vconfig.routes_size(); ++j) {
      auto route =
          RouteEntryImpl::compile(vconfig.routes(j), *vhost, options, indexPath(routes_path, j));
      if (!route.ok()) return route.status();
      vhost->routes_.push_back(std::move(*route));
    }
    if (vhost->routes_.size() >= RouteIndex::kMinRoutes) {
      std::vector<RouteIndex::Key> keys;
      keys.reserve(vhost->routes_.size());
      for (const auto& route : vhost->routes_) keys.push_back(indexKey(route->matcher()));
      vhost->index_ = std::make_unique<RouteIndex>(keys);
    }
    impl.virtual_hosts.push_back(std::move(vhost));
  }
  return std::shared_ptr<const RouteTable>(std::move(table));
}

const Route* RouteTable::route(const http::HeaderMap& headers) const {
  const VirtualHostImpl* vhost = impl_->findVirtualHost(headers.authority());
  if (vhost == nullptr) return nullptr;
  const RequestPath path = RequestPath::split(headers.path(), impl_->ignore_path_parameters);
  if (vhost->index_ != nullptr) {
    const Route* found = nullptr;
    vhost->index_->forEachCandidate(path.match, [&](uint32_t i) {
      if (!vhost->routes_[i]->matches(headers, path)) return false;
      found = vhost->routes_[i].get();
      return true;
    });
    return found;
  }
  for (const auto& route : vhost->routes_) {
    if (route->matches(headers, path)) return route.get();
  }
  return nullptr;
}

const std::string& RouteTable::name() const { return impl_->name; }
const HeaderMutations& RouteTable::requestHeaderMutations() const {
  return impl_->request_mutations;
}
const HeaderMutations& RouteTable::responseHeaderMutations() const {
  return impl_->response_mutations;
}
bool RouteTable::mostSpecificHeaderMutationsWins() const {
  return impl_->most_specific_header_mutations_wins;
}

std::vector<std::string> RouteTable::referencedClusters() const {
  std::vector<std::string> all;
  for (const auto& vhost : impl_->virtual_hosts) {
    for (const auto& route : vhost->routes_) route->addReferencedClusters(all);
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

namespace {

void applyLevels(const HeaderMutations& route, const HeaderMutations& vhost,
                 const HeaderMutations& table, bool most_specific_wins, http::HeaderMap& headers,
                 const http::StreamInfo& info) {
  // A later level overrides an earlier one.
  if (most_specific_wins) {
    table.apply(headers, info);
    vhost.apply(headers, info);
    route.apply(headers, info);
  } else {
    route.apply(headers, info);
    vhost.apply(headers, info);
    table.apply(headers, info);
  }
}

}  // namespace

void applyRequestHeaderMutations(const Route& route, const RouteTable& table,
                                 http::HeaderMap& headers, const http::StreamInfo& info) {
  applyLevels(route.requestHeaderMutations(), route.virtualHost().requestHeaderMutations(),
              table.requestHeaderMutations(), table.mostSpecificHeaderMutationsWins(), headers,
              info);
}

void applyResponseHeaderMutations(const Route& route, const RouteTable& table,
                                  http::HeaderMap& headers, const http::StreamInfo& info) {
  applyLevels(route.responseHeaderMutations(), route.virtualHost().responseHeaderMutations(),
              table.responseHeaderMutations(), table.mostSpecificHeaderMutationsWins(), headers,
              info);
}

}  // namespace remora::router
