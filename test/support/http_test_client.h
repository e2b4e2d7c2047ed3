// A blocking HTTP/1.1 test client over one kept-alive TCP connection: requests (streamed, chunked,
// pipelined, with 100-continue), a small strict response parser to act as a test oracle, and raw
// bytes for upgrade tunnels and malformed input. Every operation has a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "test/support/http_backend.h"
#include "test/support/sockets.h"

namespace remora::testing {

// Framing fields are added unless `headers` has its own Content-Length or Transfer-Encoding:
// chunked → Transfer-Encoding: chunked; else Content-Length when there is a body or the method is
// POST, PUT or PATCH.
struct ClientRequest {
  std::string method = "GET";
  std::string path = "/";
  std::string version = "HTTP/1.1";
  std::string host = "backend";  // The Host field, sent first; empty sends none.
  HeaderList headers;            // Sent as given, in order, after Host.
  std::string body;
  // Sends patternBytes(0, n) instead of `body`, generated piece by piece as the socket takes it.
  std::optional<uint64_t> upload_bytes;
  // Transfer-Encoding: chunked with chunks of chunk_size bytes (instead of a Content-Length).
  bool chunked = false;
  size_t chunk_size = 64 * 1024;
  HeaderList trailers;  // After the last chunk; only sent when chunked.
  // Sends Expect: 100-continue, and the body only once 100 Continue arrives (other 1xx are kept
  // as interim). When a final response comes first the body is not sent (see bodySent()).
  bool expect_continue = false;
};

struct InterimResponse {
  int status = 0;
  HeaderList headers;
};

struct ClientResponse {
  int status = 0;  // 0 when no final response head arrived.
  std::string reason;
  std::string version;
  HeaderList headers;                    // Lowercase names, in order.
  HeaderList trailers;                   // From a chunked body.
  std::vector<InterimResponse> interim;  // 1xx heads (except 101) before this one, in order.
  bool chunked = false;                  // The body came chunked.
  std::string body;                      // Decoded; empty when not stored (ReadOptions).
  uint64_t body_size = 0;                // Decoded body bytes received, stored or not.
  uint64_t body_checksum = 0;            // Checksum (sockets.h) of those bytes.
  bool complete = false;                 // The whole message arrived and parsed.
  bool closed = false;  // The server's EOF (or a reset) was seen while reading this.
  std::string error;    // Why it is incomplete or malformed; empty when complete.

  std::string header(std::string_view name) const { return findHeader(headers, name); }
};

struct ReadOptions {
  bool store_body = true;                            // False: only body_size and body_checksum.
  std::optional<std::chrono::milliseconds> timeout;  // For this response; client default if unset.
  // The method the response answers (HEAD and CONNECT change its framing). Unset: the method of
  // the oldest request sent with send()/sendPipelined() not yet read, else GET.
  std::optional<std::string> method;
};

class HttpTestClient {
 public:
  // Connects to ip:port ("127.0.0.1", "::1" or "[::1]") within `timeout`, which is then the
  // default deadline of each operation.
  explicit HttpTestClient(uint16_t port, const std::string& ip = "127.0.0.1",
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));
  HttpTestClient(const HttpTestClient&) = delete;
  HttpTestClient& operator=(const HttpTestClient&) = delete;

  bool connected() const { return fd_.valid(); }
  // Why the last failed send, connect or raw operation failed.
  const std::string& error() const { return error_; }
  void setTimeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  int fd() const { return fd_.get(); }

  // Sends one request (streaming a generated body). False on error; see error().
  bool send(const ClientRequest& request);
  // Whether the last send() sent its body (false when an expect_continue request met a final
  // response first).
  bool bodySent() const { return body_sent_; }
  // Writes all requests in one go, so they arrive back-to-back (expect_continue is refused).
  bool sendPipelined(const std::vector<ClientRequest>& requests);
  ClientResponse readResponse(const ReadOptions& options = {});
  std::vector<ClientResponse> readResponses(size_t n, const ReadOptions& options = {});
  // send() then readResponse(); a failed send returns a response carrying error().
  ClientResponse request(const ClientRequest& request, const ReadOptions& options = {});

  // Raw bytes, for tunnels after a 101/CONNECT and for malformed input. Reads return bytes already
  // buffered by the response parser first.
  bool sendRaw(std::string_view data);
  ReadResult receiveSome(size_t max = 64 * 1024);
  ReadResult receiveExactly(size_t n);
  ReadResult receiveUntilClose();

  // Waits up to `timeout` for the server to close (EOF or reset); data arriving meanwhile stays
  // buffered for the next read. True once closed.
  bool waitForClose(std::chrono::milliseconds timeout);
  bool serverClosed() const { return eof_; }
  void shutdownWrite();
  // Closes with an RST instead of a FIN, as an aborting client does.
  void reset();
  void close() { fd_.reset(); }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point deadline(std::optional<std::chrono::milliseconds> timeout) const;
  std::string head(const ClientRequest& request) const;
  bool writeAll(std::string_view data, Clock::time_point deadline);
  bool sendBody(const ClientRequest& request, Clock::time_point deadline);
  bool awaitContinue(Clock::time_point deadline);
  // Reads more into in_: 1 on data, 0 on EOF or reset, -1 on timeout.
  int fill(Clock::time_point deadline);
  void readAvailable();
  std::string_view pending() const { return std::string_view(in_).substr(in_pos_); }
  bool readBody(ClientResponse& r, bool store, Clock::time_point deadline);

  Fd fd_;
  std::chrono::milliseconds timeout_;
  std::string error_;
  std::string in_;
  size_t in_pos_ = 0;
  bool eof_ = false;  // EOF or reset seen: nothing more will arrive.
  bool reset_ = false;
  bool body_sent_ = true;
  std::deque<std::string> methods_;             // Of requests whose response is not read yet.
  std::vector<InterimResponse> early_interim_;  // 1xx read while waiting to send a body.
};

}  // namespace remora::testing
