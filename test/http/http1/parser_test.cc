#include "source/http/http1/parser.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace remora::http::http1 {
namespace {

struct Message {
  HeaderMap headers;
  MessageHead head;
  std::string body;
  bool has_trailers = false;
  HeaderMap trailers;
  bool complete = false;
};

// Records callbacks; every head (1xx ones included) starts a new Message.
class Recorder : public ParserCallbacks {
 public:
  void onHeaders(HeaderMap&& headers, const MessageHead& head) override {
    messages.push_back(Message{std::move(headers), head, "", false, {}, false});
  }
  void onBody(absl::string_view data) override {
    REQUIRE(!messages.empty());
    messages.back().body.append(data.data(), data.size());
  }
  void onTrailers(HeaderMap&& trailers) override {
    REQUIRE(!messages.empty());
    messages.back().trailers = std::move(trailers);
    messages.back().has_trailers = true;
  }
  void onMessageComplete() override {
    REQUIRE(!messages.empty());
    messages.back().complete = true;
    ++completes;
  }

  std::vector<Message> messages;
  int completes = 0;
};

// Drives a parser as a connection would: bytes arrive `step` at a time, unconsumed bytes are kept
// and passed again with the next ones, and after each complete message the parser is reset for
// the next, unless the message was an upgrade: the rest is then tunnel data, left in `pending`.
struct Harness {
  Harness(MessageType type, const ParserLimits& limits) : parser(type, rec, limits) {}

  void feed(absl::string_view bytes, size_t step = SIZE_MAX) {
    size_t off = 0;
    while (off < bytes.size()) {
      size_t n = std::min(step, bytes.size() - off);
      pending.append(bytes.data() + off, n);
      off += n;
      drain();
    }
  }

  void drain() {
    while (!tunnel && !parser.hasError()) {
      int before = rec.completes;
      size_t used = parser.execute(pending.data(), pending.size());
      REQUIRE(used <= pending.size());
      pending.erase(0, used);
      if (rec.completes == before) return;
      if (rec.messages.back().head.upgrade) {
        tunnel = true;
        return;
      }
      parser.reset();
      if (!next_request_method.empty()) parser.setRequestMethod(next_request_method);
    }
  }

  const Message& only() const {
    REQUIRE(rec.messages.size() == 1);
    return rec.messages[0];
  }
  int status() const { return parser.error().status; }
  const std::string& details() const { return parser.error().details; }

