// A tiny blocking HTTP/1.1 client for tests: one request per connection, with a deadline, over
// IPv4 or IPv6 loopback. Enough for the admin endpoint and simple upstreams; not a general client.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace remora::testing {

struct HttpResponse {
  int status = 0;       // 0 when no complete response arrived in time; `error` says why.
  std::string headers;  // The header lines after the status line, each ending in "\r\n".
  std::string body;     // Decoded: de-chunked, cut to Content-Length, empty for HEAD/204/304.
  std::string error;    // Empty on success.

  // The first value of a header (name case-insensitive, value trimmed); empty when absent.
  std::string header(std::string_view name) const;
};

struct HttpRequestOptions {
  std::string body;  // Sent with a Content-Length when non-empty.
  std::vector<std::pair<std::string, std::string>> headers;  // Extra request headers.
  std::string host = "x";
  std::chrono::milliseconds timeout = std::chrono::seconds(5);  // For the whole exchange.
};

// Sends `METHOD path HTTP/1.1` with Host and Connection: close, then reads the response until it
// is complete or the server closes. ip may be "127.0.0.1", "::1" or "[::1]".
HttpResponse httpRequest(const std::string& ip, uint16_t port, const std::string& method,
                         const std::string& path,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
HttpResponse httpRequest(const std::string& ip, uint16_t port, const std::string& method,
                         const std::string& path, const HttpRequestOptions& options);

// Writes `bytes` as-is and returns everything read until EOF or the deadline: for feeding a server
// malformed input. Sets *error (when given) if the connection or write failed.
std::string rawExchange(const std::string& ip, uint16_t port, std::string_view bytes,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5),
                        std::string* error = nullptr);

// Parses one HTTP/1.x response. `complete` (when given) tells whether the message is whole: the
// body reached its Content-Length or last chunk. A response without either ends at EOF, so it is
// complete only when `at_eof`.
HttpResponse parseHttpResponse(std::string_view raw, bool head_request, bool at_eof,
                               bool* complete = nullptr);

}  // namespace remora::testing
