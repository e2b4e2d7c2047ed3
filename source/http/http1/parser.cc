#include "source/http/http1/parser.h"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/http/ascii_scan.h"

// Line endings: RFC 9112 section 2.2 lets a recipient take a bare LF as the end of the start-line
// and of field lines, and we do, in heads and in trailers: those are re-serialized by our encoder
// with CRLF, so no later hop can read them differently. A CR anywhere else in a head is an error.
// Chunk framing (chunk-size lines and the CRLF after chunk data) is not covered by that rule and
// must be exactly CRLF, as disagreement there is a known smuggling vector.

namespace remora::http::http1 {

namespace {

constexpr size_t kMaxChunkLineBytes = 4096;  // chunk-size plus extensions, which we ignore.
constexpr uint64_t kMaxLength = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// tchar (RFC 9110 section 5.6.2).
bool isOws(char c) { return c == ' ' || c == '\t'; }

// field-vchar, SP and HTAB (RFC 9110 section 5.5); obs-text bytes are accepted as opaque.
bool isFieldValueChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

absl::string_view trimOws(absl::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

// uri-host [":" port] characters: unreserved, sub-delims, ":", "[", "]" and "%" (pct-encoded and
// IPv6 literals). Anything else in Host or an authority would let two parsers see different hosts.
bool isAuthorityChar(char c) {
  if (absl::ascii_isalnum(static_cast<unsigned char>(c))) return true;
  return c != '\0' && std::strchr("-._~!$&'()*+,;=:[]%", c) != nullptr;
}

bool isValidAuthority(absl::string_view s) {
  return std::all_of(s.begin(), s.end(), isAuthorityChar);
}

// Methods accepted when custom methods are not allowed: the list Envoy's HTTP/1 codec accepts
// by default (RFC 9110's methods, PATCH, WebDAV and a few others), sorted for binary search.
constexpr absl::string_view kKnownMethods[] = {
    "ACL",       "BIND",    "CHECKOUT", "CONNECT", "COPY",       "DELETE",     "GET",
    "HEAD",      "LINK",    "LOCK",     "MERGE",   "MKACTIVITY", "MKCALENDAR", "MKCOL",
    "MOVE",      "MSEARCH", "NOTIFY",   "OPTIONS", "PATCH",      "POST",       "PROPFIND",
    "PROPPATCH", "PURGE",   "PUT",      "REBIND",  "REPORT",     "SEARCH",     "SOURCE",
    "SUBSCRIBE", "TRACE",   "UNBIND",   "UNLINK",  "UNLOCK",     "UNSUBSCRIBE"};

bool isKnownMethod(absl::string_view method) {
  return std::binary_search(std::begin(kKnownMethods), std::end(kKnownMethods), method);
}

// "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 section 2.3).
bool parseVersion(absl::string_view v, int& major, int& minor) {
  if (v.size() != 8 || !absl::StartsWith(v, "HTTP/") || !absl::ascii_isdigit(v[5]) || v[6] != '.' ||
      !absl::ascii_isdigit(v[7])) {
    return false;
  }
  major = v[5] - '0';
  minor = v[7] - '0';
  return true;
}

// Takes the next line of a block (each line ends in LF, optionally preceded by CR) without its
// terminator. The block's scan already rejected any CR not followed by LF.
absl::string_view nextLine(absl::string_view& rest) {
  size_t nl = rest.find('\n');
  absl::string_view line = rest.substr(0, nl);
  rest.remove_prefix(nl == absl::string_view::npos ? rest.size() : nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// tchar as a table: this check runs over every header name byte.
struct CharClasses {
  bool tchar[256] = {};
  constexpr CharClasses() {
    for (int c = 0; c < 256; ++c) {
      tchar[c] = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
    for (char c : absl::string_view("!#$%&'*+-.^_`|~")) tchar[static_cast<unsigned char>(c)] = true;
  }
};
constexpr CharClasses kChars;

bool allTchar(absl::string_view s) {
  for (char c : s) {
    if (!kChars.tchar[static_cast<unsigned char>(c)]) return false;
  }
  return true;
}

bool isToken(absl::string_view s) { return !s.empty() && allTchar(s); }

struct Failure {
  int status = 0;
  absl::string_view details;
};

// Parses the field lines of `rest` into `out` (keys lowercased by HeaderMap::add).
Failure parseFieldLines(absl::string_view rest, HeaderMap& out) {
  while (!rest.empty()) {
    absl::string_view line = nextLine(rest);
    if (line.empty()) continue;  // Only the terminating empty line; never in the middle.
    if (isOws(line.front())) return {400, "http1.obs_fold_not_allowed"};
    size_t colon = line.find(':');
    if (colon == absl::string_view::npos) return {400, "http1.missing_colon"};
    absl::string_view name = line.substr(0, colon);
    if (name.empty()) return {400, "http1.invalid_header_name"};
    if (isOws(name.back())) return {400, "http1.whitespace_before_colon"};
    if (!allTchar(name)) return {400, "http1.invalid_header_name"};
    absl::string_view value = trimOws(line.substr(colon + 1));
    if (!ascii::allFieldValue(value)) {
      return {400, "http1.invalid_characters"};
    }
    out.add(name, value);
  }
  return {};
}

// What the framing-related fields of a head say, gathered in one pass over the map.
struct FramingFields {
  int host_count = 0;
  bool host_valid = true;
  bool has_content_length = false;
  uint64_t content_length = 0;
  // One Content-Length line holding exactly the canonical digits: nothing to rewrite.
  bool content_length_canonical = false;
  bool has_transfer_encoding = false;
  std::vector<std::string> codings;  // Lowercased, in order, empty elements dropped.
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  bool expect_continue = false;
};

// Content-Length = 1*DIGIT; a list of identical values ("5, 5") or repeated identical lines may
// be collapsed (RFC 9112 section 6.3), anything else is a request smuggling risk.
Failure addContentLength(absl::string_view value, FramingFields& f) {
  const bool first_line = !f.has_content_length;
  for (absl::string_view element : absl::StrSplit(value, ',')) {
    element = trimOws(element);
    if (element.empty() || element.size() > 19) return {400, "http1.invalid_content_length"};
    uint64_t n = 0;
    for (char c : element) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
        return {400, "http1.invalid_content_length"};
      }
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > kMaxLength) return {400, "http1.invalid_content_length"};
    if (f.has_content_length && n != f.content_length) {
      return {400, "http1.multiple_content_length"};
    }
    f.has_content_length = true;
    f.content_length = n;
  }
  f.content_length_canonical =
      first_line && !value.empty() && (value[0] != '0' || value.size() == 1) &&
      std::all_of(value.begin(), value.end(),
                  [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); });
  return {};
}

Failure gatherFramingFields(const HeaderMap& headers, FramingFields& f) {
  for (const HeaderEntry& e : headers) {
    if (e.key == "host") {
      ++f.host_count;
      f.host_valid = f.host_valid && isValidAuthority(e.value);
    } else if (e.key == "content-length") {
      Failure failure = addContentLength(e.value, f);
      if (failure.status != 0) return failure;
    } else if (e.key == "transfer-encoding") {
      f.has_transfer_encoding = true;
      for (absl::string_view element : absl::StrSplit(e.value, ',')) {
        element = trimOws(element);
        if (element.empty()) continue;
        // Parameters on a coding (";q=...") are not supported, so they fail the token check.
        if (!isToken(element)) return {400, "http1.invalid_transfer_encoding"};
        f.codings.push_back(absl::AsciiStrToLower(element));
      }
    } else if (e.key == "connection") {
      for (absl::string_view token : absl::StrSplit(e.value, ',')) {
        token = trimOws(token);
        if (absl::EqualsIgnoreCase(token, "close")) f.connection_close = true;
        if (absl::EqualsIgnoreCase(token, "keep-alive")) f.connection_keep_alive = true;
        if (absl::EqualsIgnoreCase(token, "upgrade")) f.connection_upgrade = true;
      }
    } else if (e.key == "expect") {
      if (absl::EqualsIgnoreCase(e.value, "100-continue")) f.expect_continue = true;
    }
  }
  return {};
}

// Transfer-Encoding checks shared by requests and responses; `final_chunked` tells whether the
// body is chunked. A request whose last coding is not chunked has no reliable length (400); a
// response then runs until the connection closes (RFC 9112 section 6.3).
Failure checkTransferEncoding(const FramingFields& f, MessageType type, bool& final_chunked) {
  final_chunked = false;
  if (f.codings.empty()) return {400, "http1.invalid_transfer_encoding"};
  size_t chunked = std::count(f.codings.begin(), f.codings.end(), "chunked");
  if (chunked > 1) return {400, "http1.chunked_repeated"};
  if (f.codings.back() != "chunked") {
    if (chunked == 1 || type == MessageType::kRequest) return {400, "http1.chunked_not_final"};
    return {};
  }
  // Another coding under chunked would have to be decoded or announced to the next hop; we do
  // neither, so it is refused as RFC 9112 section 6.1 suggests for codings not understood.
  if (f.codings.size() > 1) return {501, "http1.unsupported_transfer_coding"};
  final_chunked = true;
  return {};
}

// How the request-target names the resource (RFC 9112 section 3.2).
// Views into the request-line, so the common origin-form costs no copy.
struct Target {
  absl::string_view path;  // Empty for CONNECT.
  absl::string_view authority;
  bool has_authority = false;  // Absolute-form or authority-form: Host is not used.
  std::string built_path;      // Backs `path` when it is not a slice of the target.
};

Failure parseTarget(absl::string_view method, absl::string_view target, Target& out) {
  if (method == "CONNECT") {
    // authority-form: uri-host ":" port.
    size_t colon = target.rfind(':');
    if (colon == absl::string_view::npos || colon == 0 || colon + 1 == target.size() ||
        !isValidAuthority(target) || target.find('@') != absl::string_view::npos ||
        !std::all_of(target.begin() + colon + 1, target.end(),
                     [](char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); })) {
      return {400, "http1.invalid_url"};
    }
    out.authority = target;
    out.has_authority = true;
    return {};
  }
  if (target.front() == '/') {
    out.path = target;
    return {};
  }
  if (target == "*") {
    if (method != "OPTIONS") return {400, "http1.invalid_url"};
    out.path = "*";
    return {};
  }
  // absolute-form: scheme "://" authority path-abempty [ "?" query ].
  if (!absl::ascii_isalpha(static_cast<unsigned char>(target.front()))) {
    return {400, "http1.invalid_url"};
  }
  size_t i = 1;
  while (i < target.size() && (absl::ascii_isalnum(static_cast<unsigned char>(target[i])) ||
                               target[i] == '+' || target[i] == '-' || target[i] == '.')) {
    ++i;
  }
  if (target.substr(i, 3) != "://") return {400, "http1.invalid_url"};
  absl::string_view rest = target.substr(i + 3);
  size_t end = rest.find_first_of("/?");
  absl::string_view authority = rest.substr(0, end);
  // Userinfo is deprecated and a classic way to disguise the real host (RFC 9110 section 4.2.4).
  if (authority.empty() || authority.find('@') != absl::string_view::npos ||
      !isValidAuthority(authority)) {
    return {400, "http1.invalid_url"};
  }
  out.authority = authority;
  out.has_authority = true;
  absl::string_view path = end == absl::string_view::npos ? "" : rest.substr(end);
  if (path.empty()) {
    out.path = method == "OPTIONS" ? "*" : "/";
  } else if (path.front() == '?') {
    out.built_path = absl::StrCat("/", path);
    out.path = out.built_path;
  } else {
    out.path = path;
  }
  return {};
}

// Removes `tokens` from the comma-separated Connection value; drops the field when empty.
void removeConnectionTokens(HeaderMap& headers, std::initializer_list<absl::string_view> tokens) {
  const std::string joined = headers.getJoined("connection");
  std::string kept;
  for (absl::string_view token : absl::StrSplit(joined, ',')) {
    token = trimOws(token);
    if (token.empty()) continue;
    bool drop = std::any_of(tokens.begin(), tokens.end(),
                            [&](absl::string_view t) { return absl::EqualsIgnoreCase(token, t); });
    if (drop) continue;
    if (!kept.empty()) kept.append(",");
    kept.append(token.data(), token.size());
  }
  if (kept.empty()) {
    headers.remove("connection");
  } else {
    headers.set("connection", kept);
  }
}

}  // namespace

Parser::Parser(MessageType type, ParserCallbacks& callbacks, const ParserLimits& limits)
    : type_(type), callbacks_(callbacks), limits_(limits) {}

bool Parser::fail(int status, absl::string_view details) {
  error_.status = status;
  error_.details = std::string(details);
  return false;
}

void Parser::setRequestMethod(absl::string_view method) {
  if (method == "HEAD") {
    request_method_ = RequestMethod::kHead;
  } else if (method == "CONNECT") {
    request_method_ = RequestMethod::kConnect;
  } else {
    request_method_ = RequestMethod::kOther;
  }
}

void Parser::reset() {
  error_ = ParseError();
  phase_ = Phase::kHead;
  scan_ = LineScan();
  head_seen_ = false;
  interim_seen_ = false;
  request_method_ = RequestMethod::kOther;
  remaining_ = 0;
  body_bytes_ = 0;
}

bool Parser::idle() const {
  return !hasError() && phase_ == Phase::kHead && !head_seen_ && !interim_seen_;
}

bool Parser::inMessage() const { return !hasError() && !idle() && phase_ != Phase::kComplete; }

void Parser::completeMessage() {
  phase_ = Phase::kComplete;
  callbacks_.onMessageComplete();
}

Parser::Scan Parser::scanFieldBlock(const char* data, size_t len, bool trailers, size_t& end) {
  const size_t limit = limits_.max_headers_bytes;
  if (scan_.pos > len) scan_ = LineScan();  // The caller passed fewer bytes than before.
  // Nothing past `limit` can belong to an acceptable block, so the scan never looks further.
  const size_t stop = std::min(len, limit);
  size_t i = scan_.pos;
  // memchr finds each LF and any CR; a CR is legal only right before an LF.
  while (i < stop) {
    const char* lf = static_cast<const char*>(std::memchr(data + i, '\n', stop - i));
    const size_t segment_end = lf != nullptr ? static_cast<size_t>(lf - data) : stop;
    if (const void* cr = std::memchr(data + i, '\r', segment_end - i)) {
      const size_t at = static_cast<const char*>(cr) - data;
      if (at + 1 >= len) {
        i = at;  // Whether this is CRLF or a bare CR needs the next byte.
        break;
      }
      if (data[at + 1] != '\n') {
        fail(400, "http1.bare_cr");
        return Scan::kError;
      }
    }
    if (lf == nullptr) {
      i = stop;
      break;
    }
    i = segment_end;
    size_t line_len = i - scan_.line_start;
    bool empty = line_len == 0 || (line_len == 1 && data[i - 1] == '\r');
    ++i;
    if (empty) {
      if (scan_.lines == 0 && !trailers) {
        fail(400, type_ == MessageType::kRequest ? "http1.invalid_request_line"
                                                 : "http1.invalid_status_line");
        return Scan::kError;
      }
      scan_.pos = i;
      end = i;
      return Scan::kDone;
    }
    ++scan_.lines;
    scan_.line_start = i;
    const uint32_t fields = trailers ? scan_.lines : scan_.lines - 1;
    if (fields > limits_.max_headers_count) {
      fail(431, trailers ? "http1.too_many_trailers" : "http1.too_many_headers");
      return Scan::kError;
    }
  }
  scan_.pos = i;
  if (i < limit) return Scan::kNeedMore;
  // Over the limit. A request-line that is still incomplete here is most likely a huge target.
  if (!trailers && type_ == MessageType::kRequest && scan_.lines == 0) {
    absl::string_view partial(data, i);
    size_t sp = partial.find(' ');
    if (sp != absl::string_view::npos) {
      size_t target_end = partial.find(' ', sp + 1);
      if (target_end == absl::string_view::npos) target_end = partial.size();
      if (target_end - sp - 1 > limits_.max_uri_bytes) {
        fail(414, "http1.uri_too_long");
        return Scan::kError;
      }
    }
  }
  fail(431, trailers ? "http1.trailers_too_large" : "http1.headers_too_large");
  return Scan::kError;
}

Parser::Scan Parser::scanChunkLine(const char* data, size_t len, size_t& end) {
  if (scan_.pos > len) scan_ = LineScan();
  const size_t stop = std::min(len, kMaxChunkLineBytes);
  const void* nl = std::memchr(data + scan_.pos, '\n', stop - std::min(scan_.pos, stop));
  if (nl == nullptr) {
    scan_.pos = stop;
    if (stop < kMaxChunkLineBytes) return Scan::kNeedMore;
    fail(400, "http1.chunk_line_too_long");
    return Scan::kError;
  }
  end = static_cast<const char*>(nl) - data + 1;
  return Scan::kDone;
}

bool Parser::onHeadBlock(absl::string_view block, uint32_t lines) {
  absl::string_view field_lines = block;
  const absl::string_view start_line = nextLine(field_lines);
  HeaderMap headers;
  // The scan counted the lines: the fields, plus room for the pseudo-headers added below.
  headers.reserve(lines + 3);
  MessageHead head;
  int major = 0;
  int minor = 0;
  absl::string_view method;
  Target target;
  int status = 0;

  if (type_ == MessageType::kRequest) {
    // request-line = method SP request-target SP HTTP-version, single spaces only.
    size_t sp1 = start_line.find(' ');
    if (sp1 == absl::string_view::npos) return fail(400, "http1.invalid_request_line");
    absl::string_view m = start_line.substr(0, sp1);
    if (!isToken(m)) return fail(400, "http1.invalid_method");
    absl::string_view rest = start_line.substr(sp1 + 1);
    size_t sp2 = rest.find(' ');
    if (sp2 == absl::string_view::npos) return fail(400, "http1.invalid_request_line");
    absl::string_view t = rest.substr(0, sp2);
    if (t.empty()) return fail(400, "http1.invalid_request_line");
    if (t.size() > limits_.max_uri_bytes) return fail(414, "http1.uri_too_long");
    if (!parseVersion(rest.substr(sp2 + 1), major, minor)) {
      return fail(400, "http1.invalid_version");
    }
    if (major != 1 || minor > 1) return fail(505, "http1.unsupported_version");
    // Methods are case-sensitive; Envoy's default rejects methods it does not know.
    if (!isKnownMethod(m)) return fail(400, "http1.unknown_method");
    for (char c : t) {
      if (c <= 0x20 || c >= 0x7f) return fail(400, "http1.invalid_url");
    }
    method = m;
    Failure failure = parseTarget(method, t, target);
    if (failure.status != 0) return fail(failure.status, failure.details);
    // Pseudo-headers go in before the fields, so that none has to be inserted in front of them.
    headers.add(":method", method);
    if (!target.path.empty()) headers.add(":path", target.path);
  } else {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]; the SP before an empty
    // reason is often missing in practice and carries nothing, so it is optional here.
    if (start_line.size() < 12 || start_line[8] != ' ' ||
        !parseVersion(start_line.substr(0, 8), major, minor)) {
      return fail(400, "http1.invalid_status_line");
    }
    absl::string_view code = start_line.substr(9, 3);
    if (code[0] < '1' || code[0] > '9' || !absl::ascii_isdigit(code[1]) ||
        !absl::ascii_isdigit(code[2])) {
      return fail(400, "http1.invalid_status_line");
    }
    if (start_line.size() > 12 && start_line[12] != ' ') {
      return fail(400, "http1.invalid_status_line");
    }
    absl::string_view reason = start_line.substr(std::min<size_t>(13, start_line.size()));
    if (!std::all_of(reason.begin(), reason.end(), isFieldValueChar)) {
      return fail(400, "http1.invalid_status_line");
    }
    if (major != 1 || minor > 1) return fail(505, "http1.unsupported_version");
    status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    headers.add(":status", code);
  }
  head.version_minor = minor;

