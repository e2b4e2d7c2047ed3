// An HTTP/1.1 upstream for integration tests: one poll() thread serving many keep-alive
// connections, a handler choosing each reply, and a strict parser that records exactly what the
// proxy forwarded.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "test/support/sockets.h"

namespace remora::testing {

// Header fields in the order they arrived (or are to be sent).
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// The first value of `name` (compared case-insensitively), or "" when absent.
std::string findHeader(const HeaderList& headers, std::string_view name);
// How many fields are called `name` (case-insensitively).
size_t countHeader(const HeaderList& headers, std::string_view name);

// Parses CRLF-separated field lines (no final empty line) strictly: token names, no whitespace
// before the colon, no obs-fold, no control characters in values. Names are lowercased and values
// trimmed. Returns an error message, or "" on success. Both test tools share it so that they
// agree on what a well-formed field is.
std::string parseFieldLines(std::string_view block, HeaderList* out);
// The value every Content-Length field (and comma-separated item) agrees on, 0 when there is none;
// false when they disagree or one is not a plain decimal number.
bool parseContentLength(const HeaderList& headers, uint64_t* length);
// A chunk-size line without its CRLF: 1-15 hex digits, then optional ";" extensions.
bool parseChunkSize(std::string_view line, uint64_t* size);

// The Checksum (sockets.h) of patternBytes(0, bytes): what a stream_bytes body, or an upload the
// test client generated, of that size hashes to. Computed in pieces, so any size is cheap.
uint64_t checksumOfPattern(size_t bytes);

// A request as the backend received it.
struct BackendRequest {
  static constexpr size_t kMaxStoredBody = 1024 * 1024;

  std::string method;
  std::string path;                // The request target as sent.
  std::string version;             // "HTTP/1.1" or "HTTP/1.0".
  HeaderList headers;              // Lowercase names, in order.
  HeaderList trailers;             // From a chunked body, lowercase names.
  bool chunked = false;            // The body came with Transfer-Encoding: chunked.
  bool expect_continue = false;    // It carried Expect: 100-continue.
  bool complete = false;           // The whole body arrived (false: the peer went away mid-body,
                                   // or the expect handler answered before the body).
  uint64_t body_size = 0;          // Decoded body bytes received.
  std::string body;                // The body, while it is at most kMaxStoredBody bytes.
  bool body_stored = true;         // False once the body outgrew kMaxStoredBody.
  uint64_t body_checksum = 0;      // Checksum of every decoded body byte.
  uint64_t connection_id = 0;      // 1 for the first accepted connection, then 2, ...
  size_t index_on_connection = 0;  // 0 for a connection's first request.

  std::string header(std::string_view name) const { return findHeader(headers, name); }
};

// What to do with a request. The defaults send a 200 with the body as-is and keep the connection.
// Every generated response carries `x-backend: <name>` unless `headers` already has one.
struct BackendReply {
  int status = 200;
  std::string reason;  // Empty: the standard phrase for `status`.
  HeaderList headers;  // Sent as given, in order, before the framing headers the backend adds.
  std::string body;
  // A generated body of patternBytes(0, n) instead of `body`, produced only as fast as the peer
  // reads it, so its size is unbounded.
  std::optional<uint64_t> stream_bytes;
  // > 0: send the body with Transfer-Encoding: chunked as this many chunks (fewer when the body is
  // shorter). An HTTP/1.0 request always gets a Content-Length instead.
  int chunked = 0;
  HeaderList trailers;  // After the last chunk; non-empty implies chunked (one chunk by default).
  // No Content-Length and no chunking: the body ends when the backend closes the connection.
  bool close_delimited = false;
  std::vector<int> informational;      // 1xx heads sent before this response (e.g. 103).
  std::chrono::milliseconds delay{0};  // Before doing anything below; others are served meanwhile.
  // Send the head and at most this many bytes after it (body plus chunk framing), then close (or
  // reset, when `reset` is also set): a response cut off in the middle.
  std::optional<uint64_t> close_after_bytes;
  bool close_without_response = false;  // Read the request, then close with a FIN.
  bool reset = false;                   // Read the request, then close with an RST.
  bool no_response = false;  // Never answer this (or any later) request; keep the connection.
  bool keep_alive = true;    // False: answer with Connection: close and close afterwards.
  // For Upgrade (with Connection: upgrade) and CONNECT requests: answer 101 Switching Protocols /
  // 200 and echo every later byte back. False: answer with this reply like any request.
  bool accept_upgrade = true;
  // When non-empty, sent verbatim as the whole response (for malformed upstream responses); only
  // delay, close_after_bytes, reset and keep_alive (close after it when false) still apply.
  std::string raw;
};

class HttpBackend {
 public:
  using Handler = std::function<BackendReply(const BackendRequest&)>;
  // Sees a request with Expect: 100-continue before its body is read. A reply is sent at once
  // without reading the body (the connection closes after it); nullopt sends 100 Continue.
  using ExpectHandler = std::function<std::optional<BackendReply>(const BackendRequest&)>;

