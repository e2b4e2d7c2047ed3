// Checks the HTTP test tools against each other (HttpTestClient straight to HttpBackend, no proxy),
// so that an integration test failing through remora points at remora, not at its test tools.
#include "test/support/http_backend.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "test/support/http_test_client.h"
#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1024 * 1024;

ClientRequest get(std::string path) {
  ClientRequest request;
  request.path = std::move(path);
  return request;
}

TEST_CASE("HttpBackend serves three requests over one keep-alive connection", "[http_backend]") {
  HttpBackend backend("alpha");
  HttpTestClient client(backend.port());
  REQUIRE(client.connected());
  for (int i = 0; i < 3; ++i) {
    ClientResponse r = client.request(get("/r" + std::to_string(i)));
    INFO(r.error);
    REQUIRE(r.complete);
    CHECK(r.status == 200);
    CHECK(r.body == "alpha");
    CHECK(r.header("x-backend") == "alpha");
    CHECK(r.header("content-length") == "5");
    CHECK_FALSE(r.closed);
  }
  CHECK(backend.connectionsAccepted() == 1);
  CHECK(backend.openConnections() == 1);
  REQUIRE(waitFor([&] { return backend.requestsServed() == 3; }, 5s));
  const std::vector<BackendRequest> requests = backend.requests();
  REQUIRE(requests.size() == 3);
  for (size_t i = 0; i < requests.size(); ++i) {
    CHECK(requests[i].connection_id == requests[0].connection_id);
    CHECK(requests[i].index_on_connection == i);
    CHECK(requests[i].path == "/r" + std::to_string(i));
    CHECK(requests[i].header("host") == "backend");
    CHECK(requests[i].complete);
  }
  CHECK(backend.errors().empty());
}

TEST_CASE("HttpBackend answers pipelined requests in the order they arrived", "[http_backend]") {
  // The first reply is the slowest, so answering as soon as ready would reorder them.
  HttpBackend backend("p", [](const BackendRequest& request) {
    BackendReply reply;
    reply.body = request.path;
    if (request.path == "/first") reply.delay = 100ms;
    if (request.path == "/second") reply.chunked = 3;
    return reply;
  });
  HttpTestClient client(backend.port());
  ClientRequest post = get("/third");
  post.method = "POST";
  post.body = "payload";
  REQUIRE(client.sendPipelined({get("/first"), get("/second"), post}));
  const std::vector<ClientResponse> responses = client.readResponses(3);
  REQUIRE(responses.size() == 3);
  for (const ClientResponse& r : responses) INFO(r.error);
  CHECK(responses[0].body == "/first");
  CHECK(responses[1].body == "/second");
  CHECK(responses[1].chunked);
  CHECK(responses[2].body == "/third");
  const std::vector<BackendRequest> requests = backend.requests();
  REQUIRE(requests.size() == 3);
  CHECK(requests[2].body == "payload");
  CHECK(requests[2].index_on_connection == 2);
  CHECK(backend.connectionsAccepted() == 1);
}

TEST_CASE("HttpBackend de-chunks a 10 MiB chunked upload and checksums it", "[http_backend]") {
  HttpBackend backend;
  HttpTestClient client(backend.port());
  ClientRequest upload = get("/upload");
  upload.method = "PUT";
  upload.upload_bytes = 10 * kMiB;
  upload.chunked = true;
  upload.chunk_size = 100 * 1000;  // Not a power of two, so chunks straddle the read buffers.
  upload.trailers = {{"x-digest", "done"}};
  ClientResponse r = client.request(upload);
  INFO(r.error);
  REQUIRE(r.status == 200);
  const std::vector<BackendRequest> requests = backend.requests();
  REQUIRE(requests.size() == 1);
  const BackendRequest& got = requests[0];
  CHECK(got.complete);
  CHECK(got.chunked);
  CHECK(got.body_size == 10 * kMiB);
  CHECK(got.body_checksum == checksumOfPattern(10 * kMiB));
  CHECK_FALSE(got.body_stored);
  CHECK(got.body.empty());
  CHECK(got.trailers == HeaderList{{"x-digest", "done"}});
}

