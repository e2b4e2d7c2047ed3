#include "source/upstream/dns_resolver.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <netinet/in.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "spdlog/spdlog.h"

namespace remora::upstream {

namespace {

// The addresses `name` has in the hosts file at `path`, by family; both empty when the file is
// unreadable or does not list the name.
void readHostsFile(const std::string& path, absl::string_view name,
                   std::vector<network::Address>& v4, std::vector<network::Address>& v6) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view text = line;
    text = text.substr(0, text.find('#'));
    std::vector<absl::string_view> fields =
        absl::StrSplit(text, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.size() < 2) continue;
    const bool listed = std::any_of(fields.begin() + 1, fields.end(), [&](absl::string_view alias) {
      return absl::EqualsIgnoreCase(alias, name);
    });
    if (!listed) continue;
    auto address = network::Address::fromIpPort(std::string(fields[0]), 0);
    if (!address.ok()) continue;
    auto& out = address->family() == AF_INET ? v4 : v6;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const network::Address& a) {
      return a.asString() == address->asString();
    });
    if (!seen) out.push_back(*std::move(address));
  }
}

// The addresses of `v4` and `v6` that `family` asks for, in its order of preference.
std::vector<network::Address> pickFamily(DnsLookupFamily family, std::vector<network::Address> v4,
                                         std::vector<network::Address> v6) {
  switch (family) {
    case DnsLookupFamily::kV4Only:
      return v4;
    case DnsLookupFamily::kV6Only:
      return v6;
    case DnsLookupFamily::kAuto:
      return v6.empty() ? v4 : v6;
    case DnsLookupFamily::kV4Preferred:
      return v4.empty() ? v6 : v4;
    case DnsLookupFamily::kAll:
      v4.insert(v4.end(), v6.begin(), v6.end());
      return v4;
  }
  return {};
}

const char* recordType(int family) { return family == AF_INET ? "A" : "AAAA"; }

absl::Status dnsError(const std::string& name, int family, int code) {
  const std::string prefix = absl::StrCat("cannot resolve '", name, "': ");
  switch (code) {
    case DNS_ERR_NOTEXIST:
      return absl::NotFoundError(absl::StrCat(prefix, "no such name (NXDOMAIN)"));
    case DNS_ERR_NODATA:
      return absl::NotFoundError(absl::StrCat(prefix, "no ", recordType(family), " record"));
    case DNS_ERR_TIMEOUT:
      return absl::DeadlineExceededError(absl::StrCat(
          prefix, "the DNS server did not answer the ", recordType(family), " query within ",
          DnsResolver::kTimeout.count(), "s (", DnsResolver::kAttempts, " attempts)"));
    default:
      return absl::UnavailableError(
          absl::StrCat(prefix, recordType(family), " query failed: ", evdns_err_to_string(code)));
  }
}

}  // namespace

class DnsResolver::QueryImpl : public DnsQuery {
 public:
  QueryImpl(DnsResolver& resolver, std::string name, Callback callback)
      : resolver_(&resolver),
        name_(std::move(name)),
        callback_(std::move(callback)),
        timer_(resolver.dispatcher_.createTimer(
            [this] { finish(std::move(ready_status_), std::move(ready_answers_)); })) {
    resolver_->queries_.insert(this);
  }

  ~QueryImpl() override {
    if (resolver_ == nullptr) return;
    resolver_->queries_.erase(this);
    if (pending_ != nullptr) {
      // evdns still calls back (with DNS_ERR_CANCEL, or with the answer when it is already
      // queued), so the callback's argument outlives this query and only forgets it.
      pending_->query = nullptr;
      evdns_cancel_request(resolver_->base_, pending_->request);
    }
  }

  // Answers on the next loop turn: callers may rely on never being called back from resolve().
  void finishSoon(absl::Status status, std::vector<DnsAnswer> answers) {
    ready_status_ = std::move(status);
    ready_answers_ = std::move(answers);
    timer_->enable(std::chrono::milliseconds(0));
  }

  void startDns(DnsLookupFamily family) {
    switch (family) {
      case DnsLookupFamily::kV4Only:
        families_ = {AF_INET};
        break;
      case DnsLookupFamily::kV6Only:
        families_ = {AF_INET6};
        break;
      case DnsLookupFamily::kAuto:
        families_ = {AF_INET6, AF_INET};
        break;
      case DnsLookupFamily::kV4Preferred:
        families_ = {AF_INET, AF_INET6};
        break;
      case DnsLookupFamily::kAll:
        families_ = {AF_INET, AF_INET6};
        merge_ = true;
        break;
    }
    sendNext();
  }

