#include "source/http/http1/encoder.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string>

namespace remora::http::http1 {

namespace {

// Fields reach the encoder from the parser (validated) and from configuration (header
// mutations). A CR, LF or NUL in either would let a value start a new field or message, so such
// an entry is left out rather than written.
bool safeToWrite(absl::string_view s) {
  return s.find_first_of(absl::string_view("\r\n\0", 3)) == absl::string_view::npos;
}

void appendField(std::string& out, absl::string_view key, absl::string_view value) {
  if (key.empty() || !safeToWrite(key) || !safeToWrite(value)) return;
  out.append(key.data(), key.size());
  out.append(": ");
  out.append(value.data(), value.size());
  out.append("\r\n");
}

void appendRegularFields(std::string& out, const HeaderMap& headers) {
  for (const HeaderEntry& e : headers) {
    if (e.key.empty() || e.key[0] == ':') continue;
    appendField(out, e.key, e.value);
  }
}

void addChunkSize(size_t len, evbuffer* out) {
  char line[24];
  int n = std::snprintf(line, sizeof(line), "%zx\r\n", len);
  evbuffer_add(out, line, static_cast<size_t>(n));
}

// RFC 9110 section 15 and the IANA status code registry, sorted by code.
struct Reason {
  int status;
  absl::string_view phrase;
};
constexpr Reason kReasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {102, "Processing"},
    {103, "Early Hints"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {203, "Non-Authoritative Information"},
    {204, "No Content"},
    {205, "Reset Content"},
    {206, "Partial Content"},
    {207, "Multi-Status"},
    {208, "Already Reported"},
    {226, "IM Used"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {305, "Use Proxy"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Range Not Satisfiable"},
    {417, "Expectation Failed"},
    {421, "Misdirected Request"},
    {422, "Unprocessable Content"},
    {423, "Locked"},
    {424, "Failed Dependency"},
    {425, "Too Early"},
    {426, "Upgrade Required"},
    {428, "Precondition Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {451, "Unavailable For Legal Reasons"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {506, "Variant Also Negotiates"},
    {507, "Insufficient Storage"},
    {508, "Loop Detected"},
    {510, "Not Extended"},
    {511, "Network Authentication Required"},
};

}  // namespace

absl::string_view reasonPhrase(int status) {
  const Reason* it = std::lower_bound(std::begin(kReasons), std::end(kReasons), status,
                                      [](const Reason& r, int s) { return r.status < s; });
  if (it == std::end(kReasons) || it->status != status) return "Unknown";
  return it->phrase;
}

void encodeRequestHead(const HeaderMap& headers, evbuffer* out) {
  absl::string_view method = headers.method();
  absl::string_view target = method == "CONNECT" ? headers.authority() : headers.path();
  if (target.empty()) target = "/";
  std::string head;
  head.reserve(256);
  head.append(method.data(), method.size());
  head.push_back(' ');
  head.append(target.data(), target.size());
  head.append(" HTTP/1.1\r\n");
  // Host first, as RFC 9112 section 3.2 asks of clients.
  if (headers.get(":authority") != nullptr) appendField(head, "host", headers.authority());
  appendRegularFields(head, headers);
  head.append("\r\n");
  evbuffer_add(out, head.data(), head.size());
}

void encodeResponseHead(const HeaderMap& headers, int version_minor, evbuffer* out) {
  int status = headers.status();
  std::string head;
  head.reserve(256);
  head.append(version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  head.append(std::to_string(status));
  head.push_back(' ');
  absl::string_view reason = reasonPhrase(status);
  head.append(reason.data(), reason.size());
  head.append("\r\n");
  appendRegularFields(head, headers);
  head.append("\r\n");
  evbuffer_add(out, head.data(), head.size());
}

void encodeChunk(const char* data, size_t len, evbuffer* out) {
  if (len == 0) return;
  addChunkSize(len, out);
  evbuffer_add(out, data, len);
  evbuffer_add(out, "\r\n", 2);
}

void encodeChunk(evbuffer* data, evbuffer* out) {
  size_t len = evbuffer_get_length(data);
  if (len == 0) return;
  addChunkSize(len, out);
  evbuffer_add_buffer(out, data);
  evbuffer_add(out, "\r\n", 2);
}

void encodeLastChunk(const HeaderMap* trailers, evbuffer* out) {
  std::string tail = "0\r\n";
  if (trailers != nullptr) appendRegularFields(tail, *trailers);
  tail.append("\r\n");
  evbuffer_add(out, tail.data(), tail.size());
}

}  // namespace remora::http::http1
