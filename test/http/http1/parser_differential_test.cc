// Remora's HTTP/1 parser beside Node's http_parser (libhttp-parser-dev), a widely deployed
// reference: the fuzz seeds and a list of well-formed and hostile messages go through both, and
// their outcomes must agree (accepted or rejected, then every complete message: method, target,
// status, fields, body, trailers) unless the case is listed in kExplained with the rule that
// makes Remora's answer the right one. Remora is stricter by design (anything two parties could
// frame differently is rejected), so most listed cases are ones http_parser lets through.
#include <http_parser.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "source/http/http1/parser.h"

namespace remora::http::http1 {
namespace {

// What both parsers are reduced to. The target is split as Remora reports it (origin-form path
// plus authority from Host or from the target itself), and Host is not a field, as in Remora.
struct Message {
  bool response = false;
  std::string method;
  std::string target;
  std::string authority;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  std::vector<std::pair<std::string, std::string>> trailers;
};

std::string printable(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrFormat("\\x%02x", c);
    }
  }
  return out;
}

struct Outcome {
  std::vector<Message> messages;  // Complete ones only: where a rejection falls may differ.
  bool rejected = false;
  std::string why;  // The parser's own error name, for the transcript only.

  // Everything compared, one line per item.
  std::string transcript() const {
    std::string out;
    for (const Message& m : messages) {
      if (m.response) {
        absl::StrAppend(&out, "response ", m.status, "\n");
      } else {
        absl::StrAppend(&out, "request ", printable(m.method), " ", printable(m.target),
                        " authority=", printable(m.authority), "\n");
      }
      for (const auto& [k, v] : m.fields) absl::StrAppend(&out, "  ", k, ": ", printable(v), "\n");
      if (!m.body.empty()) absl::StrAppend(&out, "  body: ", printable(m.body), "\n");
      for (const auto& [k, v] : m.trailers) {
        absl::StrAppend(&out, "  trailer ", k, ": ", printable(v), "\n");
      }
    }
    absl::StrAppend(&out, rejected ? "rejected" : "accepted", "\n");
    return out;
  }
};

// --- Remora ------------------------------------------------------------------------------------

class RemoraRecorder : public ParserCallbacks {
 public:
  void onHeaders(HeaderMap&& headers, const MessageHead& head) override {
    // A 1xx head other than 101 is complete in itself (no onMessageComplete), as in http_parser.
    if (pending_interim_) finish();
    current_ = Message();
    for (const auto& e : headers) {
      if (e.key == ":method") {
        current_.method = e.value;
      } else if (e.key == ":path") {
        current_.target = e.value;
      } else if (e.key == ":authority") {
        current_.authority = e.value;
      } else if (e.key == ":status") {
        current_.response = true;
        current_.status = headers.status();
      } else {
        current_.fields.emplace_back(e.key, e.value);
      }
    }
    // CONNECT carries its authority-form target as :authority only.
    if (current_.method == "CONNECT") current_.target = current_.authority;
    pending_interim_ = current_.status >= 100 && current_.status < 200 && current_.status != 101;
    upgrade = head.upgrade;
  }
  void onBody(absl::string_view data) override { current_.body.append(data.data(), data.size()); }
  void onTrailers(HeaderMap&& trailers) override {
    for (const auto& e : trailers) current_.trailers.emplace_back(e.key, e.value);
  }
  void onMessageComplete() override {
    finish();
    ++completes;
  }
  void finish() {
    pending_interim_ = false;
    outcome.messages.push_back(current_);
  }

  Outcome outcome;
  int completes = 0;
  bool upgrade = false;

 private:
  Message current_;
  bool pending_interim_ = false;
};

// As a connection feeds it: one read, a reset after each message, a stop at a tunnel, then EOF.
Outcome runRemora(MessageType type, absl::string_view input) {
  RemoraRecorder rec;
  Parser parser(type, rec, ParserLimits());
  parser.setRequestMethod("GET");
  std::string pending(input);
  while (true) {
    const int before = rec.completes;
    const size_t used = parser.execute(pending.data(), pending.size());
    if (parser.hasError()) {
      rec.outcome.rejected = true;
      rec.outcome.why = parser.error().details;
      return rec.outcome;
    }
    pending.erase(0, used);
    if (rec.completes == before) break;
    if (rec.upgrade) return rec.outcome;  // The rest is tunnel data.
    parser.reset();
    parser.setRequestMethod("GET");
  }
  if (!parser.onEof()) {
    rec.outcome.rejected = true;
    rec.outcome.why = parser.error().details;
  }
  return rec.outcome;
}