  Failure failure = parseFieldLines(field_lines, headers);
  if (failure.status != 0) return fail(failure.status, failure.details);
  FramingFields f;
  failure = gatherFramingFields(headers, f);
  if (failure.status != 0) return fail(failure.status, failure.details);

  // An HTTP/1.0 message with Transfer-Encoding has faulty framing (RFC 9112 section 6.1).
  if (f.has_transfer_encoding && minor == 0) return fail(400, "http1.invalid_transfer_encoding");
  if (f.has_transfer_encoding && f.has_content_length) {
    return fail(400, "http1.content_length_and_chunked_not_allowed");
  }
  bool chunked = false;
  if (f.has_transfer_encoding) {
    if (type_ == MessageType::kRequest && method == "CONNECT") {
      return fail(501, "http1.invalid_transfer_encoding");
    }
    failure = checkTransferEncoding(f, type_, chunked);
    if (failure.status != 0) return fail(failure.status, failure.details);
  }
  if (f.has_content_length && !f.content_length_canonical) {
    // One canonical value replaces repeated or listed identical ones.
    headers.set("content-length", std::to_string(f.content_length));
  }

  head.keep_alive = !f.connection_close && (minor == 1 || f.connection_keep_alive);
  head.chunked = chunked;
  head.has_content_length = f.has_content_length;
  head.content_length = f.content_length;

