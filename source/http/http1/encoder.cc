#include "source/http/http1/encoder.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <string>

#include "source/http/ascii_scan.h"

namespace remora::http::http1 {

namespace {

// Fields reach the encoder from the parser (validated) and from configuration (header
// mutations). A CR, LF or NUL in either would let a value start a new field or message, so such
// an entry is left out rather than written.
bool safeToWrite(absl::string_view s) { return !ascii::hasCrLfNul(s); }

bool writable(absl::string_view key, absl::string_view value) {
  return !key.empty() && safeToWrite(key) && safeToWrite(value);
}

// A head is written straight into the output buffer's free space, sized exactly in a first pass:
// no intermediate string and, with the buffer's chains reused, no allocation per message.
class HeadWriter {
 public:
  HeadWriter(evbuffer* out, size_t size) : out_(out) {
    if (evbuffer_reserve_space(out_, static_cast<ev_ssize_t>(size), &vec_, 1) == 1) {
      p_ = static_cast<char*>(vec_.iov_base);
    }
  }
  ~HeadWriter() {
    if (p_ == nullptr) return;
    vec_.iov_len = static_cast<size_t>(p_ - static_cast<char*>(vec_.iov_base));
    evbuffer_commit_space(out_, &vec_, 1);
  }
  HeadWriter(const HeadWriter&) = delete;
  HeadWriter& operator=(const HeadWriter&) = delete;

  void put(absl::string_view s) {
    if (p_ == nullptr) return;
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void putField(absl::string_view key, absl::string_view value) {
    put(key);
    put(": ");
    put(value);
    put("\r\n");
  }
  void putRegularFields(const HeaderMap& headers) {
    for (const HeaderEntry& e : headers) {
      if (e.key[0] == ':' || !writable(e.key, e.value)) continue;
      putField(e.key, e.value);
    }
  }

 private:
  evbuffer* out_;
  evbuffer_iovec vec_{};
  char* p_ = nullptr;
};

// Bytes putRegularFields writes, so the writer can reserve them in one piece.
size_t regularFieldsSize(const HeaderMap& headers) {
  size_t n = 0;
  for (const HeaderEntry& e : headers) {
    if (e.key.empty() || e.key[0] == ':') continue;
    n += e.key.size() + e.value.size() + 4;
  }
  return n;
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
  const std::string* authority = headers.get(":authority");
  const bool host = authority != nullptr && writable("host", *authority);
  HeadWriter w(out, method.size() + 1 + target.size() + 11 +
                        (host ? 4 + authority->size() + 4 : 0) + regularFieldsSize(headers) + 2);
  w.put(method);
  w.put(" ");
  w.put(target);
  w.put(" HTTP/1.1\r\n");
  // Host first, as RFC 9112 section 3.2 asks of clients.
  if (host) w.putField("host", *authority);
  w.putRegularFields(headers);
  w.put("\r\n");
}

void encodeResponseHead(const HeaderMap& headers, int version_minor, evbuffer* out) {
  int status = headers.status();
  char code[4] = {static_cast<char>('0' + status / 100 % 10),
                  static_cast<char>('0' + status / 10 % 10), static_cast<char>('0' + status % 10),
                  ' '};
  absl::string_view reason = reasonPhrase(status);
  HeadWriter w(out, 9 + 4 + reason.size() + 2 + regularFieldsSize(headers) + 2);
  w.put(version_minor == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  w.put(absl::string_view(code, 4));
  w.put(reason);
  w.put("\r\n");
  w.putRegularFields(headers);
  w.put("\r\n");
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
  HeadWriter w(out, 3 + (trailers != nullptr ? regularFieldsSize(*trailers) : 0) + 2);
  w.put("0\r\n");
  if (trailers != nullptr) w.putRegularFields(*trailers);
  w.put("\r\n");
}

}  // namespace remora::http::http1