// --- http_parser -------------------------------------------------------------------------------

struct ReferenceState {
  Outcome outcome;
  Message current;
  std::string url;
  std::string host;
  bool in_field = false;  // The last callback was a field name (else a value or nothing).
  bool head_done = false;
  std::vector<std::pair<std::string, std::string>>* fields = nullptr;
};

ReferenceState& state(http_parser* p) { return *static_cast<ReferenceState*>(p->data); }

std::string trimOws(absl::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return std::string(v);
}

int onMessageBegin(http_parser* p) {
  ReferenceState& s = state(p);
  s.current = Message();
  s.url.clear();
  s.host.clear();
  s.in_field = false;
  s.head_done = false;
  s.fields = &s.current.fields;
  return 0;
}
int onUrl(http_parser* p, const char* at, size_t n) {
  state(p).url.append(at, n);
  return 0;
}
int onHeaderField(http_parser* p, const char* at, size_t n) {
  ReferenceState& s = state(p);
  if (!s.in_field) s.fields->emplace_back();
  s.fields->back().first.append(at, n);
  s.in_field = true;
  return 0;
}
int onHeaderValue(http_parser* p, const char* at, size_t n) {
  ReferenceState& s = state(p);
  s.fields->back().second.append(at, n);
  s.in_field = false;
  return 0;
}
void normalizeFields(std::vector<std::pair<std::string, std::string>>& fields) {
  for (auto& [k, v] : fields) {
    k = absl::AsciiStrToLower(k);
    v = trimOws(v);
  }
}
int onHeadersComplete(http_parser* p) {
  ReferenceState& s = state(p);
  Message& m = s.current;
  normalizeFields(m.fields);
  if (p->type == HTTP_RESPONSE) {
    m.response = true;
    m.status = p->status_code;
  } else {
    m.method = http_method_str(static_cast<http_method>(p->method));
    for (auto it = m.fields.begin(); it != m.fields.end();) {
      if (it->first == "host") {
        m.authority = it->second;
        it = m.fields.erase(it);
      } else {
        ++it;
      }
    }
    http_parser_url u;
    http_parser_url_init(&u);
    const bool connect = p->method == HTTP_CONNECT;
    if (connect) {
      m.target = s.url;
      m.authority = s.url;
    } else if (!s.url.empty() && s.url[0] != '/' && s.url != "*" &&
               http_parser_parse_url(s.url.data(), s.url.size(), 0, &u) == 0 &&
               (u.field_set & (1 << UF_HOST))) {
      // Absolute-form: the authority comes from the target and the path is what follows it.
      const size_t host_start = u.field_data[UF_HOST].off;
      size_t authority_end = host_start + u.field_data[UF_HOST].len;
      if (u.field_set & (1 << UF_PORT)) {
        authority_end = u.field_data[UF_PORT].off + u.field_data[UF_PORT].len;
      }
      // An IPv6 literal's brackets are outside UF_HOST.
      size_t authority_start = host_start;
      if (authority_start > 0 && s.url[authority_start - 1] == '[') {
        --authority_start;
        ++authority_end;
      }
      m.authority = s.url.substr(authority_start, authority_end - authority_start);
      std::string rest = s.url.substr(std::min(authority_end, s.url.size()));
      if (rest.empty()) rest = m.method == "OPTIONS" ? "*" : "/";
      if (rest.front() == '?') rest = "/" + rest;
      m.target = rest;
    } else {
      m.target = s.url;
    }
  }
  s.head_done = true;
  s.in_field = false;
  s.fields = &m.trailers;
  return 0;
}
int onBody(http_parser* p, const char* at, size_t n) {
  state(p).current.body.append(at, n);
  return 0;
}
int onMessageComplete(http_parser* p) {
  ReferenceState& s = state(p);
  normalizeFields(s.current.trailers);
  s.outcome.messages.push_back(s.current);
  return 0;
}