  enum class Body { kNone, kLength, kChunked, kUntilEof, kInterim } body = Body::kNone;
  if (type_ == MessageType::kRequest) {
    // RFC 9112 section 3.2: exactly one Host in HTTP/1.1; never more than one.
    if (f.host_count > 1) return fail(400, "http1.multiple_host_headers");
    if (f.host_count == 0 && minor == 1) return fail(400, "http1.missing_host_header");
    if (f.host_count == 1 && !f.host_valid) return fail(400, "http1.invalid_host");
    // An absolute-form or CONNECT target overrides Host (RFC 9112 section 3.2.2); otherwise Host
    // itself becomes :authority.
    if (target.has_authority) {
      headers.remove("host");
      headers.addFront(":authority", target.authority);
    } else if (f.host_count == 1) {
      headers.renameToFront("host", ":authority");
    }
    head.expect_continue = f.expect_continue && minor == 1;

    if (method == "CONNECT") {
      // A CONNECT body has no defined meaning; everything after the head is tunnel data.
      if (f.content_length > 0) return fail(400, "http1.body_disallowed");
      headers.remove("content-length");
      head.has_content_length = false;
      head.upgrade = true;
    } else if (minor == 1 && f.connection_upgrade && headers.has("upgrade")) {
      // Like Envoy, h2c is not offered: drop it so the request goes upstream as plain HTTP/1.1.
      if (absl::EqualsIgnoreCase(*headers.get("upgrade"), "h2c")) {
        headers.remove("upgrade");
        headers.remove("http2-settings");
        removeConnectionTokens(headers, {"upgrade", "http2-settings"});
      } else {
        head.upgrade = true;
      }
    }
    // Upgrade requests keep their framing: the caller decides on the response (101 → tunnel).
    if (chunked) {
      body = Body::kChunked;
    } else if (f.content_length > 0 && method != "CONNECT") {
      if (limits_.max_body_bytes != 0 && f.content_length > limits_.max_body_bytes) {
        return fail(413, "http1.body_too_large");
      }
      body = Body::kLength;
    }
  } else {
    if (status == 101) {
      head.upgrade = true;
      head.keep_alive = false;
    } else if (status < 200) {
      body = Body::kInterim;
    } else if (request_method_ == RequestMethod::kConnect && status < 300) {
      head.upgrade = true;
      head.keep_alive = false;
    } else if (request_method_ == RequestMethod::kHead || status == 204 || status == 304) {
      body = Body::kNone;
    } else if (chunked) {
      body = Body::kChunked;
    } else if (f.has_transfer_encoding || !f.has_content_length) {
      body = Body::kUntilEof;
      head.keep_alive = false;
    } else if (f.content_length > 0) {
      body = Body::kLength;
    }
  }