  // The resolver is going: its evdns base fails whatever is in flight, and nothing may reach
  // this query from there any more.
  void detach() {
    if (pending_ != nullptr) pending_->query = nullptr;
    pending_ = nullptr;
    resolver_ = nullptr;
    // The timer belongs to the resolver's loop, which may go before this handle does.
    timer_.reset();
  }

 private:
  // evdns's callback argument. Owned by the callback, which evdns always makes exactly once per
  // started request (answer, failure, cancel or shutdown).
  struct Pending {
    QueryImpl* query;
    evdns_request* request = nullptr;
  };

  static void onEvdns(int result, char type, int count, int ttl, void* addresses, void* arg) {
    std::unique_ptr<Pending> pending(static_cast<Pending*>(arg));
    if (pending->query == nullptr) return;
    QueryImpl& query = *pending->query;
    query.pending_ = nullptr;
    query.onReply(result, type, count, ttl, addresses);
  }

  void sendNext() {
    const int family = families_[next_family_++];
    auto pending = std::make_unique<Pending>(Pending{this});
    evdns_request* request =
        family == AF_INET
            ? evdns_base_resolve_ipv4(resolver_->base_, name_.c_str(), 0, &onEvdns, pending.get())
            : evdns_base_resolve_ipv6(resolver_->base_, name_.c_str(), 0, &onEvdns, pending.get());
    if (request == nullptr) {
      // Refused up front (a name too long for DNS): evdns will not call back.
      finishSoon(absl::InvalidArgumentError(absl::StrCat("cannot resolve '", name_,
                                                         "': not a valid DNS name for an ",
                                                         recordType(family), " query")),
                 {});
      return;
    }
    pending->request = request;
    pending_ = pending.release();
  }

  void onReply(int result, char type, int count, int ttl, void* addresses) {
    const int family = families_[next_family_ - 1];
    if (result == DNS_ERR_NONE && count > 0) {
      for (int i = 0; i < count; ++i) {
        if (type == DNS_IPv4_A) {
          sockaddr_in sa{};
          sa.sin_family = AF_INET;
          sa.sin_addr = static_cast<const in_addr*>(addresses)[i];
          answers_.push_back(
              {network::Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa))});
        } else if (type == DNS_IPv6_AAAA) {
          sockaddr_in6 sa{};
          sa.sin6_family = AF_INET6;
          sa.sin6_addr = static_cast<const in6_addr*>(addresses)[i];
          answers_.push_back(
              {network::Address::fromSockaddr(reinterpret_cast<const sockaddr*>(&sa), sizeof(sa))});
        }
      }
      const std::chrono::seconds record_ttl(std::max(ttl, 0));
      min_ttl_ = min_ttl_ ? std::min(*min_ttl_, record_ttl) : record_ttl;
      if (!merge_) return done();
    } else {
      // "No such record" says least; any other failure explains more.
      if (error_.ok() || (last_error_ == DNS_ERR_NODATA && result != DNS_ERR_NODATA)) {
        error_ = dnsError(name_, family, result == DNS_ERR_NONE ? DNS_ERR_NODATA : result);
        last_error_ = result;
      }
    }
    if (next_family_ < families_.size()) return sendNext();
    done();
  }

  void done() {
    if (answers_.empty()) return finish(std::move(error_), {});
    for (DnsAnswer& answer : answers_) answer.ttl = min_ttl_.value_or(std::chrono::seconds(0));
    finish(absl::OkStatus(), std::move(answers_));
  }

  void finish(absl::Status status, std::vector<DnsAnswer> answers) {
    // The callback may destroy this query: nothing here touches it afterwards.
    Callback callback = std::move(callback_);
    callback_ = nullptr;
    if (callback) callback(std::move(status), std::move(answers));
  }

  DnsResolver* resolver_;
  const std::string name_;
  Callback callback_;
  // The record types to ask for, as AF_INET (A) and AF_INET6 (AAAA), in order; merge_: ask for
  // all and take every answer, otherwise stop at the first that has addresses.
  std::vector<int> families_;
  size_t next_family_ = 0;
  bool merge_ = false;
  std::vector<DnsAnswer> answers_;
  std::optional<std::chrono::seconds> min_ttl_;
  absl::Status error_;
  int last_error_ = DNS_ERR_NONE;
  Pending* pending_ = nullptr;  // The request in flight, if any.
  event::TimerPtr timer_;
  absl::Status ready_status_;
  std::vector<DnsAnswer> ready_answers_;
};