TEST_CASE("HttpBackend streams a 10 MiB download that the client verifies by checksum",
          "[http_backend]") {
  const bool chunked = GENERATE(false, true);
  INFO((chunked ? "chunked" : "content-length"));
  HttpBackend backend("big", [chunked](const BackendRequest& request) {
    BackendReply reply;
    if (request.path != "/download") return reply;
    reply.stream_bytes = 10 * kMiB;
    if (chunked) {
      reply.chunked = 7;
      reply.trailers = {{"x-end", "yes"}};
    }
    return reply;
  });
  HttpTestClient client(backend.port());
  ReadOptions options;
  options.store_body = false;
  ClientResponse r = client.request(get("/download"), options);
  INFO(r.error);
  REQUIRE(r.complete);
  CHECK(r.chunked == chunked);
  CHECK(r.body.empty());
  CHECK(r.body_size == 10 * kMiB);
  CHECK(r.body_checksum == checksumOfPattern(10 * kMiB));
  if (chunked) CHECK(r.trailers == HeaderList{{"x-end", "yes"}});
  // The connection is still usable: the body ended exactly where the framing said.
  ClientResponse next = client.request(get("/again"));
  INFO(next.error);
  CHECK(next.complete);
  CHECK(backend.connectionsAccepted() == 1);
}

TEST_CASE("HttpBackend sends 100 Continue before it reads an expecting body", "[http_backend]") {
  HttpBackend backend;
  HttpTestClient client(backend.port());
  ClientRequest post = get("/expect");
  post.method = "POST";
  post.body = "after the continue";
  post.expect_continue = true;
  REQUIRE(client.send(post));
  CHECK(client.bodySent());
  ClientResponse r = client.readResponse();
  INFO(r.error);
  REQUIRE(r.complete);
  REQUIRE(r.interim.size() == 1);
  CHECK(r.interim[0].status == 100);
  CHECK(r.status == 200);
  const std::vector<BackendRequest> requests = backend.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].expect_continue);
  CHECK(requests[0].body == "after the continue");
}

TEST_CASE("HttpBackend rejects an expecting request before its body when told to",
          "[http_backend]") {
  HttpBackend::Options options;
  options.expect_handler = [](const BackendRequest&) -> std::optional<BackendReply> {
    BackendReply reply;
    reply.status = 417;
    return reply;
  };
  HttpBackend backend(options);
  HttpTestClient client(backend.port());
  ClientRequest post = get("/expect");
  post.method = "POST";
  post.body = "never sent";
  post.expect_continue = true;
  REQUIRE(client.send(post));
  CHECK_FALSE(client.bodySent());
  ClientResponse r = client.readResponse();
  CHECK(r.interim.empty());
  CHECK(r.status == 417);
  CHECK(r.header("connection") == "close");
  CHECK(client.waitForClose(5s));
  const std::vector<BackendRequest> requests = backend.requests();
  REQUIRE(requests.size() == 1);
  CHECK_FALSE(requests[0].complete);
  CHECK(requests[0].body_size == 0);
  CHECK(backend.requestsReceived() == 0);
}

TEST_CASE("HttpBackend echoes raw bytes after a WebSocket upgrade", "[http_backend]") {
  HttpBackend backend;
  HttpTestClient client(backend.port());
  ClientRequest upgrade = get("/ws");
  upgrade.headers = {{"Connection", "Upgrade"}, {"Upgrade", "websocket"}};
  ClientResponse r = client.request(upgrade);
  INFO(r.error);
  REQUIRE(r.status == 101);
  CHECK(r.header("upgrade") == "websocket");
  REQUIRE(client.sendRaw("not http at all\r\n\r\n"));
  CHECK(client.receiveExactly(19).data == "not http at all\r\n\r\n");
  const std::string big = patternBytes(0, 3 * kMiB);
  REQUIRE(client.sendRaw(big));
  CHECK(client.receiveExactly(big.size()).data == big);
  client.shutdownWrite();
  ReadResult rest = client.receiveUntilClose();
  CHECK(rest.data.empty());
  CHECK(rest.eof);
}