  Recorder rec;
  Parser parser;
  std::string pending;
  bool tunnel = false;
  std::string next_request_method;
};

std::unique_ptr<Harness> request(absl::string_view in, size_t step = SIZE_MAX,
                                 const ParserLimits& limits = {}) {
  auto h = std::make_unique<Harness>(MessageType::kRequest, limits);
  h->feed(in, step);
  return h;
}

std::unique_ptr<Harness> response(absl::string_view in, absl::string_view request_method = "GET",
                                  size_t step = SIZE_MAX) {
  auto h = std::make_unique<Harness>(MessageType::kResponse, ParserLimits{});
  h->next_request_method = std::string(request_method);
  h->parser.setRequestMethod(request_method);
  h->feed(in, step);
  return h;
}

std::string value(const HeaderMap& headers, absl::string_view key) {
  const std::string* v = headers.get(key);
  return v ? *v : "<absent>";
}

// ---- Requests: what a valid request produces ----

TEST_CASE("A GET request yields :method :path and :authority from Host and no :scheme",
          "[http1][parser]") {
  auto h = request("GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->only();
  CHECK(m.complete);
  CHECK(m.headers.method() == "GET");
  CHECK(m.headers.path() == "/index.html?q=1");
  CHECK(m.headers.authority() == "example.com");
  CHECK_FALSE(m.headers.has("host"));
  CHECK_FALSE(m.headers.has(":scheme"));
  CHECK(value(m.headers, "accept") == "*/*");
  CHECK(m.head.version_minor == 1);
  CHECK(m.head.keep_alive);
}

TEST_CASE("Header names are lowercased and values trimmed of surrounding whitespace",
          "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nX-Mixed-Case: \t spaced value \t\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(value(h->only().headers, "x-mixed-case") == "spaced value");
}

TEST_CASE("An empty header value is kept", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(value(h->only().headers, "x-empty") == "");
}

TEST_CASE("A request with Content-Length delivers exactly that many body bytes",
          "[http1][parser]") {
  auto h = request("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->rec.messages[0];
  CHECK(m.body == "hello");
  CHECK(m.complete);
  CHECK(m.head.has_content_length);
  CHECK(m.head.content_length == 5);
  CHECK(h->pending == "GET");  // The start of the next request stays unconsumed.
}

TEST_CASE("A request without Content-Length or Transfer-Encoding has no body", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  std::string in = "POST / HTTP/1.1\r\nHost: a\r\n\r\nhello";
  size_t used = parser.execute(in.data(), in.size());
  CHECK(used == in.size() - 5);
  REQUIRE(rec.messages.size() == 1);
  CHECK(rec.messages[0].complete);
  CHECK(rec.messages[0].body.empty());
}

TEST_CASE("Execute stops right after a complete message and consumes nothing more until reset",
          "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  std::string in = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
  size_t first = parser.execute(in.data(), in.size());
  CHECK(first == in.size() / 2);
  CHECK(parser.execute(in.data() + first, in.size() - first) == 0);
  CHECK(rec.completes == 1);
  parser.reset();
  CHECK(parser.execute(in.data() + first, in.size() - first) == in.size() - first);
  CHECK(rec.completes == 2);
}

TEST_CASE("Pipelined requests in one read are parsed one after another", "[http1][parser]") {
  auto h = request(
      "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyz"
      "GET /c HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  REQUIRE(h->rec.messages.size() == 3);
  CHECK(h->rec.messages[0].headers.path() == "/a");
  CHECK(h->rec.messages[1].headers.path() == "/b");
  CHECK(h->rec.messages[1].body == "xyz");
  CHECK(h->rec.messages[2].headers.path() == "/c");
  CHECK(h->rec.completes == 3);
  CHECK(h->pending.empty());
}

TEST_CASE("Chunked body with extensions and trailers is de-chunked and trailers reported",
          "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n"
      "6 ; ext\r\n world\r\n"
      "0\r\nX-Checksum: abc\r\nX-Other:  1 \r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->only();
  CHECK(m.head.chunked);
  CHECK(m.body == "hello world");
  REQUIRE(m.has_trailers);
  CHECK(value(m.trailers, "x-checksum") == "abc");
  CHECK(value(m.trailers, "x-other") == "1");
  CHECK(m.complete);
}

TEST_CASE("Chunked body without trailers does not call onTrailers", "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->only().has_trailers);
  CHECK(h->only().body == "abc");
  CHECK(h->only().complete);
}

TEST_CASE("Chunk sizes are hexadecimal in either case", "[http1][parser]") {
  std::string body(0x1f, 'x');
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1F\r\n" + body +
                   "\r\n0\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().body == body);
}

TEST_CASE("Feeding one byte at a time gives the same messages as one read", "[http1][parser]") {
  std::string in =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;e=1\r\nhello\r\n0\r\nX-T: v\r\n\r\n"
      "PUT /y HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody"
      "GET /z HTTP/1.1\r\nHost: a\r\n\r\n";
  auto whole = request(in);
  auto bytes = request(in, 1);
  REQUIRE_FALSE(bytes->parser.hasError());
  REQUIRE(bytes->rec.messages.size() == 3);
  REQUIRE(whole->rec.messages.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    const Message& a = whole->rec.messages[i];
    const Message& b = bytes->rec.messages[i];
    CHECK(a.headers.path() == b.headers.path());
    CHECK(a.headers.size() == b.headers.size());
    CHECK(a.body == b.body);
    CHECK(a.has_trailers == b.has_trailers);
    CHECK(b.complete);
  }
  CHECK(value(bytes->rec.messages[0].trailers, "x-t") == "v");
}

TEST_CASE("A head arriving in many pieces is consumed only once complete", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  for (size_t n = 1; n < in.size(); ++n) {
    CHECK(parser.execute(in.data(), n) == 0);
    CHECK(rec.messages.empty());
  }
  CHECK(parser.execute(in.data(), in.size()) == in.size());
  CHECK(rec.completes == 1);
}

TEST_CASE("A large head fed one byte at a time is parsed", "[http1][parser]") {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 90; ++i)
    in += "X-Header-" + std::to_string(i) + ": " + std::string(400, 'v') + "\r\n";
  in += "\r\n";
  auto h = request(in, 1);
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().headers.size() == 93);
}

TEST_CASE("Empty lines before a request-line are ignored", "[http1][parser]") {
  auto h = request("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().complete);
}

TEST_CASE("A CRLF before a request split across reads leaves the parser idle", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  CHECK(parser.execute("\r", 1) == 0);
  CHECK_FALSE(parser.idle());
  CHECK(parser.execute("\r\n", 2) == 2);
  CHECK(parser.idle());
  CHECK(parser.onEof());
}

TEST_CASE("Bare LF line endings are accepted in the head", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\nHost: a\nX-A: b\n\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(value(h->only().headers, "x-a") == "b");
  CHECK(h->only().complete);
}

TEST_CASE("Bare LF line endings are accepted in trailers", "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-T: 1\n\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(value(h->only().trailers, "x-t") == "1");
}

TEST_CASE("Expect 100-continue sets the head flag on HTTP/1.1", "[http1][parser]") {
  auto h =
      request("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().head.expect_continue);
}

TEST_CASE("Expect 100-continue is ignored on HTTP/1.0", "[http1][parser]") {
  auto h = request("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->only().head.expect_continue);
}

TEST_CASE("HTTP/1.1 is keep-alive unless Connection close", "[http1][parser]") {
  auto open = request("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(open->only().head.keep_alive);
  auto closed = request("GET / HTTP/1.1\r\nHost: a\r\nConnection: Keep-Alive, Close\r\n\r\n");
  CHECK_FALSE(closed->only().head.keep_alive);
}

TEST_CASE("HTTP/1.0 closes unless Connection keep-alive", "[http1][parser]") {
  auto closed = request("GET / HTTP/1.0\r\n\r\n");
  REQUIRE_FALSE(closed->parser.hasError());
  CHECK(closed->only().head.version_minor == 0);
  CHECK_FALSE(closed->only().head.keep_alive);
  auto open = request("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(open->only().head.keep_alive);
}

TEST_CASE("HTTP/1.0 request without Host has no :authority", "[http1][parser]") {
  auto h = request("GET / HTTP/1.0\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->only().headers.has(":authority"));
}

TEST_CASE("CONNECT is an upgrade with :authority from the target and no :path", "[http1][parser]") {
  auto h = request("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\ntunnel");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->only();
  CHECK(m.head.upgrade);
  CHECK(m.complete);
  CHECK(m.headers.authority() == "example.com:443");
  CHECK_FALSE(m.headers.has(":path"));
  CHECK(h->pending == "tunnel");  // Tunnel bytes are left to the caller.
}

TEST_CASE("CONNECT with Content-Length 0 is accepted and the field dropped", "[http1][parser]") {
  auto h = request("CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\nContent-Length: 0\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->only().headers.has("content-length"));
}

TEST_CASE("CONNECT with a body is rejected with 400", "[http1][parser]") {
  auto h = request("CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.body_disallowed");
}

TEST_CASE("CONNECT with Transfer-Encoding is rejected with 501", "[http1][parser]") {
  auto h = request("CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(h->status() == 501);
}

TEST_CASE("CONNECT to a target that is not host and port is rejected", "[http1][parser]") {
  CHECK(request("CONNECT /path HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
  CHECK(request("CONNECT host HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
  CHECK(request("CONNECT user@host:1 HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
}

TEST_CASE("Upgrade with Connection upgrade marks the request as an upgrade", "[http1][parser]") {
  auto h = request(
      "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\n"
      "Upgrade: websocket\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().head.upgrade);
  CHECK(value(h->only().headers, "upgrade") == "websocket");
}

TEST_CASE("Upgrade without Connection upgrade is not an upgrade", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->only().head.upgrade);
}

TEST_CASE("An h2c upgrade is stripped and the request continues as HTTP/1.1", "[http1][parser]") {
  auto h = request(
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings, keep-alive\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->only();
  CHECK_FALSE(m.head.upgrade);
  CHECK_FALSE(m.headers.has("upgrade"));
  CHECK_FALSE(m.headers.has("http2-settings"));
  CHECK(value(m.headers, "connection") == "keep-alive");
}

TEST_CASE("An absolute-form target gives :authority and :path and overrides Host",
          "[http1][parser]") {
  auto h = request("GET http://origin.example:8080/a/b?c=d HTTP/1.1\r\nHost: other\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->only();
  CHECK(m.headers.authority() == "origin.example:8080");
  CHECK(m.headers.path() == "/a/b?c=d");
  CHECK_FALSE(m.headers.has("host"));
}

TEST_CASE("An absolute-form target without a path gets the path slash", "[http1][parser]") {
  auto h = request("GET http://origin.example HTTP/1.1\r\nHost: origin.example\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().headers.path() == "/");
}

TEST_CASE("An absolute-form target with userinfo is rejected", "[http1][parser]") {
  auto h = request("GET http://user@evil.example/ HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.invalid_url");
}

TEST_CASE("OPTIONS with an asterisk target has :path asterisk", "[http1][parser]") {
  auto h = request("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().headers.path() == "*");
}

TEST_CASE("An asterisk target with a method other than OPTIONS is rejected", "[http1][parser]") {
  CHECK(request("GET * HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
}

TEST_CASE("A target in no known form is rejected", "[http1][parser]") {
  CHECK(request("GET index.html HTTP/1.1\r\nHost: a\r\n\r\n")->details() == "http1.invalid_url");
}

TEST_CASE("A request-target with a control or non-ASCII byte is rejected", "[http1][parser]") {
  CHECK(request("GET /a\x01z HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
  CHECK(request("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
}

TEST_CASE("WebDAV methods that Envoy accepts are accepted", "[http1][parser]") {
  auto h = request("PROPFIND /d HTTP/1.1\r\nHost: a\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().headers.method() == "PROPFIND");
}

// ---- Requests: Host ----

TEST_CASE("A request with two Host fields is rejected with 400", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.multiple_host_headers");
}

TEST_CASE("Two Host fields are rejected even with an absolute-form target", "[http1][parser]") {
  auto h = request("GET http://x/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
  CHECK(h->details() == "http1.multiple_host_headers");
}

TEST_CASE("An HTTP/1.1 request without Host is rejected with 400", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.missing_host_header");
}

TEST_CASE("A Host value with characters outside an authority is rejected", "[http1][parser]") {
  CHECK(request("GET / HTTP/1.1\r\nHost: a b\r\n\r\n")->details() == "http1.invalid_host");
  CHECK(request("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n")->details() == "http1.invalid_host");
}

// ---- Smuggling: Content-Length and Transfer-Encoding ----

TEST_CASE("Content-Length together with Transfer-Encoding is rejected with 400",
          "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.content_length_and_chunked_not_allowed");
  CHECK(h->rec.messages.empty());
}

TEST_CASE("Two different Content-Length fields are rejected with 400", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.multiple_content_length");
}

TEST_CASE("A Content-Length list of different values is rejected with 400", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.multiple_content_length");
}

TEST_CASE("Identical repeated Content-Length values collapse into one", "[http1][parser]") {
  auto h =
      request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->only();
  CHECK(m.body == "abc");
  CHECK(m.headers.getJoined("content-length") == "3");
}

TEST_CASE("A non-numeric Content-Length is rejected with 400", "[http1][parser]") {
  for (const char* v : {"abc", "5a", "0x5", "+5", "5 5", "", "5,", "1.0"}) {
    INFO(v);
    auto h =
        request(std::string("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ") + v + "\r\n\r\n");
    CHECK(h->status() == 400);
    CHECK(h->details() == "http1.invalid_content_length");
  }
}

TEST_CASE("A negative Content-Length is rejected with 400", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n");
  CHECK(h->status() == 400);
}

TEST_CASE("An overflowing Content-Length is rejected with 400", "[http1][parser]") {
  CHECK(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n")
            ->status() == 400);
  CHECK(request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775808\r\n\r\n")
            ->status() == 400);
}

TEST_CASE("A request whose last transfer coding is not chunked is rejected with 400",
          "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.chunked_not_final");
}

TEST_CASE("Chunked followed by another coding is rejected with 400", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.chunked_not_final");
}

TEST_CASE("Chunked applied twice is rejected with 400", "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Transfer-Encoding: chunked\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.chunked_repeated");
}

TEST_CASE("An unknown coding before chunked is rejected with 501", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  CHECK(h->status() == 501);
  CHECK(h->details() == "http1.unsupported_transfer_coding");
}

TEST_CASE("A transfer coding with parameters or odd characters is rejected", "[http1][parser]") {
  CHECK(
      request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;x=1\r\n\r\n")->details() ==
      "http1.invalid_transfer_encoding");
  CHECK(
      request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n")->details() ==
      "http1.invalid_transfer_encoding");
}

TEST_CASE("An empty Transfer-Encoding is rejected with 400", "[http1][parser]") {
  CHECK(request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n")->status() == 400);
}

TEST_CASE("Transfer-Encoding in an HTTP/1.0 request is rejected with 400", "[http1][parser]") {
  auto h = request("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  CHECK(h->status() == 400);
}

TEST_CASE("Transfer-Encoding names are case-insensitive", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().head.chunked);
}

// ---- Smuggling: chunk framing ----

TEST_CASE("A non-hex chunk size is rejected with 400", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.invalid_chunk_size");
}

TEST_CASE("A chunk size with a 0x prefix is rejected", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n");
  CHECK(h->details() == "http1.invalid_chunk_size");
}

TEST_CASE("An overflowing chunk size is rejected with 400", "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10000000000000001\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.invalid_chunk_size");
}

TEST_CASE("Chunk data not followed by CRLF is rejected with 400", "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.chunk_missing_crlf");
}

TEST_CASE("A chunk-size line ended by a bare LF is rejected", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.chunk_bare_lf");
}

TEST_CASE("Chunk data followed by a bare LF is rejected", "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n");
  CHECK(h->details() == "http1.chunk_missing_crlf");
}

TEST_CASE("A bare CR in a chunk extension is rejected", "[http1][parser]") {
  auto h =
      request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a\rb\r\nabc\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.bare_cr");
}

TEST_CASE("Whitespace after a chunk size without an extension is rejected", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n");
  CHECK(h->details() == "http1.invalid_chunk_size");
}

TEST_CASE("An endless chunk-size line is rejected", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;" +
                   std::string(5000, 'x'));
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.chunk_line_too_long");
}

// ---- Malformed heads ----

TEST_CASE("An obs-fold continuation line is rejected with 400", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n  folded\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.obs_fold_not_allowed");
}

TEST_CASE("Whitespace before the first header line is rejected", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\n Host: a\r\n\r\n");
  CHECK(h->status() == 400);
}

TEST_CASE("Whitespace between a field name and the colon is rejected with 400", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.whitespace_before_colon");
}

TEST_CASE("A header line without a colon is rejected", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nNoColonHere\r\n\r\n");
  CHECK(h->details() == "http1.missing_colon");
}

TEST_CASE("A field name with a non-token character is rejected", "[http1][parser]") {
  CHECK(request("GET / HTTP/1.1\r\nHost: a\r\nX(A): b\r\n\r\n")->details() ==
        "http1.invalid_header_name");
  CHECK(request("GET / HTTP/1.1\r\nHost: a\r\nX\x01"
                "A: b\r\n\r\n")
            ->details() == "http1.invalid_header_name");
  CHECK(request("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n")->details() ==
        "http1.invalid_header_name");
}

TEST_CASE("A control character in a field value is rejected", "[http1][parser]") {
  CHECK(request("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x01"
                "c\r\n\r\n")
            ->details() == "http1.invalid_characters");
  CHECK(request("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n")->details() ==
        "http1.invalid_characters");
}

TEST_CASE("A NUL in a field value is rejected", "[http1][parser]") {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b";
  in.push_back('\0');
  in += "c\r\n\r\n";
  auto h = request(in);
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.invalid_characters");
}

TEST_CASE("Bytes above 0x7f in a field value are accepted as opaque", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\xc3\xa9\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(value(h->only().headers, "x-a") == "caf\xc3\xa9");
}

TEST_CASE("A bare CR inside a header line is rejected with 400", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rX-B: c\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.bare_cr");
}

TEST_CASE("A bare CR ending the request-line is rejected with 400", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\rHost: a\r\n\r\n");
  CHECK(h->details() == "http1.bare_cr");
}

TEST_CASE("A bare CR is detected before the head is complete", "[http1][parser]") {
  auto h = request("GET / HTTP/1.1\r\nHost: a\rX");
  CHECK(h->details() == "http1.bare_cr");
}

TEST_CASE("An unknown method is rejected with 400", "[http1][parser]") {
  auto h = request("FOO / HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.unknown_method");
}

TEST_CASE("Methods are case-sensitive", "[http1][parser]") {
  CHECK(request("get / HTTP/1.1\r\nHost: a\r\n\r\n")->details() == "http1.unknown_method");
}

TEST_CASE("A method that is not a token is rejected with 400", "[http1][parser]") {
  CHECK(request("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n")->details() == "http1.invalid_method");
  CHECK(request(" GET / HTTP/1.1\r\nHost: a\r\n\r\n")->details() == "http1.invalid_method");
}

TEST_CASE("A request-line with extra spaces is rejected with 400", "[http1][parser]") {
  CHECK(request("GET  / HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
  CHECK(request("GET / HTTP/1.1 \r\nHost: a\r\n\r\n")->status() == 400);
  CHECK(request("GET / extra HTTP/1.1\r\nHost: a\r\n\r\n")->status() == 400);
}

TEST_CASE("A request-line without a version is rejected with 400", "[http1][parser]") {
  auto h = request("GET /\r\nHost: a\r\n\r\n");
  CHECK(h->status() == 400);
  CHECK(h->details() == "http1.invalid_request_line");
}

TEST_CASE("A malformed version is rejected with 400", "[http1][parser]") {
  for (const char* v : {"http/1.1", "HTTP/1.10", "HTTP/1", "HTTP/1.x", "HTTPS/1.1"}) {
    INFO(v);
    auto h = request(std::string("GET / ") + v + "\r\nHost: a\r\n\r\n");
    CHECK(h->status() == 400);
    CHECK(h->details() == "http1.invalid_version");
  }
}

TEST_CASE("HTTP versions other than 1.0 and 1.1 are rejected with 505", "[http1][parser]") {
  for (const char* v : {"HTTP/1.2", "HTTP/2.0", "HTTP/0.9"}) {
    INFO(v);
    auto h = request(std::string("GET / ") + v + "\r\nHost: a\r\n\r\n");
    CHECK(h->status() == 505);
    CHECK(h->details() == "http1.unsupported_version");
  }
}

// ---- Limits ----

TEST_CASE("A head larger than max_headers_bytes is rejected with 431", "[http1][parser]") {
  ParserLimits limits;
  limits.max_headers_bytes = 100;
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(100, 'b') + "\r\n\r\n";
  auto h = request(in, SIZE_MAX, limits);
  CHECK(h->status() == 431);
  CHECK(h->details() == "http1.headers_too_large");
}

TEST_CASE("An incomplete head reaching max_headers_bytes is rejected without waiting",
          "[http1][parser]") {
  ParserLimits limits;
  limits.max_headers_bytes = 100;
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(200, 'b'), 7, limits);
  CHECK(h->status() == 431);
}

TEST_CASE("A head of exactly max_headers_bytes is accepted", "[http1][parser]") {
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\r\n";
  ParserLimits limits;
  limits.max_headers_bytes = static_cast<uint32_t>(in.size());
  CHECK_FALSE(request(in, SIZE_MAX, limits)->parser.hasError());
  limits.max_headers_bytes -= 1;
  CHECK(request(in, SIZE_MAX, limits)->status() == 431);
}

TEST_CASE("More header fields than max_headers_count are rejected with 431", "[http1][parser]") {
  ParserLimits limits;
  limits.max_headers_count = 3;
  auto ok = request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", SIZE_MAX, limits);
  CHECK_FALSE(ok->parser.hasError());
  auto h = request("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", SIZE_MAX, limits);
  CHECK(h->status() == 431);
  CHECK(h->details() == "http1.too_many_headers");
}

TEST_CASE("A request-target longer than max_uri_bytes is rejected with 414", "[http1][parser]") {
  ParserLimits limits;
  limits.max_uri_bytes = 10;
  auto ok = request("GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n", SIZE_MAX, limits);
  CHECK_FALSE(ok->parser.hasError());
  auto h = request("GET /1234567890 HTTP/1.1\r\nHost: a\r\n\r\n", SIZE_MAX, limits);
  CHECK(h->status() == 414);
  CHECK(h->details() == "http1.uri_too_long");
}

TEST_CASE("A request-line still arriving beyond the head limit with a long target gives 414",
          "[http1][parser]") {
  ParserLimits limits;
  limits.max_uri_bytes = 50;
  limits.max_headers_bytes = 200;
  auto h = request("GET /" + std::string(300, 'a'), 16, limits);
  CHECK(h->status() == 414);
}

TEST_CASE("A Content-Length above max_body_bytes is rejected with 413 before onHeaders",
          "[http1][parser]") {
  ParserLimits limits;
  limits.max_body_bytes = 10;
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", SIZE_MAX, limits);
  CHECK(h->status() == 413);
  CHECK(h->details() == "http1.body_too_large");
  CHECK(h->rec.messages.empty());
}

TEST_CASE("A chunked body growing past max_body_bytes is rejected with 413", "[http1][parser]") {
  ParserLimits limits;
  limits.max_body_bytes = 10;
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n",
      SIZE_MAX, limits);
  CHECK(h->status() == 413);
  REQUIRE(h->rec.messages.size() == 1);
  CHECK(h->rec.messages[0].body == "abcdef");
  CHECK_FALSE(h->rec.messages[0].complete);
}

TEST_CASE("A body of exactly max_body_bytes is accepted", "[http1][parser]") {
  ParserLimits limits;
  limits.max_body_bytes = 3;
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", SIZE_MAX, limits);
  CHECK_FALSE(h->parser.hasError());
}

TEST_CASE("Trailers beyond max_headers_count are rejected with 431", "[http1][parser]") {
  ParserLimits limits;
  limits.max_headers_count = 2;
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
      SIZE_MAX, limits);
  CHECK(h->status() == 431);
  CHECK(h->details() == "http1.too_many_trailers");
}

TEST_CASE("Trailers beyond max_headers_bytes are rejected with 431", "[http1][parser]") {
  ParserLimits limits;
  limits.max_headers_bytes = 80;
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\nX-Big: " +
          std::string(100, 'x') + "\r\n\r\n",
      SIZE_MAX, limits);
  CHECK(h->status() == 431);
  CHECK(h->details() == "http1.trailers_too_large");
}

TEST_CASE("Invalid trailer fields are rejected like header fields", "[http1][parser]") {
  auto h = request(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A : 1\r\n\r\n");
  CHECK(h->details() == "http1.whitespace_before_colon");
}

// ---- Error behaviour and state ----

TEST_CASE("After an error execute consumes nothing", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  std::string bad = "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n";
  CHECK(parser.execute(bad.data(), bad.size()) == 0);
  REQUIRE(parser.hasError());
  std::string good = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK(parser.execute(good.data(), good.size()) == 0);
  CHECK(rec.messages.empty());
}

TEST_CASE("An error in the body consumes the body delivered before it", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  std::string in = head + "2\r\nab\r\nzz\r\n";
  CHECK(parser.execute(in.data(), in.size()) == head.size() + 7);
  CHECK(parser.error().details == "http1.invalid_chunk_size");
}

TEST_CASE("Idle and inMessage follow a request through its life", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  CHECK(parser.idle());
  CHECK_FALSE(parser.inMessage());
  std::string in = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab";
  parser.execute(in.data(), 5);
  CHECK_FALSE(parser.idle());
  CHECK(parser.inMessage());
  size_t used = parser.execute(in.data(), in.size() - 1);
  CHECK(parser.inMessage());
  used += parser.execute(in.data() + used, in.size() - used);
  CHECK(used == in.size());
  CHECK_FALSE(parser.inMessage());
  CHECK_FALSE(parser.idle());
  parser.reset();
  CHECK(parser.idle());
}

TEST_CASE("EOF between requests is clean", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  CHECK(parser.onEof());
  CHECK_FALSE(parser.hasError());
}

TEST_CASE("EOF in the middle of a request head is an error", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kRequest, rec, ParserLimits{});
  std::string in = "GET / HTTP/1.1\r\nHo";
  CHECK(parser.execute(in.data(), in.size()) == 0);
  CHECK_FALSE(parser.onEof());
  CHECK(parser.error().details == "http1.premature_eof");
}

TEST_CASE("EOF in the middle of a request body is an error", "[http1][parser]") {
  auto h = request("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab");
  CHECK_FALSE(h->parser.onEof());
  CHECK(h->parser.hasError());
  CHECK_FALSE(h->only().complete);
}

// ---- Responses ----

TEST_CASE("A response with Content-Length delivers its body and :status", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nServer: x\r\n\r\nbody");
  REQUIRE_FALSE(h->parser.hasError());
  const Message& m = h->only();
  CHECK(m.headers.status() == 200);
  CHECK(m.body == "body");
  CHECK(m.complete);
  CHECK(m.head.keep_alive);
}

TEST_CASE("A response to HEAD has no body despite Content-Length", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "HEAD");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().complete);
  CHECK(h->only().body.empty());
  CHECK(h->only().head.content_length == 100);
}

TEST_CASE("A 204 response has no body", "[http1][parser]") {
  auto h = response("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->rec.messages[0].complete);
  CHECK(h->rec.messages[0].body.empty());
}

TEST_CASE("A 304 response has no body despite Content-Length", "[http1][parser]") {
  auto h = response("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().complete);
  CHECK(h->only().body.empty());
}

TEST_CASE("A 1xx response is reported as headers and the final response follows",
          "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kResponse, rec, ParserLimits{});
  std::string in =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  CHECK(parser.execute(in.data(), in.size()) == in.size());
  REQUIRE(rec.messages.size() == 3);
  CHECK(rec.messages[0].headers.status() == 100);
  CHECK_FALSE(rec.messages[0].complete);
  CHECK(rec.messages[1].headers.status() == 103);
  CHECK(rec.messages[2].headers.status() == 200);
  CHECK(rec.messages[2].body == "ok");
  CHECK(rec.completes == 1);
}

TEST_CASE("After a 1xx response the parser is in a message and not idle", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kResponse, rec, ParserLimits{});
  std::string in = "HTTP/1.1 100 Continue\r\n\r\n";
  CHECK(parser.execute(in.data(), in.size()) == in.size());
  CHECK_FALSE(parser.idle());
  CHECK(parser.inMessage());
  CHECK_FALSE(parser.onEof());
}

TEST_CASE("A 101 response completes after its head and leaves the rest as tunnel data",
          "[http1][parser]") {
  auto h = response(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
      "\x81\x05hello");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().head.upgrade);
  CHECK(h->only().complete);
  CHECK(h->pending == "\x81\x05hello");
}

TEST_CASE("A 2xx response to CONNECT turns into a tunnel", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 Connection Established\r\n\r\nrawbytes", "CONNECT");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().head.upgrade);
  CHECK(h->only().complete);
  CHECK(h->pending == "rawbytes");
}

TEST_CASE("A non-2xx response to CONNECT is an ordinary response", "[http1][parser]") {
  auto h = response("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno", "CONNECT");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->only().head.upgrade);
  CHECK(h->only().body == "no");
}

TEST_CASE("A response without framing runs until EOF", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 OK\r\n\r\nsome data");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->rec.messages[0].complete);
  CHECK_FALSE(h->rec.messages[0].head.keep_alive);
  h->feed(" and more");
  CHECK(h->parser.onEof());
  CHECK(h->rec.messages[0].complete);
  CHECK(h->rec.messages[0].body == "some data and more");
}

TEST_CASE("A response whose last coding is not chunked runs until EOF", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzipped");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK_FALSE(h->only().head.chunked);
  CHECK_FALSE(h->only().head.keep_alive);
  CHECK(h->parser.onEof());
  CHECK(h->only().body == "zipped");
}

TEST_CASE("A response with chunked before another coding is rejected", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
  CHECK(h->status() == 400);
}

TEST_CASE("A response with Content-Length and Transfer-Encoding is rejected", "[http1][parser]") {
  auto h = response(
      "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  CHECK(h->details() == "http1.content_length_and_chunked_not_allowed");
}

TEST_CASE("A chunked response with trailers is de-chunked", "[http1][parser]") {
  auto h = response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\ngrpc-status: "
      "0\r\n\r\n");
  REQUIRE_FALSE(h->parser.hasError());
  CHECK(h->only().body == "wxyz");
  CHECK(value(h->only().trailers, "grpc-status") == "0");
}

TEST_CASE("A status line without a reason phrase is accepted", "[http1][parser]") {
  CHECK_FALSE(response("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")->parser.hasError());
  CHECK_FALSE(response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n")->parser.hasError());
}

TEST_CASE("A malformed status line is rejected", "[http1][parser]") {
  for (const char* line : {"HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "HTTP/1.1  200 OK",
                           "HTTP/1.1 099 X", "http/1.1 200 OK", "HTTP/1.1 abc OK", "ICY 200 OK"}) {
    INFO(line);
    auto h = response(std::string(line) + "\r\nContent-Length: 0\r\n\r\n");
    CHECK(h->status() == 400);
  }
}

TEST_CASE("A response with an unsupported version is rejected", "[http1][parser]") {
  CHECK(response("HTTP/2.0 200 OK\r\n\r\n")->status() == 505);
}

TEST_CASE("An HTTP/1.0 response closes unless keep-alive", "[http1][parser]") {
  auto closed = response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  CHECK_FALSE(closed->only().head.keep_alive);
  auto open = response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  CHECK(open->only().head.keep_alive);
}

TEST_CASE("A response with Connection close is not keep-alive", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  CHECK_FALSE(h->only().head.keep_alive);
}

TEST_CASE("EOF in the middle of a Content-Length response is an error", "[http1][parser]") {
  auto h = response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  CHECK_FALSE(h->parser.onEof());
  CHECK(h->parser.error().details == "http1.premature_eof");
}

TEST_CASE("Reset forgets the request method of the previous response", "[http1][parser]") {
  Recorder rec;
  Parser parser(MessageType::kResponse, rec, ParserLimits{});
  parser.setRequestMethod("HEAD");
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  CHECK(parser.execute(head.data(), head.size()) == head.size());
  CHECK(rec.completes == 1);
  parser.reset();
  std::string full = head + "ok";
  CHECK(parser.execute(full.data(), full.size()) == full.size());
  REQUIRE(rec.messages.size() == 2);
  CHECK(rec.messages[1].body == "ok");
}

TEST_CASE("Responses split at every byte parse like a single read", "[http1][parser]") {
  std::string in =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n"
      "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx";
  auto bytes = response(in, "GET", 1);
  REQUIRE_FALSE(bytes->parser.hasError());
  REQUIRE(bytes->rec.messages.size() == 3);
  CHECK(bytes->rec.messages[1].body == "abc");
  CHECK(bytes->rec.messages[2].body == "x");
  CHECK(bytes->rec.completes == 2);
}

}  // namespace
}  // namespace remora::http::http1
