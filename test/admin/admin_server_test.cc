// Specifies the admin listener: binding, routing by exact path, Envoy's method rules, and
// surviving malformed input, all over real loopback HTTP/1.1.
#include <catch2/catch.hpp>

#include <mutex>
#include <stdexcept>

#include "test/admin/admin_test_server.h"
#include "test/support/http_client.h"

namespace remora::admin {
namespace {

using testing::httpRequest;
using testing::rawExchange;

TEST_CASE("binding port 0 picks an ephemeral port and reports the address", "[admin]") {
  AdminTestServer admin;
  CHECK(admin.port() != 0);
  CHECK(admin.server().address() == "127.0.0.1:" + std::to_string(admin.port()));
}

TEST_CASE("an unknown path is a 404 listing the available paths", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("GET", "/nope");
  CHECK(r.status == 404);
  CHECK_THAT(r.body, Catch::StartsWith("invalid path. admin commands are:\n"));
  CHECK_THAT(r.body, Catch::Contains("  /ready: print server state"));
  CHECK_THAT(r.body, Catch::Contains("  /quitquitquit: exit the server\n"));
}

TEST_CASE("paths match exactly, ignoring the query and fragment", "[admin]") {
  AdminTestServer admin;
  CHECK(admin.request("GET", "/ready?x=1").status == 200);
  CHECK(admin.request("GET", "/ready/").status == 404);
  CHECK(admin.request("GET", "/READY").status == 404);
  CHECK(admin.server().handle("GET", "/ready#frag").status == 200);
  CHECK(admin.server().handle("GET", "http://host:1/ready?x").status == 200);
}

TEST_CASE("GET on a mutating endpoint is 405 with Allow: POST and does nothing", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("GET", "/quitquitquit");
  CHECK(r.status == 405);
  CHECK(r.header("Allow") == "POST");
  CHECK(r.body == "Method GET not allowed, POST required.\n");
  CHECK(admin.ctx().shutdownRequests() == 0);
}

TEST_CASE("POST /quitquitquit replies OK then requests shutdown once", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("POST", "/quitquitquit");
  CHECK(r.status == 200);
  CHECK(r.body == "OK\n");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (admin.ctx().shutdownRequests() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  CHECK(admin.ctx().shutdownRequests() == 1);
}

TEST_CASE("read-only endpoints refuse POST and PUT with Allow: GET, HEAD", "[admin]") {
  AdminTestServer admin;
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    const auto r = admin.request(method, "/stats");
    CHECK(r.status == 405);
    CHECK(r.header("Allow") == "GET, HEAD");
  }
}

TEST_CASE("HEAD answers headers with the GET body's length and no body", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("HEAD", "/ready");
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(r.header("Content-Length") == "5");
  // The connection carries nothing after the headers, so a follow-up parse would not desync.
  const std::string raw = rawExchange(
      "127.0.0.1", admin.port(), "HEAD /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK_THAT(raw, Catch::EndsWith("\r\n\r\n"));
}

TEST_CASE("responses carry content type and Envoy's no-cache headers", "[admin]") {
  AdminTestServer admin;
  const auto r = admin.request("GET", "/ready");
  CHECK(r.header("Content-Type") == kTextContentType);
  CHECK(r.header("Cache-Control") == "no-cache, max-age=0");
  CHECK(r.header("X-Content-Type-Options") == "nosniff");
}

TEST_CASE("garbage bytes get no crash and the next request is answered", "[admin]") {
  AdminTestServer admin;
  for (const std::string garbage :
       {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 16),
        std::string("GET\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("GET /ready HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST /quitquitquit HTTP/1.1\r\nContent-Length: -5\r\n\r\n"),
        std::string("GET /ready HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        std::string(100000, 'A') + "\r\n\r\n"}) {
    rawExchange("127.0.0.1", admin.port(), garbage, std::chrono::milliseconds(500));
    const auto r = admin.request("GET", "/ready");
    CHECK(r.status == 200);
    CHECK(r.body == "LIVE\n");
  }
  CHECK(admin.ctx().shutdownRequests() == 0);
}

TEST_CASE("oversized headers are refused without stopping the server", "[admin]") {
  AdminTestServer admin;
  const std::string big = "GET /ready HTTP/1.1\r\nX-Big: " + std::string(200 * 1024, 'b') +
                          "\r\nConnection: close\r\n\r\n";
  const std::string raw = rawExchange("127.0.0.1", admin.port(), big);
  CHECK_THAT(raw, !Catch::Contains("LIVE"));
  CHECK(admin.request("GET", "/ready").status == 200);
}

TEST_CASE("two requests on one keep-alive connection are both answered", "[admin]") {
  AdminTestServer admin;
  const std::string raw =
      rawExchange("127.0.0.1", admin.port(),
                  "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t count = 0;
  for (size_t at = raw.find("LIVE\n"); at != std::string::npos; at = raw.find("LIVE\n", at + 1)) {
    ++count;
  }
  CHECK(count == 2);
}

TEST_CASE("a throwing handler becomes a 500 and the server keeps serving", "[admin]") {
  AdminTestServer admin([](AdminServer& server) {
    server.addHandler("/boom", "throws", false, [](const QueryParams&) -> AdminResponse {
      throw std::runtime_error("kaboom");
    });
  });
  const auto r = admin.request("GET", "/boom");
  CHECK(r.status == 500);
  CHECK_THAT(r.body, Catch::Contains("kaboom"));
  CHECK(admin.request("GET", "/ready").status == 200);
}

TEST_CASE("handlers receive decoded query parameters", "[admin]") {
  std::mutex lock;  // The handler runs on the server's thread.
  QueryParams seen;
  AdminTestServer admin([&](AdminServer& server) {
    server.addHandler("/echo", "echo", false, [&](const QueryParams& params) {
      std::lock_guard<std::mutex> guard(lock);
      seen = params;
      return AdminResponse{};
    });
  });
  REQUIRE(admin.request("GET", "/echo?filter=a%2Eb+c&usedonly&x=1&x=2&bad=%zz%4").status == 200);
  std::lock_guard<std::mutex> guard(lock);
  CHECK(seen == QueryParams{{"filter", "a.b+c"}, {"usedonly", ""}, {"x", "1"}, {"bad", "%zz%4"}});
}

TEST_CASE("a later registration replaces an earlier one", "[admin]") {
  AdminTestServer admin([](AdminServer& server) {
    server.addHandler("/ready", "mine", false, [](const QueryParams&) {
      AdminResponse r;
      r.body = "custom\n";
      return r;
    });
  });
  CHECK(admin.request("GET", "/ready").body == "custom\n");
}

TEST_CASE("bind rejects a second bind and non-literal addresses", "[admin]") {
  event::Dispatcher dispatcher("bind-test");
  FakeAdminContext ctx;
  AdminServer server(dispatcher, ctx);
  CHECK(server.bind("localhost", 0).code() == absl::StatusCode::kInvalidArgument);
  CHECK(server.address().empty());
  REQUIRE(server.bind("127.0.0.1", 0).ok());
  CHECK(server.bind("127.0.0.1", 0).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("binding a port in use fails with the address in the message", "[admin]") {
  event::Dispatcher dispatcher("bind-test");
  FakeAdminContext ctx;
  AdminServer first(dispatcher, ctx);
  REQUIRE(first.bind("127.0.0.1", 0).ok());
  AdminServer second(dispatcher, ctx);
  const absl::Status status = second.bind("127.0.0.1", first.port());
  CHECK_FALSE(status.ok());
  CHECK_THAT(std::string(status.message()), Catch::Contains(std::to_string(first.port())));
}

TEST_CASE("the port can be bound again right after a server that served is gone", "[admin]") {
  uint16_t port = 0;
  {
    AdminTestServer admin;
    port = admin.port();
    REQUIRE(admin.request("GET", "/ready").status == 200);  // Leaves a TIME_WAIT behind.
  }
  event::Dispatcher dispatcher("rebind-test");
  FakeAdminContext ctx;
  AdminServer again(dispatcher, ctx);
  CHECK(again.bind("127.0.0.1", port).ok());
}

TEST_CASE("IPv6 loopback binds and serves", "[admin]") {
  event::Dispatcher dispatcher("v6-test");
  FakeAdminContext ctx;
  AdminServer server(dispatcher, ctx);
  registerDefaultHandlers(server, ctx);
  const absl::Status bound = server.bind("[::1]", 0);
  if (!bound.ok()) {
    WARN("no IPv6 loopback here: " << bound.message());
    return;
  }
  CHECK(server.address() == "[::1]:" + std::to_string(server.port()));
  std::thread loop([&] { dispatcher.run(); });
  const auto r = httpRequest("::1", server.port(), "GET", "/ready");
  dispatcher.exit();
  loop.join();
  CHECK(r.status == 200);
  CHECK(r.body == "LIVE\n");
}

}  // namespace
}  // namespace remora::admin
