// A DNS server on 127.0.0.1:<ephemeral> UDP for resolver tests: answers A and AAAA questions from
// a table the test changes at will, NXDOMAIN for names it does not hold, and counts questions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "source/event/dispatcher.h"
#include "source/network/address.h"

struct evdns_server_port;
struct evdns_server_request;

namespace remora::testing {

class TestDnsServer {
 public:
  // Serves on `dispatcher`'s loop, so it answers while the test turns that loop.
  explicit TestDnsServer(event::Dispatcher& dispatcher);
  ~TestDnsServer();
  TestDnsServer(const TestDnsServer&) = delete;
  TestDnsServer& operator=(const TestDnsServer&) = delete;

  // 127.0.0.1:<port>, for DnsResolver's server list.
  const network::Address& address() const { return address_; }

  // Replaces the addresses `name` answers with (IPv4 and IPv6 literals, either family). A name
  // set to no addresses exists but has no records (NODATA); one never set or removed does not.
  void set(const std::string& name, const std::vector<std::string>& ips);
  void remove(const std::string& name);
  // The TTL of every answer from now on, in seconds.
  void setTtl(uint32_t seconds) { ttl_ = seconds; }
  // While paused, questions are counted but held unanswered; resuming answers them.
  void pause() { paused_ = true; }
  void resume();
  // Questions for `name` (any type) so far, and of every name.
  uint64_t queries(const std::string& name) const;
  uint64_t queries() const { return total_queries_; }

 private:
  static void onRequest(evdns_server_request* request, void* arg);
  void answer(evdns_server_request* request);

  int fd_ = -1;
  evdns_server_port* port_ = nullptr;
  network::Address address_;
  uint32_t ttl_ = 60;
  struct Records {
    std::vector<uint32_t> v4;  // Network order.
    std::vector<std::array<uint8_t, 16>> v6;
  };
  absl::flat_hash_map<std::string, Records> records_;  // Lower-case names.
  absl::flat_hash_map<std::string, uint64_t> queries_;
  uint64_t total_queries_ = 0;
  bool paused_ = false;
  std::vector<evdns_server_request*> held_;
};

}  // namespace remora::testing