  struct Options {
    std::string name = "backend";
    Handler handler;                 // Runs on the backend thread. Empty: 200 with body `name`.
    ExpectHandler expect_handler;    // Runs on the backend thread. Empty: always 100 Continue.
    bool ipv6 = false;               // Listen on [::1] instead of 127.0.0.1.
    std::string ipv4 = "127.0.0.1";  // Another loopback address (127.0.0.2...) when not ipv6.
    uint16_t port = 0;               // 0: an ephemeral one.
  };

  explicit HttpBackend(std::string name = "backend", Handler handler = {});
  explicit HttpBackend(Options options);
  ~HttpBackend();
  HttpBackend(const HttpBackend&) = delete;
  HttpBackend& operator=(const HttpBackend&) = delete;

  // 0 when the listener could not be created.
  uint16_t port() const { return port_; }
  const std::string& name() const { return options_.name; }

  int connectionsAccepted() const { return accepted_.load(); }
  int openConnections() const { return open_.load(); }
  // Requests read completely (their handler ran).
  int requestsReceived() const { return received_.load(); }
  // Responses written completely (not counting cut-off, reset or missing ones, nor rejections).
  int requestsServed() const { return served_.load(); }
  // Every request whose head parsed, complete or not, in the order they ended.
  std::vector<BackendRequest> requests() const;
  // Why requests were rejected (answered 400, 417, 431, 501 or 505 and closed) or cut off inside
  // their head, one line each naming the connection.
  std::vector<std::string> errors() const;

  // Asks the backend thread to close every connection waiting for its next request, as an upstream
  // closing idle keep-alive connections does. Returns before they are closed.
  void closeIdleConnections();
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();

 private:
  struct Connection;

  void run();
  void acceptAll();
  void closeIdle();
  void advance(Connection& c);
  bool parseHead(Connection& c);
  bool readBody(Connection& c);
  void finishRequest(Connection& c);
  void startResponse(Connection& c);
  bool continueResponse(Connection& c);
  bool pumpTunnel(Connection& c);
  void reject(Connection& c, int status, const std::string& why);
  void record(Connection& c, bool complete);
  void readInput(Connection& c);
  void flush(Connection& c);
  void closeNow(Connection& c, bool reset = false);

  Options options_;
  Fd listener_;
  Fd wake_read_;
  Fd wake_write_;
  uint16_t port_ = 0;
  uint64_t next_connection_id_ = 1;
  std::vector<std::unique_ptr<Connection>> connections_;  // Backend thread only.

  std::atomic<int> accepted_{0};
  std::atomic<int> open_{0};
  std::atomic<int> received_{0};
  std::atomic<int> served_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> close_idle_{false};
  mutable std::mutex mu_;
  std::vector<BackendRequest> requests_;
  std::vector<std::string> errors_;
  std::mutex stop_mu_;
  std::thread thread_;
};

}  // namespace remora::testing