  switch (body) {
    case Body::kInterim:
      interim_seen_ = true;
      phase_ = Phase::kHead;
      scan_ = LineScan();
      callbacks_.onHeaders(std::move(headers), head);
      return true;
    case Body::kNone:
      callbacks_.onHeaders(std::move(headers), head);
      completeMessage();
      return true;
    case Body::kLength:
      phase_ = Phase::kBodyLength;
      remaining_ = f.content_length;
      break;
    case Body::kChunked:
      phase_ = Phase::kChunkLine;
      scan_ = LineScan();
      break;
    case Body::kUntilEof:
      phase_ = Phase::kBodyUntilEof;
      break;
  }
  callbacks_.onHeaders(std::move(headers), head);
  return true;
}

bool Parser::onChunkLine(absl::string_view line) {
  // chunk = chunk-size [ chunk-ext ] CRLF; a bare LF or a CR elsewhere is refused.
  if (line.size() < 2 || line[line.size() - 2] != '\r') return fail(400, "http1.chunk_bare_lf");
  line.remove_suffix(2);
  uint64_t size = 0;
  size_t i = 0;
  for (; i < line.size() && absl::ascii_isxdigit(static_cast<unsigned char>(line[i])); ++i) {
    if (size > (kMaxLength >> 4)) return fail(400, "http1.invalid_chunk_size");
    char c = line[i];
    uint64_t digit = absl::ascii_isdigit(static_cast<unsigned char>(c))
                         ? c - '0'
                         : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    size = (size << 4) | digit;
  }
  if (i == 0) return fail(400, "http1.invalid_chunk_size");
  absl::string_view ext = line.substr(i);
  // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ): whitespace only before ";".
  absl::string_view after_ws = ext;
  while (!after_ws.empty() && isOws(after_ws.front())) after_ws.remove_prefix(1);
  if (!ext.empty() && (after_ws.empty() || after_ws.front() != ';')) {
    return fail(400, "http1.invalid_chunk_size");
  }
  for (char c : after_ws) {
    if (c == '\r') return fail(400, "http1.bare_cr");
    if (!isFieldValueChar(c)) return fail(400, "http1.invalid_chunk_extension");
  }
  if (size == 0) {
    phase_ = Phase::kTrailers;
    scan_ = LineScan();
    return true;
  }
  body_bytes_ += size;
  if (type_ == MessageType::kRequest && limits_.max_body_bytes != 0 &&
      body_bytes_ > limits_.max_body_bytes) {
    return fail(413, "http1.body_too_large");
  }
  remaining_ = size;
  phase_ = Phase::kChunkData;
  return true;
}