TEST_CASE("HttpBackend answers CONNECT with 200 and then echoes", "[http_backend]") {
  HttpBackend backend;
  HttpTestClient client(backend.port());
  ClientRequest connect = get("example.com:443");
  connect.method = "CONNECT";
  connect.host = "example.com:443";
  ClientResponse r = client.request(connect);
  INFO(r.error);
  REQUIRE(r.status == 200);
  CHECK(r.complete);
  REQUIRE(client.sendRaw("tunnelled"));
  CHECK(client.receiveExactly(9).data == "tunnelled");
  CHECK(backend.requests().at(0).path == "example.com:443");
}

TEST_CASE("A mid-response close leaves the client with an incomplete body", "[http_backend]") {
  HttpBackend backend("cut", [](const BackendRequest&) {
    BackendReply reply;
    reply.body = std::string(100, 'x');
    reply.close_after_bytes = 10;
    return reply;
  });
  HttpTestClient client(backend.port());
  ClientResponse r = client.request(get("/"));
  CHECK(r.status == 200);
  CHECK_FALSE(r.complete);
  CHECK(r.closed);
  CHECK(r.body == std::string(10, 'x'));
  CHECK(r.error.find("closed") != std::string::npos);
  CHECK(backend.requestsServed() == 0);
}

TEST_CASE("HttpBackend answers HEAD with the GET headers and no body", "[http_backend]") {
  HttpBackend backend("head-check");
  HttpTestClient client(backend.port());
  ClientRequest head = get("/");
  head.method = "HEAD";
  ClientResponse r = client.request(head);
  INFO(r.error);
  REQUIRE(r.complete);
  CHECK(r.header("content-length") == "10");
  CHECK(r.body.empty());
  // A body byte sent after the HEAD response would corrupt the next response on the connection.
  ClientResponse next = client.request(get("/"));
  INFO(next.error);
  CHECK(next.body == "head-check");
}

TEST_CASE("HttpBackend closes after answering an HTTP/1.0 request without keep-alive",
          "[http_backend]") {
  HttpBackend backend;
  HttpTestClient client(backend.port());
  ClientRequest old = get("/");
  old.version = "HTTP/1.0";
  ClientResponse r = client.request(old);
  INFO(r.error);
  REQUIRE(r.complete);
  CHECK(r.header("connection") == "close");
  CHECK(client.waitForClose(5s));
  CHECK(backend.requests().at(0).version == "HTTP/1.0");
}

