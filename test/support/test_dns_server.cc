#include "test/support/test_dns_server.h"

#include <arpa/inet.h>
#include <event2/dns.h>
#include <event2/dns_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "absl/strings/ascii.h"

namespace remora::testing {

TestDnsServer::TestDnsServer(event::Dispatcher& dispatcher) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    throw std::runtime_error(std::string("test DNS server socket: ") + std::strerror(errno));
  }
  address_ = network::Address::fromSockaddr(reinterpret_cast<sockaddr*>(&sa), len);
  // The port owns the socket from here on and closes it.
  port_ = evdns_add_server_port_with_base(dispatcher.base(), fd_, 0, &onRequest, this);
  if (port_ == nullptr) {
    ::close(fd_);
    throw std::runtime_error("evdns_add_server_port_with_base failed");
  }
}

TestDnsServer::~TestDnsServer() {
  for (evdns_server_request* request : held_) evdns_server_request_drop(request);
  evdns_close_server_port(port_);
}

void TestDnsServer::resume() {
  paused_ = false;
  std::vector<evdns_server_request*> held = std::move(held_);
  held_.clear();
  for (evdns_server_request* request : held) answer(request);
}

void TestDnsServer::set(const std::string& name, const std::vector<std::string>& ips) {
  Records records;
  for (const std::string& ip : ips) {
    in_addr v4;
    std::array<uint8_t, 16> v6;
    if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
      records.v4.push_back(v4.s_addr);
    } else if (inet_pton(AF_INET6, ip.c_str(), v6.data()) == 1) {
      records.v6.push_back(v6);
    } else {
      throw std::invalid_argument("not an IP: " + ip);
    }
  }
  records_[absl::AsciiStrToLower(name)] = std::move(records);
}

void TestDnsServer::remove(const std::string& name) { records_.erase(absl::AsciiStrToLower(name)); }

uint64_t TestDnsServer::queries(const std::string& name) const {
  auto it = queries_.find(absl::AsciiStrToLower(name));
  return it == queries_.end() ? 0 : it->second;
}

void TestDnsServer::onRequest(evdns_server_request* request, void* arg) {
  auto& server = *static_cast<TestDnsServer*>(arg);
  for (int i = 0; i < request->nquestions; ++i) {
    ++server.queries_[absl::AsciiStrToLower(request->questions[i]->name)];
    ++server.total_queries_;
  }
  if (server.paused_) {
    server.held_.push_back(request);
  } else {
    server.answer(request);
  }
}

void TestDnsServer::answer(evdns_server_request* request) {
  int rcode = DNS_ERR_NONE;
  for (int i = 0; i < request->nquestions; ++i) {
    const evdns_server_question* question = request->questions[i];
    // evdns sends names in randomized case; the answer repeats the question's spelling.
    const std::string name = absl::AsciiStrToLower(question->name);
    auto it = records_.find(name);
    if (it == records_.end()) {
      rcode = DNS_ERR_NOTEXIST;
      continue;
    }
    const Records& records = it->second;
    if (question->type == EVDNS_TYPE_A && !records.v4.empty()) {
      evdns_server_request_add_a_reply(request, question->name, static_cast<int>(records.v4.size()),
                                       records.v4.data(), static_cast<int>(ttl_));
    } else if (question->type == EVDNS_TYPE_AAAA && !records.v6.empty()) {
      evdns_server_request_add_aaaa_reply(request, question->name,
                                          static_cast<int>(records.v6.size()), records.v6.data(),
                                          static_cast<int>(ttl_));
    }
  }
  evdns_server_request_respond(request, rcode);
}

}  // namespace remora::testing