bool Parser::onTrailerBlock(absl::string_view block) {
  HeaderMap trailers;
  Failure failure = parseFieldLines(block, trailers);
  if (failure.status != 0) return fail(failure.status, failure.details);
  if (!trailers.empty()) callbacks_.onTrailers(std::move(trailers));
  completeMessage();
  return true;
}

size_t Parser::execute(const char* data, size_t len) {
  size_t pos = 0;
  while (!hasError() && phase_ != Phase::kComplete) {
    const char* p = data + pos;
    const size_t avail = len - pos;
    switch (phase_) {
      case Phase::kHead: {
        // RFC 9112 section 2.2: a server ignores empty lines received before a request-line.
        if (type_ == MessageType::kRequest && !interim_seen_ && scan_.pos == 0) {
          size_t skip = 0;
          while (skip < avail) {
            if (p[skip] == '\n') {
              ++skip;
            } else if (p[skip] == '\r' && skip + 1 < avail && p[skip + 1] == '\n') {
              skip += 2;
            } else {
              break;
            }
          }
          if (skip > 0) {
            pos += skip;
            continue;
          }
        }
        // The caller passes every unconsumed byte each time, so this says whether any is pending.
        head_seen_ = avail > 0;
        if (avail == 0) return pos;
        size_t end = 0;
        Scan r = scanFieldBlock(p, avail, false, end);
        if (r != Scan::kDone) return pos;
        const uint32_t lines = scan_.lines;
        scan_ = LineScan();
        head_seen_ = false;
        if (!onHeadBlock(absl::string_view(p, end), lines)) return pos;
        pos += end;
        break;
      }
      case Phase::kBodyLength: {
        if (avail == 0) return pos;
        size_t n = static_cast<size_t>(std::min<uint64_t>(avail, remaining_));
        callbacks_.onBody(absl::string_view(p, n));
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) completeMessage();
        break;
      }
      case Phase::kChunkLine: {
        if (avail == 0) return pos;
        size_t end = 0;
        if (scanChunkLine(p, avail, end) != Scan::kDone) return pos;
        scan_ = LineScan();
        if (!onChunkLine(absl::string_view(p, end))) return pos;
        pos += end;
        break;
      }
      case Phase::kChunkData: {
        if (avail == 0) return pos;
        size_t n = static_cast<size_t>(std::min<uint64_t>(avail, remaining_));
        callbacks_.onBody(absl::string_view(p, n));
        pos += n;
        remaining_ -= n;
        if (remaining_ == 0) phase_ = Phase::kChunkDataEnd;
        break;
      }
      case Phase::kChunkDataEnd: {
        if (avail >= 1 && p[0] != '\r') {
          fail(400, "http1.chunk_missing_crlf");
          return pos;
        }
        if (avail < 2) return pos;
        if (p[1] != '\n') {
          fail(400, "http1.chunk_missing_crlf");
          return pos;
        }
        pos += 2;
        phase_ = Phase::kChunkLine;
        break;
      }
      case Phase::kTrailers: {
        if (avail == 0) return pos;
        size_t end = 0;
        if (scanFieldBlock(p, avail, true, end) != Scan::kDone) return pos;
        scan_ = LineScan();
        if (!onTrailerBlock(absl::string_view(p, end))) return pos;
        pos += end;
        break;
      }
      case Phase::kBodyUntilEof: {
        if (avail > 0) callbacks_.onBody(absl::string_view(p, avail));
        return len;
      }
      case Phase::kComplete:
        return pos;
    }
  }
  return pos;
}

bool Parser::onEof() {
  if (hasError()) return false;
  switch (phase_) {
    case Phase::kComplete:
      return true;
    case Phase::kBodyUntilEof:
      completeMessage();
      return true;
    case Phase::kHead:
      if (idle()) return true;
      break;
    default:
      break;
  }
  return fail(400, "http1.premature_eof");
}

}  // namespace remora::http::http1