DnsResolver::DnsResolver(event::Dispatcher& dispatcher,
                         const std::vector<network::Address>& servers, std::string hosts_file)
    : dispatcher_(dispatcher), hosts_file_(std::move(hosts_file)) {
  // evdns writes to stderr unless told otherwise; its notes (a server timing out, ...) belong in
  // our log, and the failures that matter reach callers as statuses anyway.
  static const bool log_routed = [] {
    evdns_set_log_fn([](int is_warning, const char* message) {
      if (is_warning) {
        spdlog::info("evdns: {}", message);
      } else {
        spdlog::debug("evdns: {}", message);
      }
    });
    return true;
  }();
  (void)log_routed;
  // Inactive, the base must not keep a loop that would otherwise end running.
  base_ = evdns_base_new(dispatcher.base(), EVDNS_BASE_DISABLE_WHEN_INACTIVE);
  if (base_ == nullptr) {
    setup_status_ = absl::InternalError("cannot create an evdns resolver");
    return;
  }
  if (servers.empty()) {
    // The hosts file is read here on every query instead, so it is left out of evdns; and no
    // default 127.0.0.1 when resolv.conf names no server: failing says what is wrong.
    const int rc =
        evdns_base_resolv_conf_parse(base_,
                                     DNS_OPTION_NAMESERVERS | DNS_OPTION_SEARCH | DNS_OPTION_MISC |
                                         DNS_OPTION_NAMESERVERS_NO_DEFAULT,
                                     "/etc/resolv.conf");
    if (rc != 0 || evdns_base_count_nameservers(base_) == 0) {
      setup_status_ = absl::UnavailableError(
          absl::StrCat("no DNS server: /etc/resolv.conf ", rc == 1 || rc == 2   ? "cannot be read"
                                                           : rc == 0 || rc == 6 ? "names none"
                                                                                : "is invalid"));
    }
  } else {
    for (const network::Address& server : servers) {
      if (evdns_base_nameserver_sockaddr_add(base_, server.sockAddr(), server.sockLen(), 0) != 0) {
        setup_status_ =
            absl::UnavailableError(absl::StrCat("cannot use DNS server ", server.asString()));
      }
    }
  }
  evdns_base_set_option(base_, "timeout:", std::to_string(kTimeout.count()).c_str());
  evdns_base_set_option(base_, "attempts:", std::to_string(kAttempts).c_str());
}

DnsResolver::~DnsResolver() {
  for (QueryImpl* query : queries_) query->detach();
  queries_.clear();
  // Failing (rather than dropping) what is in flight makes evdns call back once more, which is
  // where each request's callback argument is freed.
  if (base_ != nullptr) evdns_base_free(base_, 1);
}

DnsQueryPtr DnsResolver::resolve(const std::string& name, DnsLookupFamily family,
                                 Callback callback) {
  auto query = std::make_unique<QueryImpl>(*this, name, std::move(callback));
  // A literal names exactly one address; the family only chooses among a name's addresses.
  if (auto literal = network::Address::fromIpPort(name, 0); literal.ok()) {
    query->finishSoon(absl::OkStatus(), {{*std::move(literal)}});
    return query;
  }
  std::string bare = name;
  if (!bare.empty() && bare.back() == '.') bare.pop_back();
  std::vector<network::Address> v4, v6;
  readHostsFile(hosts_file_, bare, v4, v6);
  std::vector<network::Address> listed = pickFamily(family, std::move(v4), std::move(v6));
  if (!listed.empty()) {
    std::vector<DnsAnswer> answers;
    for (network::Address& address : listed) answers.push_back({std::move(address)});
    query->finishSoon(absl::OkStatus(), std::move(answers));
  } else if (!setup_status_.ok()) {
    query->finishSoon(
        absl::Status(setup_status_.code(),
                     absl::StrCat("cannot resolve '", name, "': ", setup_status_.message())),
        {});
  } else {
    query->startDns(family);
  }
  return query;
}

}  // namespace remora::upstream
