// DnsResolver against a DNS server on loopback: literals and hosts-file names answer without a
// query, each lookup family asks for the right records, failures name the host, and neither a
// cancelled query nor a destroyed resolver ever calls back.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "source/event/dispatcher.h"
#include "source/upstream/dns_resolver.h"
#include "test/support/event_loop.h"
#include "test/support/test_dns_server.h"

namespace remora::upstream {
namespace {

using namespace std::chrono_literals;

// A hosts file of the test's own, rewritten at will.
class TempHostsFile {
 public:
  TempHostsFile() {
    char path[] = "/tmp/remora-hosts-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = path;
  }
  ~TempHostsFile() { ::unlink(path_.c_str()); }
  void write(const std::string& content) { std::ofstream(path_, std::ios::trunc) << content; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct Result {
  bool done = false;
  absl::Status status;
  std::vector<DnsAnswer> answers;
  std::vector<std::string> ips() const {
    std::vector<std::string> out;
    for (const DnsAnswer& answer : answers) out.push_back(answer.address.ip());
    return out;
  }
};

struct ResolverTest {
  DnsQueryPtr start(const std::string& name, DnsLookupFamily family, Result& result,
                    DnsResolver* with = nullptr) {
    return (with != nullptr ? *with : *resolver)
        .resolve(name, family, [&result](absl::Status status, std::vector<DnsAnswer> answers) {
          CHECK_FALSE(result.done);
          result.done = true;
          result.status = std::move(status);
          result.answers = std::move(answers);
        });
  }

  Result resolve(const std::string& name, DnsLookupFamily family = DnsLookupFamily::kV4Only) {
    Result result;
    DnsQueryPtr query = start(name, family, result);
    REQUIRE(testing::runLoopUntil(dispatcher, [&] { return result.done; }));
    return result;
  }

  // Turns the loop until a fresh query through `server` has been answered: whatever an earlier
  // query would have received has arrived by then too.
  void drain() {
    Result marker;
    DnsQueryPtr query = start("marker.test", DnsLookupFamily::kV4Only, marker, &*marker_resolver);
    REQUIRE(testing::runLoopUntil(dispatcher, [&] { return marker.done; }));
  }

  event::Dispatcher dispatcher{"dns-resolver-test"};
  testing::TestDnsServer server{dispatcher};
  TempHostsFile hosts;
  std::unique_ptr<DnsResolver> resolver =
      std::make_unique<DnsResolver>(dispatcher, std::vector{server.address()}, hosts.path());
  std::unique_ptr<DnsResolver> marker_resolver =
      std::make_unique<DnsResolver>(dispatcher, std::vector{server.address()}, hosts.path());
};

TEST_CASE("an IP literal resolves to itself on the next loop turn without a DNS query", "[dns]") {
  ResolverTest t;
  Result result;
  DnsQueryPtr query = t.start("10.1.2.3", DnsLookupFamily::kAuto, result);
  CHECK_FALSE(result.done);
  REQUIRE(testing::runLoopUntil(t.dispatcher, [&] { return result.done; }));
  REQUIRE(result.status.ok());
  CHECK(result.ips() == std::vector<std::string>{"10.1.2.3"});
  CHECK(result.answers[0].address.port() == 0);
  CHECK(result.answers[0].ttl == 0s);

  Result v6 = t.resolve("::1", DnsLookupFamily::kV4Only);
  REQUIRE(v6.status.ok());
  CHECK(v6.ips() == std::vector<std::string>{"::1"});
  CHECK(t.server.queries() == 0);
}

TEST_CASE("a hosts file name answers without DNS and an edited file counts at the next lookup",
          "[dns]") {
  ResolverTest t;
  t.server.set("svc.test", {"10.9.9.9"});
  t.hosts.write("# comment\n127.0.0.1 localhost\n10.0.0.1\tSvc.Test svc-alias # trailing\n");
  Result first = t.resolve("svc.test");
  REQUIRE(first.status.ok());
  CHECK(first.ips() == std::vector<std::string>{"10.0.0.1"});
  CHECK(first.answers[0].ttl == 0s);
  CHECK(t.resolve("svc-alias").ips() == std::vector<std::string>{"10.0.0.1"});

  t.hosts.write("10.0.0.2 other svc.test\n");
  Result second = t.resolve("svc.test");
  REQUIRE(second.status.ok());
  CHECK(second.ips() == std::vector<std::string>{"10.0.0.2"});
  CHECK(t.server.queries() == 0);

  // Gone from the file: DNS answers again.
  t.hosts.write("");
  CHECK(t.resolve("svc.test").ips() == std::vector<std::string>{"10.9.9.9"});
  CHECK(t.server.queries("svc.test") == 1);
}

TEST_CASE("a hosts file name without an address of the wanted family goes to DNS", "[dns]") {
  ResolverTest t;
  t.hosts.write("10.0.0.1 svc.test\n");
  t.server.set("svc.test", {"fd00::5"});
  CHECK(t.resolve("svc.test", DnsLookupFamily::kV6Only).ips() ==
        std::vector<std::string>{"fd00::5"});
  CHECK(t.resolve("svc.test", DnsLookupFamily::kAll).ips() == std::vector<std::string>{"10.0.0.1"});
}

TEST_CASE("an A answer gives its addresses with the record TTL", "[dns]") {
  ResolverTest t;
  t.server.set("a.test", {"10.0.0.1", "10.0.0.2"});
  t.server.setTtl(42);
  Result result = t.resolve("a.test", DnsLookupFamily::kV4Only);
  REQUIRE(result.status.ok());
  CHECK(result.ips() == std::vector<std::string>{"10.0.0.1", "10.0.0.2"});
  for (const DnsAnswer& answer : result.answers) CHECK(answer.ttl == 42s);
  CHECK(t.server.queries("a.test") == 1);
}

TEST_CASE("V6_ONLY asks for AAAA records only", "[dns]") {
  ResolverTest t;
  t.server.set("dual.test", {"10.0.0.1", "fd00::1"});
  Result result = t.resolve("dual.test", DnsLookupFamily::kV6Only);
  REQUIRE(result.status.ok());
  CHECK(result.ips() == std::vector<std::string>{"fd00::1"});
  CHECK(t.server.queries("dual.test") == 1);
}

TEST_CASE("V6_ONLY fails for a name that has only A records", "[dns]") {
  ResolverTest t;
  t.server.set("v4.test", {"10.0.0.1"});
  Result result = t.resolve("v4.test", DnsLookupFamily::kV6Only);
  CHECK(absl::IsNotFound(result.status));
  CHECK(result.status.message() == "cannot resolve 'v4.test': no AAAA record");
}

TEST_CASE("AUTO takes AAAA records when there are some", "[dns]") {
  ResolverTest t;
  t.server.set("dual.test", {"10.0.0.1", "fd00::1"});
  CHECK(t.resolve("dual.test", DnsLookupFamily::kAuto).ips() ==
        std::vector<std::string>{"fd00::1"});
  CHECK(t.server.queries("dual.test") == 1);
}

TEST_CASE("AUTO falls back to A when there is no AAAA record", "[dns]") {
  ResolverTest t;
  t.server.set("v4.test", {"10.0.0.7"});
  t.server.setTtl(30);
  Result result = t.resolve("v4.test", DnsLookupFamily::kAuto);
  REQUIRE(result.status.ok());
  CHECK(result.ips() == std::vector<std::string>{"10.0.0.7"});
  CHECK(result.answers[0].ttl == 30s);
  CHECK(t.server.queries("v4.test") == 2);
}

TEST_CASE("V4_PREFERRED falls back to AAAA when there is no A record", "[dns]") {
  ResolverTest t;
  t.server.set("v6.test", {"fd00::9"});
  t.server.set("dual.test", {"10.0.0.1", "fd00::1"});
  CHECK(t.resolve("v6.test", DnsLookupFamily::kV4Preferred).ips() ==
        std::vector<std::string>{"fd00::9"});
  CHECK(t.resolve("dual.test", DnsLookupFamily::kV4Preferred).ips() ==
        std::vector<std::string>{"10.0.0.1"});
}

TEST_CASE("ALL merges both families with IPv4 first", "[dns]") {
  ResolverTest t;
  t.server.set("dual.test", {"fd00::2", "10.0.0.3", "10.0.0.4"});
  Result result = t.resolve("dual.test", DnsLookupFamily::kAll);
  REQUIRE(result.status.ok());
  CHECK(result.ips() == std::vector<std::string>{"10.0.0.3", "10.0.0.4", "fd00::2"});
  CHECK(t.server.queries("dual.test") == 2);

  t.server.set("v6.test", {"fd00::9"});
  CHECK(t.resolve("v6.test", DnsLookupFamily::kAll).ips() == std::vector<std::string>{"fd00::9"});
}

TEST_CASE("an unknown name fails with NXDOMAIN naming the host", "[dns]") {
  ResolverTest t;
  Result result = t.resolve("nope.test", DnsLookupFamily::kAuto);
  CHECK(absl::IsNotFound(result.status));
  CHECK(result.status.message() == "cannot resolve 'nope.test': no such name (NXDOMAIN)");
  CHECK(result.answers.empty());
}

TEST_CASE("a DNS server that never answers fails the query after the timeout naming the host",
          "[dns]") {
  ResolverTest t;
  t.server.set("a.test", {"10.0.0.1"});
  t.server.pause();
  Result result;
  DnsQueryPtr query = t.start("a.test", DnsLookupFamily::kV4Only, result);
  REQUIRE(testing::runLoopUntil(
      t.dispatcher, [&] { return result.done; }, 20s));
  CHECK(absl::IsDeadlineExceeded(result.status));
  CHECK(result.status.message() ==
        "cannot resolve 'a.test': the DNS server did not answer the A query within 2s (2 "
        "attempts)");
  CHECK(t.server.queries("a.test") == 2);
}

TEST_CASE("a query cancelled before its answer never calls back", "[dns]") {
  ResolverTest t;
  t.server.set("a.test", {"10.0.0.1"});
  t.server.pause();
  Result cancelled;
  DnsQueryPtr query = t.start("a.test", DnsLookupFamily::kAll, cancelled);
  REQUIRE(testing::runLoopUntil(t.dispatcher, [&] { return t.server.queries("a.test") >= 1; }));
  query.reset();
  t.server.resume();
  t.drain();
  CHECK_FALSE(cancelled.done);
}

TEST_CASE("a query cancelled before its immediate answer is delivered never calls back", "[dns]") {
  ResolverTest t;
  Result literal;
  DnsQueryPtr query = t.start("10.0.0.1", DnsLookupFamily::kAuto, literal);
  query.reset();
  t.drain();
  CHECK_FALSE(literal.done);
}

TEST_CASE("a query cancelled after its answer arrived but before delivery never calls back",
          "[dns]") {
  ResolverTest t;
  t.server.set("a.test", {"10.0.0.1"});
  // Both answers leave the server together, so the client reads both in one turn and the
  // second is already queued for delivery when the first callback cancels it.
  t.server.pause();
  DnsQueryPtr first;
  DnsQueryPtr second;
  int calls = 0;
  auto cancel = [&](DnsQueryPtr& other) {
    return [&calls, &other](absl::Status, std::vector<DnsAnswer>) {
      ++calls;
      other.reset();
    };
  };
  first = t.resolver->resolve("a.test", DnsLookupFamily::kV4Only, cancel(second));
  second = t.resolver->resolve("a.test", DnsLookupFamily::kV4Only, cancel(first));
  REQUIRE(testing::runLoopUntil(t.dispatcher, [&] { return t.server.queries("a.test") >= 2; }));
  t.server.resume();
  REQUIRE(testing::runLoopUntil(t.dispatcher, [&] { return calls >= 1; }));
  t.drain();
  CHECK(calls == 1);
}

TEST_CASE("a resolver destroyed with a query in flight never calls back", "[dns]") {
  ResolverTest t;
  t.server.set("a.test", {"10.0.0.1"});
  t.server.pause();
  Result in_flight;
  Result literal;
  DnsQueryPtr query = t.start("a.test", DnsLookupFamily::kV4Only, in_flight);
  REQUIRE(testing::runLoopUntil(t.dispatcher, [&] { return t.server.queries("a.test") >= 1; }));
  DnsQueryPtr literal_query = t.start("10.0.0.2", DnsLookupFamily::kV4Only, literal);
  t.resolver.reset();
  t.server.resume();
  t.drain();
  CHECK_FALSE(in_flight.done);
  CHECK_FALSE(literal.done);
  // The handles outlive their resolver harmlessly.
  query.reset();
  literal_query.reset();
}

TEST_CASE("a query may be destroyed from inside its own callback", "[dns]") {
  ResolverTest t;
  t.server.set("a.test", {"10.0.0.1"});
  DnsQueryPtr query;
  bool called = false;
  query = t.resolver->resolve("a.test", DnsLookupFamily::kAuto,
                              [&](absl::Status status, std::vector<DnsAnswer>) {
                                called = status.ok();
                                query.reset();
                              });
  REQUIRE(testing::runLoopUntil(t.dispatcher, [&] { return called; }));
  CHECK(query == nullptr);
}

}  // namespace
}  // namespace remora::upstream
