// A strict, incremental HTTP/1.1 message parser (RFC 9110/9112) for requests (downstream) and
// responses (upstream). It never buffers: it reports header fields as views into the caller's
// bytes, and body data as views too, so the caller decides what to copy. Anything that would let
// two parties disagree on where a message ends (request smuggling) is an error, not a guess.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "source/http/header_map.h"

namespace remora::http::http1 {

enum class MessageType { kRequest, kResponse };

struct ParserLimits {
  uint32_t max_headers_bytes = 60 * 1024;  // Request line/status line + all header lines.
  uint32_t max_headers_count = 100;
  uint32_t max_uri_bytes = 16 * 1024;  // Request-target length; over it → 414.
  uint64_t max_body_bytes = 0;         // 0: unlimited; over it → 413 (requests only).
};

// What the parser learned from a message head, passed with the headers.
struct MessageHead {
  int version_minor = 1;   // HTTP/1.0 → 0, HTTP/1.1 → 1.
  bool keep_alive = true;  // After Connection and version rules.
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool upgrade = false;          // Request: Upgrade header with Connection: upgrade, or CONNECT.
                                 // Response: 101, or 2xx to CONNECT.
  bool expect_continue = false;  // Request had Expect: 100-continue (HTTP/1.1 only).
};

class ParserCallbacks {
 public:
  virtual ~ParserCallbacks() = default;
  // The head is complete. Requests carry :method, :path, :authority (from Host, which is
  // removed) and the regular headers; responses carry :status. 1xx responses other than 101
  // arrive here too, with no body and no onMessageComplete; the final response follows.
  virtual void onHeaders(HeaderMap&& headers, const MessageHead& head) = 0;
  // A piece of body (after de-chunking). Views are valid only during the call.
  virtual void onBody(absl::string_view data) = 0;
  // Chunked trailers, before onMessageComplete; only when there were any.
  virtual void onTrailers(HeaderMap&& trailers) = 0;
  virtual void onMessageComplete() = 0;
};

// Why parsing stopped with an error: the status a server should answer with (400, 413, 414,
// 431, 501 for unsupported transfer codings, 505 for versions other than 1.0/1.1) and a short
// reason for logs and the reply body. For responses the status names the rule that failed; the
// proxy answers 502 downstream.
struct ParseError {
  int status = 0;       // 0: no error.
  std::string details;  // e.g. "http1.content_length_and_chunked_not_allowed".
};

class Parser {
 public:
  Parser(MessageType type, ParserCallbacks& callbacks, const ParserLimits& limits);

  // Consumes bytes, calling back as parts complete. Stops right after onMessageComplete (the
  // remaining bytes belong to the next message or to a tunnel) and on error. Returns how many
  // bytes were consumed; bytes not consumed must be passed again, with more appended, next time.
  size_t execute(const char* data, size_t len);
  // The peer closed. Completes a response delimited by connection close; an error if a message
  // was cut short (returns false and sets error()).
  bool onEof();
  // Ready for the next message on the same connection (after onMessageComplete). Also forgets
  // the request method given to setRequestMethod() and any error.
  void reset();

  const ParseError& error() const { return error_; }
  bool hasError() const { return error_.status != 0; }
  // Between messages, with nothing of the next one seen yet.
  bool idle() const;
  // A message's head has started or completed but the message is not complete.
  bool inMessage() const;

  // Responses only: the request was HEAD (no body), or CONNECT (2xx turns into a tunnel).
  // Applies to the next response; reset() forgets it, so call it after reset().
  void setRequestMethod(absl::string_view method);

 private:
  // Where the parser is within the current message.
  enum class Phase : uint8_t {
    kHead,          // Start-line and fields; consumed only once the empty line has arrived.
    kBodyLength,    // Content-Length body.
    kChunkLine,     // chunk-size [chunk-ext] CRLF.
    kChunkData,     // Chunk bytes.
    kChunkDataEnd,  // The CRLF after chunk bytes.
    kTrailers,      // Trailer fields after the last chunk, up to the empty line.
    kBodyUntilEof,  // A response delimited by the connection closing.
    kComplete,      // onMessageComplete was called; reset() starts the next message.
  };
  enum class RequestMethod : uint8_t { kOther, kHead, kConnect };
  enum class Scan : uint8_t { kNeedMore, kDone, kError };
  // Progress through lines not yet consumed, as offsets from the first unconsumed byte: the
  // caller passes those bytes again with more appended, so each byte is scanned once.
  struct LineScan {
    size_t pos = 0;
    size_t line_start = 0;
    uint32_t lines = 0;  // Complete non-empty lines so far.
  };

  Scan scanFieldBlock(const char* data, size_t len, bool trailers, size_t& end);
  Scan scanChunkLine(const char* data, size_t len, size_t& end);
  // `lines`: the start-line and field lines the scan counted.
  bool onHeadBlock(absl::string_view block, uint32_t lines);
  bool onChunkLine(absl::string_view line);
  bool onTrailerBlock(absl::string_view block);
  void completeMessage();
  bool fail(int status, absl::string_view details);

  MessageType type_;
  ParserCallbacks& callbacks_;
  ParserLimits limits_;
  ParseError error_;
  Phase phase_ = Phase::kHead;
  LineScan scan_;
  bool head_seen_ = false;     // Bytes of a head were passed but not yet consumed.
  bool interim_seen_ = false;  // A 1xx head of the current response was delivered.
  RequestMethod request_method_ = RequestMethod::kOther;
  uint64_t remaining_ = 0;   // Bytes left in the Content-Length body or the current chunk.
  uint64_t body_bytes_ = 0;  // Chunked body bytes announced so far, against max_body_bytes.
};

}  // namespace remora::http::http1
