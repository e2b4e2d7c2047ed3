// libFuzzer target for the HTTP/1 parser (built and run by tools/fuzz). Each input is parsed as a
// request stream and as a response stream, once in a single read and once split into small
// pieces derived from the input; both runs must report the same messages, and the parser's
// promises (consumed <= len, nothing consumed after an error, clean header maps) must hold.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "source/http/http1/parser.h"

namespace {

using remora::http::HeaderMap;
using remora::http::http1::MessageHead;
using remora::http::http1::MessageType;
using remora::http::http1::Parser;
using remora::http::http1::ParserCallbacks;
using remora::http::http1::ParserLimits;

#define FUZZ_ASSERT(cond)                                                                \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

bool cleanField(const std::string& s) {
  return s.find_first_of(std::string("\r\n\0", 3)) == std::string::npos;
}

// Flattens callbacks into text. Body pieces are merged, as splits may cut them anywhere.
class Transcript : public ParserCallbacks {
 public:
  explicit Transcript(MessageType type) : type_(type) {}

  void onHeaders(HeaderMap&& headers, const MessageHead& head) override {
    in_body_ = false;
    out += "H" + std::to_string(head.version_minor) + (head.keep_alive ? "k" : "-") +
           (head.chunked ? "c" : "-") + (head.upgrade ? "u" : "-") +
           (head.expect_continue ? "e" : "-") +
           (head.has_content_length ? std::to_string(head.content_length) : "") + "\n";
    checkFields(headers);
    if (type_ == MessageType::kRequest) {
      FUZZ_ASSERT(!headers.method().empty());
      FUZZ_ASSERT(!headers.has("host"));
      FUZZ_ASSERT(!(headers.has("content-length") && headers.has("transfer-encoding")));
    } else {
      FUZZ_ASSERT(headers.status() >= 100);
    }
    for (const auto& e : headers) out += e.key + ":" + e.value + "\n";
    last_upgrade = head.upgrade;
  }
  void onBody(absl::string_view data) override {
    FUZZ_ASSERT(!data.empty());
    if (!in_body_) out += "B";
    in_body_ = true;
    out.append(data.data(), data.size());
    body_bytes += data.size();
  }
  void onTrailers(HeaderMap&& trailers) override {
    in_body_ = false;
    FUZZ_ASSERT(!trailers.empty());
    checkFields(trailers);
    out += "T";
    for (const auto& e : trailers) out += e.key + ":" + e.value + "\n";
  }
  void onMessageComplete() override {
    in_body_ = false;
    out += "C\n";
    ++completes;
  }

  std::string out;
  size_t body_bytes = 0;
  int completes = 0;
  bool last_upgrade = false;

 private:
  static void checkFields(const HeaderMap& headers) {
    for (const auto& e : headers) {
      FUZZ_ASSERT(!e.key.empty());
      FUZZ_ASSERT(cleanField(e.key) && cleanField(e.value));
      for (char c : e.key) FUZZ_ASSERT(!(c >= 'A' && c <= 'Z'));
    }
  }

  MessageType type_;
  bool in_body_ = false;
};

uint64_t hashOf(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

// Feeds `data` like a connection: pieces of `split` sizes (or all at once), unconsumed bytes kept
// and passed again, reset after each message, stop at a tunnel; then EOF.
std::string drive(MessageType type, const char* method, const uint8_t* data, size_t size,
                  uint64_t seed, bool split) {
  Transcript t(type);
  ParserLimits limits;
  limits.max_headers_bytes = 2048;
  limits.max_headers_count = 16;
  limits.max_uri_bytes = 256;
  limits.max_body_bytes = type == MessageType::kRequest ? 4096 : 0;
  Parser parser(type, t, limits);
  parser.setRequestMethod(method);
  std::string pending;
  size_t off = 0;
  uint64_t rng = seed | 1;
  bool done = false;
  while (off < size && !done) {
    size_t n = size - off;
    if (split) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      n = std::min<size_t>(n, (rng & 3) == 0 ? 1 : 1 + (rng >> 8) % 24);
    }
    pending.append(reinterpret_cast<const char*>(data) + off, n);
    off += n;
    while (true) {
      int before = t.completes;
      size_t used = parser.execute(pending.data(), pending.size());
      FUZZ_ASSERT(used <= pending.size());
      if (parser.hasError()) {
        FUZZ_ASSERT(parser.error().status >= 400 && !parser.error().details.empty());
        FUZZ_ASSERT(parser.execute(pending.data(), pending.size()) == 0);
        done = true;
        break;
      }
      pending.erase(0, used);
      if (t.completes == before) break;
      FUZZ_ASSERT(t.completes == before + 1);
      FUZZ_ASSERT(!parser.inMessage());
      if (t.last_upgrade) {
        done = true;  // The rest is tunnel data.
        break;
      }
      parser.reset();
      FUZZ_ASSERT(parser.idle());
      parser.setRequestMethod(method);
    }
  }
  if (!done) {
    bool clean = parser.onEof();
    FUZZ_ASSERT(clean != parser.hasError());
  }
  FUZZ_ASSERT(t.body_bytes <= size);
  return t.out + "E" + std::to_string(parser.error().status) + parser.error().details;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint64_t seed = hashOf(data, size);
  static const char* const kMethods[] = {"GET", "HEAD", "CONNECT"};
  const char* method = kMethods[seed % 3];
  for (MessageType type : {MessageType::kRequest, MessageType::kResponse}) {
    std::string whole = drive(type, method, data, size, seed, false);
    std::string pieces = drive(type, method, data, size, seed, true);
    if (whole != pieces) {
      std::fprintf(stderr, "single read:\n%s\n---- split:\n%s\n", whole.c_str(), pieces.c_str());
      std::abort();
    }
  }
  return 0;
}