Outcome runReference(MessageType type, absl::string_view input) {
  http_parser_settings settings;
  http_parser_settings_init(&settings);
  settings.on_message_begin = onMessageBegin;
  settings.on_url = onUrl;
  settings.on_header_field = onHeaderField;
  settings.on_header_value = onHeaderValue;
  settings.on_headers_complete = onHeadersComplete;
  settings.on_body = onBody;
  settings.on_message_complete = onMessageComplete;
  http_parser parser;
  http_parser_init(&parser, type == MessageType::kRequest ? HTTP_REQUEST : HTTP_RESPONSE);
  ReferenceState s;
  parser.data = &s;
  http_parser_execute(&parser, &settings, input.data(), input.size());
  if (HTTP_PARSER_ERRNO(&parser) == HPE_OK && !parser.upgrade) {
    http_parser_execute(&parser, &settings, nullptr, 0);  // EOF.
  }
  if (HTTP_PARSER_ERRNO(&parser) != HPE_OK) {
    s.outcome.rejected = true;
    s.outcome.why = http_errno_name(HTTP_PARSER_ERRNO(&parser));
  }
  return s.outcome;
}

// --- Cases -------------------------------------------------------------------------------------

struct Case {
  std::string name;
  MessageType type;
  std::string bytes;
};

constexpr MessageType kReq = MessageType::kRequest;
constexpr MessageType kResp = MessageType::kResponse;

std::string operator""_b(const char* s, size_t n) { return std::string(s, n); }