TEST_CASE("HttpBackend rejects and records a request with ambiguous framing", "[http_backend]") {
  HttpBackend backend;
  HttpTestClient client(backend.port());
  REQUIRE(client.sendRaw(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n"));
  ClientResponse r = client.readResponse();
  CHECK(r.status == 400);
  CHECK(client.waitForClose(5s));
  CHECK(backend.requests().empty());
  const std::vector<std::string> errors = backend.errors();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("both Content-Length and Transfer-Encoding") != std::string::npos);
}

TEST_CASE("HttpBackend resets the connection when the reply says so", "[http_backend]") {
  HttpBackend backend("rst", [](const BackendRequest&) {
    BackendReply reply;
    reply.reset = true;
    return reply;
  });
  HttpTestClient client(backend.port());
  ClientResponse r = client.request(get("/"));
  CHECK(r.status == 0);
  CHECK(r.closed);
  CHECK(r.error.find("before a response") != std::string::npos);
}

TEST_CASE("A reset after part of a body leaves the client with an incomplete body",
          "[http_backend]") {
  HttpBackend backend("rst", [](const BackendRequest&) {
    BackendReply reply;
    reply.stream_bytes = 1000;
    reply.close_after_bytes = 0;
    reply.reset = true;
    return reply;
  });
  HttpTestClient client(backend.port());
  ClientResponse r = client.request(get("/"));
  // The RST may overtake the head, so all that is certain is that nothing complete arrived.
  CHECK_FALSE(r.complete);
  CHECK(r.closed);
  CHECK(r.body_size < 1000);
}

TEST_CASE("HttpTestClient reads a close-delimited body up to the server's close",
          "[http_backend]") {
  HttpBackend backend("eof", [](const BackendRequest&) {
    BackendReply reply;
    reply.body = "until the end";
    reply.close_delimited = true;
    return reply;
  });
  HttpTestClient client(backend.port());
  ClientResponse r = client.request(get("/"));
  INFO(r.error);
  CHECK(r.complete);
  CHECK(r.closed);
  CHECK(r.header("content-length").empty());
  CHECK(r.body == "until the end");
}

TEST_CASE("HttpTestClient keeps 1xx interim responses apart from the final one", "[http_backend]") {
  HttpBackend backend("hints", [](const BackendRequest&) {
    BackendReply reply;
    reply.informational = {103, 103};
    reply.body = "hints";
    return reply;
  });
  HttpTestClient client(backend.port());
  ClientResponse r = client.request(get("/"));
  INFO(r.error);
  CHECK(r.status == 200);
  CHECK(r.interim.size() == 2);
  CHECK(r.body == "hints");
}

TEST_CASE("HttpTestClient rejects a response with conflicting Content-Length fields",
          "[http_backend]") {
  HttpBackend backend("liar", [](const BackendRequest&) {
    BackendReply reply;
    reply.raw = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc";
    return reply;
  });
  HttpTestClient client(backend.port());
  ClientResponse r = client.request(get("/"));
  CHECK_FALSE(r.complete);
  CHECK(r.error.find("Content-Length") != std::string::npos);
}

TEST_CASE("HttpBackend keeps a no_response connection open without answering", "[http_backend]") {
  HttpBackend backend("silent", [](const BackendRequest&) {
    BackendReply reply;
    reply.no_response = true;
    return reply;
  });
  HttpTestClient client(backend.port());
  ReadOptions options;
  options.timeout = 100ms;
  ClientResponse r = client.request(get("/"), options);
  CHECK(r.status == 0);
  CHECK(r.error.find("timed out") != std::string::npos);
  CHECK(waitFor([&] { return backend.requestsReceived() == 1; }, 5s));
  CHECK(backend.openConnections() == 1);
}

TEST_CASE("A connection that is never answered does not hold up fifty others", "[http_backend]") {
  HttpBackend backend("many", [](const BackendRequest& request) {
    BackendReply reply;
    reply.no_response = request.path == "/stuck";
    reply.body = request.path;
    return reply;
  });
  HttpTestClient stuck(backend.port());
  REQUIRE(stuck.send(get("/stuck")));
  REQUIRE(waitFor([&] { return backend.requestsReceived() == 1; }, 5s));
  std::vector<std::unique_ptr<HttpTestClient>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<HttpTestClient>(backend.port()));
    REQUIRE(clients.back()->send(get("/" + std::to_string(i))));
  }
  for (int i = 0; i < 50; ++i) {
    ClientResponse r = clients[i]->readResponse();
    INFO(r.error);
    CHECK(r.body == "/" + std::to_string(i));
  }
  CHECK(backend.connectionsAccepted() == 51);
  CHECK(backend.openConnections() == 51);
}

TEST_CASE("HttpBackend closes idle keep-alive connections on request", "[http_backend]") {
  HttpBackend backend;
  HttpTestClient client(backend.port());
  REQUIRE(client.request(get("/")).complete);
  backend.closeIdleConnections();
  CHECK(client.waitForClose(5s));
  CHECK(waitFor([&] { return backend.openConnections() == 0; }, 5s));
}

TEST_CASE("HttpBackend serves IPv6 loopback clients when asked to", "[http_backend]") {
  HttpBackend::Options options;
  options.name = "six";
  options.ipv6 = true;
  HttpBackend backend(options);
  REQUIRE(backend.port() != 0);
  HttpTestClient client(backend.port(), "::1");
  ClientResponse r = client.request(get("/"));
  INFO(r.error);
  CHECK(r.body == "six");
}

}  // namespace
}  // namespace remora::testing
