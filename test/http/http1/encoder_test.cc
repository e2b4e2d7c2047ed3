#include "source/http/http1/encoder.h"

#include <event2/buffer.h>

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "source/http/http1/parser.h"

namespace remora::http::http1 {
namespace {

using BufferPtr = std::unique_ptr<evbuffer, decltype(&evbuffer_free)>;

BufferPtr newBuffer() { return BufferPtr(evbuffer_new(), &evbuffer_free); }

std::string contents(evbuffer* buf) {
  size_t len = evbuffer_get_length(buf);
  std::string out(len, '\0');
  evbuffer_copyout(buf, out.data(), len);
  return out;
}

HeaderMap requestHeaders() {
  HeaderMap h;
  h.add(":method", "POST");
  h.add(":path", "/submit?x=1");
  h.add(":scheme", "http");
  h.add("content-type", "text/plain");
  h.add(":authority", "example.com");
  h.add("transfer-encoding", "chunked");
  return h;
}

// Parses one message back, so the encoder's output is checked against our own strict parser.
class Collector : public ParserCallbacks {
 public:
  void onHeaders(HeaderMap&& h, const MessageHead& m) override {
    headers = std::move(h);
    head = m;
  }
  void onBody(absl::string_view data) override { body.append(data.data(), data.size()); }
  void onTrailers(HeaderMap&& t) override { trailers = std::move(t); }
  void onMessageComplete() override { complete = true; }

  HeaderMap headers;
  MessageHead head;
  std::string body;
  HeaderMap trailers;
  bool complete = false;
};

TEST_CASE("Request head puts Host first and skips other pseudo-headers", "[http1][encoder]") {
  auto out = newBuffer();
  encodeRequestHead(requestHeaders(), out.get());
  CHECK(contents(out.get()) ==
        "POST /submit?x=1 HTTP/1.1\r\nhost: example.com\r\ncontent-type: text/plain\r\n"
        "transfer-encoding: chunked\r\n\r\n");
}

TEST_CASE("Request head without :authority has no Host", "[http1][encoder]") {
  HeaderMap h;
  h.add(":method", "GET");
  h.add(":path", "/");
  auto out = newBuffer();
  encodeRequestHead(h, out.get());
  CHECK(contents(out.get()) == "GET / HTTP/1.1\r\n\r\n");
}

TEST_CASE("CONNECT request head uses the authority as its target", "[http1][encoder]") {
  HeaderMap h;
  h.add(":method", "CONNECT");
  h.add(":authority", "db.internal:5432");
  auto out = newBuffer();
  encodeRequestHead(h, out.get());
  CHECK(contents(out.get()) ==
        "CONNECT db.internal:5432 HTTP/1.1\r\nhost: db.internal:5432\r\n\r\n");
}

TEST_CASE("Response head carries the status and its standard reason phrase", "[http1][encoder]") {
  HeaderMap h;
  h.add(":status", "404");
  h.add("content-length", "0");
  auto out = newBuffer();
  encodeResponseHead(h, 1, out.get());
  CHECK(contents(out.get()) == "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
}

TEST_CASE("Response head for an HTTP/1.0 client says HTTP/1.0", "[http1][encoder]") {
  HeaderMap h;
  h.add(":status", "200");
  auto out = newBuffer();
  encodeResponseHead(h, 0, out.get());
  CHECK(contents(out.get()) == "HTTP/1.0 200 OK\r\n\r\n");
}

TEST_CASE("Reason phrases follow RFC 9110 and unknown codes say Unknown", "[http1][encoder]") {
  CHECK(reasonPhrase(100) == "Continue");
  CHECK(reasonPhrase(200) == "OK");
  CHECK(reasonPhrase(413) == "Content Too Large");
  CHECK(reasonPhrase(431) == "Request Header Fields Too Large");
  CHECK(reasonPhrase(503) == "Service Unavailable");
  CHECK(reasonPhrase(511) == "Network Authentication Required");
  CHECK(reasonPhrase(299) == "Unknown");
  CHECK(reasonPhrase(0) == "Unknown");
}

TEST_CASE("A header with CR or LF in its value is not written", "[http1][encoder]") {
  HeaderMap h;
  h.add(":status", "200");
  h.add("x-bad", "a\r\nx-injected: 1");
  h.add("x-good", "b");
  auto out = newBuffer();
  encodeResponseHead(h, 1, out.get());
  CHECK(contents(out.get()) == "HTTP/1.1 200 OK\r\nx-good: b\r\n\r\n");
}

TEST_CASE("A chunk is framed with its hex size", "[http1][encoder]") {
  auto out = newBuffer();
  std::string data(26, 'z');
  encodeChunk(data.data(), data.size(), out.get());
  CHECK(contents(out.get()) == "1a\r\n" + data + "\r\n");
}

TEST_CASE("An empty chunk writes nothing", "[http1][encoder]") {
  auto out = newBuffer();
  encodeChunk("", 0, out.get());
  auto empty = newBuffer();
  encodeChunk(empty.get(), out.get());
  CHECK(evbuffer_get_length(out.get()) == 0);
}

TEST_CASE("A chunk from an evbuffer moves its contents", "[http1][encoder]") {
  auto src = newBuffer();
  evbuffer_add(src.get(), "hello", 5);
  auto out = newBuffer();
  evbuffer_add(out.get(), "HEAD", 4);
  encodeChunk(src.get(), out.get());
  CHECK(evbuffer_get_length(src.get()) == 0);
  CHECK(contents(out.get()) == "HEAD5\r\nhello\r\n");
}

TEST_CASE("The last chunk without trailers is 0 CRLF CRLF", "[http1][encoder]") {
  auto out = newBuffer();
  encodeLastChunk(nullptr, out.get());
  CHECK(contents(out.get()) == "0\r\n\r\n");
}

TEST_CASE("The last chunk carries trailers", "[http1][encoder]") {
  HeaderMap t;
  t.add("grpc-status", "0");
  t.add("grpc-message", "ok");
  auto out = newBuffer();
  encodeLastChunk(&t, out.get());
  CHECK(contents(out.get()) == "0\r\ngrpc-status: 0\r\ngrpc-message: ok\r\n\r\n");
}

TEST_CASE("An encoded chunked request parses back to the same message", "[http1][encoder]") {
  auto out = newBuffer();
  encodeRequestHead(requestHeaders(), out.get());
  encodeChunk("abc", 3, out.get());
  encodeChunk("defgh", 5, out.get());
  HeaderMap t;
  t.add("x-sum", "9");
  encodeLastChunk(&t, out.get());
  std::string wire = contents(out.get());

  Collector c;
  Parser parser(MessageType::kRequest, c, ParserLimits{});
  CHECK(parser.execute(wire.data(), wire.size()) == wire.size());
  REQUIRE_FALSE(parser.hasError());
  CHECK(c.complete);
  CHECK(c.headers.method() == "POST");
  CHECK(c.headers.path() == "/submit?x=1");
  CHECK(c.headers.authority() == "example.com");
  CHECK(c.body == "abcdefgh");
  CHECK(*c.trailers.get("x-sum") == "9");
}

}  // namespace
}  // namespace remora::http::http1