const std::vector<Case>& handWritten() {
  static const std::vector<Case> cases = {
      // Well-formed messages of every framing.
      {"get", kReq, "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"},
      {"post content-length", kReq,
       "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"},
      {"post chunked with trailers", kReq,
       "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n"},
      {"pipelined", kReq,
       "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
       "POST /3 HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx"},
      {"http/1.0 keep-alive", kReq,
       "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n"},
      {"http/1.0 without host", kReq, "GET / HTTP/1.0\r\n\r\n"},
      {"absolute-form", kReq, "GET http://example.com:8080/x?y HTTP/1.1\r\nHost: other\r\n\r\n"},
      {"absolute-form query only", kReq, "GET http://example.com?q HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"asterisk-form", kReq, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"connect", kReq, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\ntunnel"},
      {"websocket upgrade", kReq,
       "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nframes"},
      {"empty field value", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n"},
      {"field value inner spaces", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX-A:  a  b  \r\n\r\n"},
      {"response content-length", kResp, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"},
      {"response chunked", kResp,
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"},
      {"response close-delimited", kResp, "HTTP/1.1 200 OK\r\n\r\nuntil the end"},
      {"response 204", kResp, "HTTP/1.1 204 No Content\r\n\r\n"},
      {"response 304 with length", kResp,
       "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"},
      {"response 100 then 200", kResp,
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
      {"response 101", kResp,
       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nx"},
      {"response without reason", kResp, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"},
      {"response http/1.0", kResp, "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"},
      {"response pipelined", kResp,
       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Nope\r\nContent-Length: "
       "0\r\n\r\n"},

      // Hostile or malformed.
      {"cl and te", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n"},
      {"duplicate content-length differing", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
      {"duplicate content-length equal", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab"},
      {"content-length list", kReq, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nab"},
      {"content-length plus sign", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +2\r\n\r\nab"},
      {"content-length huge", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n"},
      {"obs-fold", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n"},
      {"bare lf", kReq, "GET / HTTP/1.1\nHost: h\n\n"},
      {"bare cr in value", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n"},
      {"space before colon", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX-A : a\r\n\r\n"},
      {"space in field name", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX A: a\r\n\r\n"},
      {"nul in value", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n"_b},
      {"nul in target", kReq, "GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"_b},
      {"invalid chunk size", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n"},
      {"chunk size overflow", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "ffffffffffffffffff\r\nx\r\n0\r\n\r\n"},
      {"chunk size with space", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2 \r\nhi\r\n0\r\n\r\n"},
      {"chunk extension", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "2;name=value\r\nhi\r\n0\r\n\r\n"},
      {"chunk data without crlf", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX0\r\n\r\n"},
      {"chunk bare lf", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\nhi\r\n0\r\n\r\n"},
      {"te not chunked", kReq, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"te chunked then gzip", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"},
      {"te chunked twice", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
       "\r\n\r\n0\r\n\r\n"},
      {"te obfuscated", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"},
      {"te in http/1.0", kReq, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"huge version", kReq, "GET / HTTP/1.10\r\nHost: h\r\n\r\n"},
      {"version 2.0", kReq, "GET / HTTP/2.0\r\nHost: h\r\n\r\n"},
      {"version 0.9", kReq, "GET /\r\n\r\n"},
      {"lowercase version", kReq, "GET / http/1.1\r\nHost: h\r\n\r\n"},
      {"missing host", kReq, "GET / HTTP/1.1\r\n\r\n"},
      {"two hosts", kReq, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
      {"invalid host", kReq, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n"},
      {"unknown method", kReq, "FOO / HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"lowercase method", kReq, "get / HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"double space in request line", kReq, "GET  / HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"userinfo in absolute-form", kReq, "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"connect with body length", kReq,
       "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\nContent-Length: 3\r\n\r\nabc"},
      {"connect without port", kReq, "CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"leading empty line", kReq, "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"eof in headers", kReq, "GET / HTTP/1.1\r\nHost: h\r\n"},
      {"eof in body", kReq, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab"},
      {"h2c upgrade", kReq,
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
       "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n"},
      {"response status 000", kResp, "HTTP/1.1 000 Zero\r\n\r\n"},
      {"response status two digits", kResp, "HTTP/1.1 20 OK\r\n\r\n"},
      {"response status 999", kResp, "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"},
      {"response cl and te", kResp,
       "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"response te not chunked", kResp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nrest"},
      {"response duplicate content-length", kResp,
       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
      {"response obs-fold", kResp, "HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\nContent-Length: 0\r\n\r\n"},
      {"response bare lf", kResp, "HTTP/1.1 200 OK\nContent-Length: 0\n\n"},
      {"response eof in body", kResp, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"},
      {"response huge version", kResp, "HTTP/1.10 200 OK\r\n\r\n"},
      {"expect continue", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx"},
      {"connection close then more", kReq,
       "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n"},
      {"chunk extension quoted", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
       "1;a=\"b c\"\r\nx\r\n0\r\n\r\n"},
      {"chunked without trailers or data", kReq,
       "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"content-length zero", kReq, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"},
      {"nul in body", kReq, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\na\0b"_b},
      {"tab in value", kReq, "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\tb\r\n\r\n"},
      {"negative content-length", kReq, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"},
      {"response 1xx then close-delimited", kResp,
       "HTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 200 OK\r\n\r\nrest"},
  };
  return cases;
}

// Cases where the parsers disagree and why Remora's answer is the right one. A case listed here
// that stops disagreeing fails too, so that the table stays true.
const std::map<std::string, std::string>& explained() {
  static const std::map<std::string, std::string> table = {
      // http_parser lets these through.
      {"obs-fold",
       "RFC 9112 5.2: a server MUST reject obs-fold in a request with 400 or unfold "
       "it; Remora rejects, as Envoy does"},
      {"response obs-fold",
       "RFC 9112 5.2: a proxy receiving obs-fold in a response MUST either "
       "answer 502 or unfold it; Remora answers 502"},
      {"space before colon",
       "RFC 9112 5.1: a server MUST reject a request with whitespace "
       "between a field name and the colon (400)"},
      {"space in field name", "RFC 9110 5.1: a field name is a token and SP is not a tchar"},
      {"chunk size with space",
       "RFC 9112 7.1: chunk-size is 1*HEXDIG and whitespace may only "
       "precede a ';' extension; padding after the size is a known "
       "smuggling vector"},
      {"corpus smuggle_bare_lf_chunk as request",
       "RFC 9112 7.1: chunk lines end in CRLF; a bare LF in chunk framing is where lenient and "
       "strict parsers split the body differently (request smuggling)"},
      {"te chunked twice",
       "RFC 9112 6.1: chunked MUST NOT be applied more than once; decoding "
       "it once would forward a body that is still chunked"},
      {"te in http/1.0",
       "RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding MUST be "
       "treated as having faulty framing"},
      {"version 2.0",
       "RFC 9110 15.6.6: 505 for a major version the server does not support; "
       "'HTTP/2.0' in an HTTP/1 request line is not HTTP/1.1"},
      {"version 0.9",
       "RFC 9112 3: the request line needs an HTTP-version; HTTP/0.9 requests "
       "have neither fields nor framing, and Envoy does not accept them either"},
      {"missing host",
       "RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without "
       "Host"},
      {"two hosts",
       "RFC 9112 3.2: a server MUST answer 400 to a request with more than one "
       "Host field"},
      {"invalid host",
       "RFC 9112 3.2: a server MUST answer 400 to a Host field with an invalid "
       "value"},
      {"double space in request line",
       "RFC 9112 3: the request line is separated by single SP; splitting on runs of whitespace "
       "is only a MAY, and hops that split differently disagree on the target"},
      {"userinfo in absolute-form",
       "RFC 9110 4.2.4: a recipient SHOULD treat userinfo in an "
       "http URI as an error; it disguises the real authority"},
      {"connect with body length",
       "RFC 9110 9.3.6: a CONNECT request has no content; with a "
       "Content-Length the tunnel's first bytes would be ambiguous"},
      {"connect without port",
       "RFC 9112 3.2.3: the authority-form target of CONNECT is "
       "uri-host ':' port and the port is required"},
      {"response status 000",
       "RFC 9110 15: a status code's first digit is its class, 1 to 5; "
       "a 0xx status has none and its body cannot be framed"},
      {"response status two digits", "RFC 9112 4: status-code is exactly 3DIGIT"},
      // http_parser rejects these.
      {"response 304 with length",
       "RFC 9112 6.3: a 304 response ends at the end of its header section whatever its "
       "Content-Length says (http_parser waits for ten body bytes)"},
      {"duplicate content-length equal",
       "RFC 9110 8.6: a recipient MAY replace identical repeated Content-Length values with "
       "one; Remora does and forwards a single canonical value"},
      {"content-length list",
       "RFC 9110 8.6: a list of identical Content-Length values MAY be "
       "replaced by one; Remora does and forwards a single value"},
      // Not parsing: what Remora forwards.
      {"h2c upgrade",
       "Like Envoy, Remora does not offer h2c (RFC 9113 3.1 retired it; RFC 9110 "
       "7.8 lets a server ignore Upgrade): it drops Upgrade: h2c, HTTP2-Settings "
       "and their Connection tokens and forwards plain HTTP/1.1"},
  };
  return table;
}

std::vector<Case> corpusCases() {
  std::vector<Case> cases;
  const std::filesystem::path dir =
      std::filesystem::path(REMORA_SOURCE_DIR) / "test/fuzz/corpus/http1_parser";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    for (MessageType type : {kReq, kResp}) {
      cases.push_back({absl::StrCat("corpus ", path.filename().string(),
                                    type == kReq ? " as request" : " as response"),
                       type, bytes.str()});
    }
  }
  return cases;
}

// Runs `cases`; returns a report of every unexplained disagreement and every stale explanation.
std::string compare(const std::vector<Case>& cases) {
  std::string report;
  for (const Case& c : cases) {
    const Outcome ours = runRemora(c.type, c.bytes);
    const Outcome theirs = runReference(c.type, c.bytes);
    const bool agree = ours.transcript() == theirs.transcript();
    const bool listed = explained().count(c.name) != 0;
    if (agree && listed) {
      absl::StrAppend(&report, "== ", c.name, ": listed as a disagreement but both now say\n",
                      ours.transcript());
    } else if (!agree && !listed) {
      absl::StrAppend(&report, "== ", c.name,
                      ": unexplained disagreement\ninput: ", printable(c.bytes), "\n-- Remora (",
                      ours.why, ")\n", ours.transcript(), "-- http_parser (", theirs.why, ")\n",
                      theirs.transcript());
    }
  }
  return report;
}

TEST_CASE("Remora and http_parser agree on hand-written messages or Remora has a stated reason") {
  const std::string report = compare(handWritten());
  INFO(report);
  CHECK(report.empty());
}

TEST_CASE("Remora and http_parser agree on the HTTP/1 fuzz seeds or Remora has a stated reason") {
  const std::vector<Case> cases = corpusCases();
  REQUIRE(cases.size() >= 2);
  const std::string report = compare(cases);
  INFO(report);
  CHECK(report.empty());
}

TEST_CASE("Every explained parser disagreement names a case that exists") {
  std::vector<std::string> names;
  for (const Case& c : handWritten()) names.push_back(c.name);
  for (const Case& c : corpusCases()) names.push_back(c.name);
  for (const auto& [name, reason] : explained()) {
    INFO(name);
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    CHECK(!reason.empty());
  }
}

}  // namespace
}  // namespace remora::http::http1
