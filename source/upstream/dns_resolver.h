// Asynchronous name resolution for STRICT_DNS and LOGICAL_DNS clusters on one thread's loop:
// IP literals, then the hosts file, then DNS through libevent's evdns.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "source/event/dispatcher.h"
#include "source/network/address.h"
#include "source/upstream/dns_cluster_config.h"

struct evdns_base;

namespace remora::upstream {

struct DnsAnswer {
  network::Address address;  // Port 0.
  // The smallest TTL of the records used, the same in every answer of one result; 0 for IP
  // literals and hosts-file entries, which have none, so callers use their refresh rate.
  std::chrono::seconds ttl{0};
};

// A resolution in progress. Destroying it cancels it: its callback never runs afterwards. It may
// be destroyed from inside its own callback.
class DnsQuery {
 public:
  virtual ~DnsQuery() = default;
};
using DnsQueryPtr = std::unique_ptr<DnsQuery>;

class DnsResolver {
 public:
  // OK with at least one answer, or an error naming the host. Runs on the dispatcher's thread,
  // never inside resolve().
  using Callback = std::function<void(absl::Status status, std::vector<DnsAnswer> answers)>;

  // `servers`: DNS servers with their ports; empty: the nameservers of /etc/resolv.conf (when it
  // names none, every query fails rather than guessing at 127.0.0.1). `hosts_file` is read anew
  // by every resolve(), so an edited file counts from the next resolution on, as with c-ares.
  DnsResolver(event::Dispatcher& dispatcher, const std::vector<network::Address>& servers,
              std::string hosts_file = "/etc/hosts");
  ~DnsResolver();
  DnsResolver(const DnsResolver&) = delete;
  DnsResolver& operator=(const DnsResolver&) = delete;

  // Dispatcher thread only. AUTO asks for AAAA and falls back to A when there is none;
  // V4_PREFERRED the other way round; ALL asks for both and lists IPv4 first. The answers' TTL is
  // the smallest of the records used.
  DnsQueryPtr resolve(const std::string& name, DnsLookupFamily family, Callback callback);

  // How long one DNS server is given to answer, and how often it is asked, before a query fails.
  static constexpr std::chrono::seconds kTimeout{2};
  static constexpr int kAttempts = 2;

 private:
  class QueryImpl;

  event::Dispatcher& dispatcher_;
  const std::string hosts_file_;
  evdns_base* base_ = nullptr;
  // Why no DNS query can be sent (no servers, an unreadable resolv.conf); OK when they can.
  absl::Status setup_status_;
  // Queries still attached, detached when the resolver goes so none reaches into a freed base.
  absl::flat_hash_set<QueryImpl*> queries_;
};

}  // namespace remora::upstream
