// HttpBackend: a single poll() loop over non-blocking sockets. Each connection is a small state
// machine (head → body → response → next head) so pipelined requests are answered strictly in
// order, and the response body is produced only when the socket has room (backpressure).
#include "test/support/http_backend.h"

#include <arpa/inet.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>

namespace remora::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHead = 64 * 1024;        // Larger heads (or trailers) get a 431.
constexpr size_t kMaxLine = 1024;             // A chunk-size line longer than this is malformed.
constexpr size_t kReadChunk = 256 * 1024;     // One recv() per readiness event.
constexpr size_t kPiece = 64 * 1024;          // Body bytes produced per step.
constexpr size_t kOutHighWater = 256 * 1024;  // Produce more body only below this much unsent.
constexpr size_t kInputCap = 1024 * 1024;     // Stop reading while this much input waits.
constexpr size_t kCompactAt = 64 * 1024;

char lowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lowerAscii(c);
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
  }
  return true;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 tchar.
bool isTchar(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), isTchar); }

// Whether any `name` field lists `token` among its comma-separated values.
bool hasToken(const HeaderList& headers, std::string_view name, std::string_view token) {
  for (const auto& [field, value] : headers) {
    if (!equalsIgnoreCase(field, name)) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      if (equalsIgnoreCase(trimOws(rest.substr(0, comma)), token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

// For error messages: control bytes escaped, long input cut.
std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 200)) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 200) out += "...";
  return out;
}

const char* reasonPhrase(int status) {
  // clang-format off
  static constexpr std::pair<int, const char*> kPhrases[] = {
      {100, "Continue"}, {101, "Switching Protocols"}, {103, "Early Hints"}, {200, "OK"},
      {201, "Created"}, {202, "Accepted"}, {204, "No Content"}, {206, "Partial Content"},
      {301, "Moved Permanently"}, {302, "Found"}, {304, "Not Modified"}, {400, "Bad Request"},
      {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"}, {405, "Method Not Allowed"},
      {408, "Request Timeout"}, {413, "Content Too Large"}, {417, "Expectation Failed"},
      {429, "Too Many Requests"}, {431, "Request Header Fields Too Large"},
      {500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
      {503, "Service Unavailable"}, {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"},
  };
  // clang-format on
  for (const auto& [code, phrase] : kPhrases) {
    if (code == status) return phrase;
  }
  return "Status";
}

std::string hex(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(n));
  return buf;
}

Fd listenLoopback(bool ipv6, const std::string& ipv4, uint16_t port) {
  Fd fd(::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fd;
  int rc;
  if (ipv6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_loopback;
    addr.sin6_port = htons(port);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, ipv4.c_str(), &addr.sin_addr) != 1) return Fd();
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  if (rc != 0 || ::listen(fd.get(), 1024) != 0) return Fd();
  return fd;
}

uint16_t boundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

}  // namespace

std::string findHeader(const HeaderList& headers, std::string_view name) {
  for (const auto& [field, value] : headers) {
    if (equalsIgnoreCase(field, name)) return value;
  }
  return "";
}

size_t countHeader(const HeaderList& headers, std::string_view name) {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) {
    return equalsIgnoreCase(h.first, name);
  }));
}

std::string parseFieldLines(std::string_view block, HeaderList* out) {
  while (!block.empty()) {
    const size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
    if (line.empty()) return "empty field line";
    if (line.front() == ' ' || line.front() == '\t') {
      return "obsolete line folding: " + printable(line);
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon))) {
      return "malformed field line: " + printable(line);
    }
    const std::string_view value = trimOws(line.substr(colon + 1));
    for (unsigned char c : value) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) return "control byte in field: " + printable(line);
    }
    out->emplace_back(lower(line.substr(0, colon)), std::string(value));
  }
  return "";
}

// At most 15 digits, so the size cannot overflow.
bool parseChunkSize(std::string_view line, uint64_t* size) {
  size_t digits = 0;
  uint64_t value = 0;
  for (; digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits]));
       ++digits) {
    const char c = lowerAscii(line[digits]);
    value = value * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  if (digits == 0 || digits > 15) return false;
  std::string_view ext = trimOws(line.substr(digits));
  if (!ext.empty() && ext.front() != ';') return false;
  for (unsigned char c : ext) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  *size = value;
  return true;
}

bool parseContentLength(const HeaderList& headers, uint64_t* length) {
  std::optional<uint64_t> agreed;
  for (const auto& [name, value] : headers) {
    if (name != "content-length") continue;
    std::string_view rest = value;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view item = trimOws(rest.substr(0, comma));
      if (item.empty() || item.size() > 18) return false;
      uint64_t n = 0;
      for (char c : item) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (agreed && *agreed != n) return false;
      agreed = n;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  *length = agreed.value_or(0);
  return true;
}

uint64_t checksumOfPattern(size_t bytes) {
  Checksum sum;
  for (size_t offset = 0; offset < bytes; offset += kPiece) {
    sum.update(patternBytes(offset, std::min(kPiece, bytes - offset)));
  }
  return sum.value();
}

struct HttpBackend::Connection {
  // kDelayed: the reply is decided and waits for its delay; kStalled: never answers again;
  // kClosing: sends what is queued, then a FIN, and discards input until the peer's EOF.
  enum class Phase { kHead, kBody, kDelayed, kResponding, kStalled, kTunnel, kClosing };
  enum class Body { kLength, kChunkSize, kChunkData, kChunkEnd, kTrailers };

  Fd fd;
  uint64_t id = 0;
  size_t next_index = 0;
  Phase phase = Phase::kHead;
  bool dead = false;
  std::string in;
  size_t in_pos = 0;
  bool peer_eof = false;
  std::string out;
  size_t out_pos = 0;
  bool fin_sent = false;

  // The request being read.
  BackendRequest request;
  Checksum body_sum;
  Body body = Body::kLength;
  uint64_t body_left = 0;
  size_t trailer_bytes = 0;
  bool close_after = false;
  bool is_connect = false;
  std::string upgrade;  // The protocol asked for, when this is an upgrade request.

  // The response being written.
  BackendReply reply;
  Clock::time_point respond_at;
  bool chunked_wire = false;
  uint64_t body_total = 0;
  uint64_t body_offset = 0;
  uint64_t chunk_left = 0;
  uint64_t chunk_base = 0;
  uint64_t chunk_extra = 0;
  uint64_t chunk_index = 0;
  bool body_done = false;
  uint64_t after_head = 0;
  bool cut = false;  // close_after_bytes ended the response early.

  std::string_view pendingIn() const { return std::string_view(in).substr(in_pos); }
  size_t pendingOut() const { return out.size() - out_pos; }
  bool wantsRead() const {
    if (dead || peer_eof) return false;
    switch (phase) {
      case Phase::kTunnel:
        return pendingOut() < kInputCap;
      case Phase::kStalled:
      case Phase::kClosing:
        return true;
      default:
        return pendingIn().size() < kInputCap;
    }
  }
  // Appends response bytes after the head, honouring close_after_bytes.
  void emit(std::string_view data) {
    if (reply.close_after_bytes) {
      const uint64_t room = *reply.close_after_bytes - after_head;
      if (data.size() >= room) {
        data = data.substr(0, room);
        cut = true;
        body_done = true;
      }
    }
    out.append(data);
    after_head += data.size();
  }
  void takeBody(std::string_view data) {
    request.body_size += data.size();
    body_sum.update(data);
    if (!request.body_stored) return;
    if (request.body.size() + data.size() <= BackendRequest::kMaxStoredBody) {
      request.body.append(data);
    } else {
      std::string().swap(request.body);
      request.body_stored = false;
    }
  }
};

HttpBackend::HttpBackend(std::string name, Handler handler)
    : HttpBackend(Options{std::move(name), std::move(handler)}) {}

HttpBackend::HttpBackend(Options options) : options_(std::move(options)) {
  listener_ = listenLoopback(options_.ipv6, options_.ipv4, options_.port);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0) {
    wake_read_.reset(fds[0]);
    wake_write_.reset(fds[1]);
  }
  if (listener_) port_ = boundPort(listener_.get());
  thread_ = std::thread([this] { run(); });
}

HttpBackend::~HttpBackend() { stop(); }

void HttpBackend::stop() {
  std::lock_guard<std::mutex> lock(stop_mu_);
  if (!thread_.joinable()) return;
  stopping_.store(true);
  char byte = 1;
  (void)!::write(wake_write_.get(), &byte, 1);
  thread_.join();
  listener_.reset();
}

void HttpBackend::closeIdleConnections() {
  close_idle_.store(true);
  char byte = 1;
  (void)!::write(wake_write_.get(), &byte, 1);
}

std::vector<BackendRequest> HttpBackend::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<std::string> HttpBackend::errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return errors_;
}

void HttpBackend::run() {
  std::vector<pollfd> fds;
  while (!stopping_.load()) {
    fds.clear();
    fds.push_back({listener_.get(), POLLIN, 0});
    fds.push_back({wake_read_.get(), POLLIN, 0});
    int timeout_ms = -1;
    const auto now = Clock::now();
    for (const auto& c : connections_) {
      short events = 0;
      if (c->wantsRead()) events |= POLLIN;
      if (c->pendingOut() > 0) events |= POLLOUT;
      fds.push_back({c->fd.get(), events, 0});
      if (c->phase == Connection::Phase::kDelayed) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(c->respond_at - now).count() + 1;
        const int ms = static_cast<int>(std::max<int64_t>(0, left));
        timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
      }
    }
    if (::poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) {
      char buf[64];
      while (::read(wake_read_.get(), buf, sizeof(buf)) > 0) {
      }
    }
    if (stopping_.load()) break;
    if (close_idle_.exchange(false)) closeIdle();
    const size_t polled = fds.size() - 2;
    for (size_t i = 0; i < polled; ++i) {
      Connection& c = *connections_[i];
      const short revents = fds[i + 2].revents;
      if (!c.dead && (revents & POLLIN) != 0) readInput(c);
      if (!c.dead && (revents & POLLOUT) != 0) flush(c);
      // An error or hang-up with nothing left to read: the peer is gone.
      if (!c.dead && (revents & (POLLERR | POLLHUP)) != 0 && (revents & POLLIN) == 0) closeNow(c);
      if (!c.dead) advance(c);
    }
    if ((fds[0].revents & POLLIN) != 0) acceptAll();
    std::erase_if(connections_, [](const auto& c) { return c->dead; });
  }
  connections_.clear();
  open_.store(0);
}

void HttpBackend::acceptAll() {
  while (true) {
    const int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_unique<Connection>();
    c->fd.reset(fd);
    c->id = next_connection_id_++;
    accepted_.fetch_add(1);
    open_.fetch_add(1);
    connections_.push_back(std::move(c));
  }
}

void HttpBackend::closeIdle() {
  for (auto& c : connections_) {
    if (!c->dead && c->phase == Connection::Phase::kHead && c->pendingIn().empty() &&
        c->pendingOut() == 0) {
      closeNow(*c);
    }
  }
}

void HttpBackend::readInput(Connection& c) {
  if (c.in_pos == c.in.size()) {
    c.in.clear();
    c.in_pos = 0;
  } else if (c.in_pos > kCompactAt) {
    c.in.erase(0, c.in_pos);
    c.in_pos = 0;
  }
  const size_t old = c.in.size();
  c.in.resize(old + kReadChunk);
  const ssize_t n = ::recv(c.fd.get(), c.in.data() + old, kReadChunk, 0);
  c.in.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
  if (n > 0) return;
  if (n == 0) {
    c.peer_eof = true;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    closeNow(c);
  }
}

void HttpBackend::flush(Connection& c) {
  while (c.pendingOut() > 0) {
    const ssize_t n = ::send(c.fd.get(), c.out.data() + c.out_pos, c.pendingOut(), MSG_NOSIGNAL);
    if (n > 0) {
      c.out_pos += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      closeNow(c);
      return;
    }
  }
  if (c.out_pos == c.out.size()) {
    c.out.clear();
    c.out_pos = 0;
  }
}

void HttpBackend::closeNow(Connection& c, bool reset) {
  if (c.dead) return;
  if (c.phase == Connection::Phase::kBody) {
    record(c, false);
  } else if (c.phase == Connection::Phase::kHead && !c.pendingIn().empty()) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back("connection " + std::to_string(c.id) +
                      ": closed inside a request head: " + printable(c.pendingIn()));
  }
  if (reset) {
    closeWithReset(c.fd);
  } else {
    c.fd.reset();
  }
  c.dead = true;
  open_.fetch_sub(1);
}

void HttpBackend::advance(Connection& c) {
  using Phase = Connection::Phase;
  while (!c.dead) {
    bool progress = false;
    switch (c.phase) {
      case Phase::kHead:
        progress = parseHead(c);
        break;
      case Phase::kBody:
        progress = readBody(c);
        break;
      case Phase::kDelayed:
        if (Clock::now() >= c.respond_at) {
          startResponse(c);
          progress = true;
        }
        break;
      case Phase::kResponding:
        progress = continueResponse(c);
        break;
      case Phase::kTunnel:
        progress = pumpTunnel(c);
        break;
      case Phase::kStalled:
      case Phase::kClosing:
        c.in_pos = c.in.size();  // Nothing more will be answered.
        if (c.phase == Phase::kStalled && c.peer_eof) closeNow(c);
        break;
    }
    if (!c.dead) flush(c);
    if (!c.dead && c.phase == Phase::kClosing) {
      if (!c.fin_sent && c.pendingOut() == 0) {
        ::shutdown(c.fd.get(), SHUT_WR);
        c.fin_sent = true;
      }
      if (c.fin_sent && c.peer_eof) closeNow(c);
    }
    if (!progress) return;
  }
}

void HttpBackend::reject(Connection& c, int status, const std::string& why) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back("connection " + std::to_string(c.id) + ": " + why);
  }
  if (c.phase == Connection::Phase::kBody) record(c, false);
  const std::string body = why + "\n";
  c.out += "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) +
           "\r\ncontent-length: " + std::to_string(body.size()) +
           "\r\nconnection: close\r\nx-backend: " + options_.name + "\r\n\r\n" + body;
  c.phase = Connection::Phase::kClosing;
}

void HttpBackend::record(Connection& c, bool complete) {
  c.request.complete = complete;
  c.request.body_checksum = c.body_sum.value();
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(c.request);
}

bool HttpBackend::parseHead(Connection& c) {
  const std::string_view data = c.pendingIn();
  if (data.empty()) {
    if (c.peer_eof) closeNow(c);
    return false;
  }
  const size_t end = data.find("\r\n\r\n");
  const std::string_view head = data.substr(0, end == std::string_view::npos ? end : end + 4);
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r')) {
      reject(c, 400, "bare LF in request head: " + printable(head));
      return true;
    }
  }
  if ((end == std::string_view::npos ? data.size() : end + 4) > kMaxHead) {
    reject(c, 431, "request head over " + std::to_string(kMaxHead) + " bytes");
    return true;
  }
  if (end == std::string_view::npos) {
    if (c.peer_eof) closeNow(c);
    return false;
  }

  const size_t line_end = data.find("\r\n");
  const std::string_view line = data.substr(0, line_end);
  const std::string_view fields =
      line_end == end ? std::string_view() : data.substr(line_end + 2, end - line_end - 2);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    reject(c, 400, "malformed request line: " + printable(line));
    return true;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  const bool visible_target =
      !target.empty() && std::all_of(target.begin(), target.end(), [](char ch) {
        return static_cast<unsigned char>(ch) > 0x20 && static_cast<unsigned char>(ch) != 0x7f;
      });
  if (!isToken(method) || !visible_target) {
    reject(c, 400, "malformed request line: " + printable(line));
    return true;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    reject(c, version.substr(0, 5) == "HTTP/" ? 505 : 400,
           "unsupported version in request line: " + printable(line));
    return true;
  }
  HeaderList headers;
  if (std::string error = parseFieldLines(fields, &headers); !error.empty()) {
    reject(c, 400, error);
    return true;
  }
  const bool http10 = version == "HTTP/1.0";
  auto fail = [&](int status, const std::string& why) {
    reject(c, status, why);
    return true;
  };

  // Framing: anything a lenient parser would have to guess at is an error here.
  const size_t te_count = countHeader(headers, "transfer-encoding");
  const size_t cl_count = countHeader(headers, "content-length");
  bool chunked = false;
  uint64_t length = 0;
  if (te_count > 0) {
    if (http10) return fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (cl_count > 0) return fail(400, "both Content-Length and Transfer-Encoding");
    const std::string te = findHeader(headers, "transfer-encoding");
    if (te_count > 1 || !equalsIgnoreCase(te, "chunked")) {
      return fail(501, "unsupported Transfer-Encoding: " + printable(te));
    }
    chunked = true;
  } else if (!parseContentLength(headers, &length)) {
    return fail(400, "invalid Content-Length: " + findHeader(headers, "content-length"));
  }
  const size_t host_count = countHeader(headers, "host");
  if (host_count > 1 || (!http10 && host_count == 0)) {
    return fail(400, host_count > 1 ? "several Host fields" : "no Host field");
  }
  const size_t expect_count = countHeader(headers, "expect");
  if (expect_count > 1 ||
      (expect_count == 1 && !equalsIgnoreCase(findHeader(headers, "expect"), "100-continue"))) {
    return fail(417, "unsupported Expect: " + findHeader(headers, "expect"));
  }

  c.in_pos += end + 4;
  c.request = BackendRequest();
  c.request.method = std::string(method);
  c.request.path = std::string(target);
  c.request.version = std::string(version);
  c.request.headers = std::move(headers);
  c.request.chunked = chunked;
  c.request.expect_continue = expect_count == 1;
  c.request.connection_id = c.id;
  c.request.index_on_connection = c.next_index++;
  const HeaderList& h = c.request.headers;
  c.body_sum = Checksum();
  c.body = chunked ? Connection::Body::kChunkSize : Connection::Body::kLength;
  c.body_left = length;
  c.trailer_bytes = 0;
  c.close_after =
      hasToken(h, "connection", "close") || (http10 && !hasToken(h, "connection", "keep-alive"));
  c.is_connect = method == "CONNECT";
  const std::string upgrade = findHeader(h, "upgrade");
  c.upgrade = !c.is_connect && !upgrade.empty() && hasToken(h, "connection", "upgrade") &&
                      !equalsIgnoreCase(upgrade, "h2c")
                  ? upgrade
                  : "";
  c.phase = Connection::Phase::kBody;

  if (c.request.expect_continue && !http10 && (chunked || length > 0)) {
    if (options_.expect_handler) {
      if (std::optional<BackendReply> early = options_.expect_handler(c.request)) {
        record(c, false);
        c.reply = std::move(*early);
        c.close_after = true;  // The unread body makes the connection unusable.
        c.phase = Connection::Phase::kDelayed;
        c.respond_at = Clock::now() + c.reply.delay;
        return true;
      }
    }
    c.out += "HTTP/1.1 100 Continue\r\n\r\n";
  }
  if (!chunked && length == 0) finishRequest(c);
  return true;
}

bool HttpBackend::readBody(Connection& c) {
  using Body = Connection::Body;
  bool progress = false;
  while (c.phase == Connection::Phase::kBody) {
    const std::string_view data = c.pendingIn();
    if (c.body == Body::kLength || c.body == Body::kChunkData) {
      if (data.empty()) break;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(data.size(), c.body_left));
      c.takeBody(data.substr(0, n));
      c.in_pos += n;
      c.body_left -= n;
      progress = true;
      if (c.body_left == 0) {
        if (c.body == Body::kLength) {
          finishRequest(c);
        } else {
          c.body = Body::kChunkEnd;
        }
      }
      continue;
    }
    if (c.body == Body::kChunkEnd) {
      if (data.size() < 2) break;
      if (data.substr(0, 2) != "\r\n") {
        reject(c, 400, "chunk data not followed by CRLF: " + printable(data.substr(0, 16)));
        return true;
      }
      c.in_pos += 2;
      c.body = Body::kChunkSize;
      progress = true;
      continue;
    }
    // The chunk-size line, or one trailer line.
    const size_t lf = data.find('\n');
    if (lf != std::string_view::npos && (lf == 0 || data[lf - 1] != '\r')) {
      reject(c, 400, "bare LF in chunked framing");
      return true;
    }
    const size_t eol = lf == std::string_view::npos ? lf : lf - 1;
    const size_t limit = c.body == Body::kChunkSize ? kMaxLine : kMaxHead - c.trailer_bytes;
    if ((eol == std::string_view::npos ? data.size() : eol) > limit) {
      reject(c, c.body == Body::kChunkSize ? 400 : 431, "chunk-size line or trailers too long");
      return true;
    }
    if (eol == std::string_view::npos) break;
    const std::string_view line = data.substr(0, eol);
    c.in_pos += eol + 2;
    progress = true;
    if (c.body == Body::kChunkSize) {
      uint64_t size = 0;
      if (!parseChunkSize(line, &size)) {
        reject(c, 400, "malformed chunk-size line: " + printable(line));
        return true;
      }
      c.body_left = size;
      c.body = size == 0 ? Body::kTrailers : Body::kChunkData;
      continue;
    }
    if (line.empty()) {
      finishRequest(c);
      continue;
    }
    c.trailer_bytes += line.size() + 2;
    if (std::string error = parseFieldLines(line, &c.request.trailers); !error.empty()) {
      reject(c, 400, "trailer: " + error);
      return true;
    }
  }
  if (c.phase == Connection::Phase::kBody && c.peer_eof) closeNow(c);
  return progress;
}

void HttpBackend::finishRequest(Connection& c) {
  record(c, true);
  received_.fetch_add(1);
  if (options_.handler) {
    c.reply = options_.handler(c.request);
  } else {
    c.reply = BackendReply();
    c.reply.body = options_.name;
  }
  c.phase = Connection::Phase::kDelayed;
  c.respond_at = Clock::now() + c.reply.delay;
}

void HttpBackend::startResponse(Connection& c) {
  using Phase = Connection::Phase;
  const BackendReply& r = c.reply;
  const BackendRequest& q = c.request;
  if (r.close_without_response) {
    c.phase = Phase::kClosing;
    return;
  }
  if (r.reset && !r.close_after_bytes) {
    closeNow(c, true);
    return;
  }
  if (r.no_response) {
    c.phase = Phase::kStalled;
    return;
  }
  c.phase = Phase::kResponding;
  c.after_head = 0;
  c.cut = false;
  c.body_offset = 0;
  c.chunk_left = 0;
  c.chunk_index = 0;
  c.close_after = c.close_after || !r.keep_alive || r.close_after_bytes.has_value();
  if (!r.raw.empty()) {
    c.body_done = false;
    c.emit(r.raw);
    c.body_done = true;
    return;
  }

  const bool tunnel = r.accept_upgrade && (c.is_connect || !c.upgrade.empty());
  const int status = tunnel ? (c.is_connect ? 200 : 101) : r.status;
  std::string head;
  for (int informational : r.informational) {
    head += "HTTP/1.1 " + std::to_string(informational) + " " + reasonPhrase(informational) +
            "\r\n\r\n";
  }
  head += "HTTP/1.1 " + std::to_string(status) + " " +
          (r.reason.empty() || tunnel ? reasonPhrase(status) : r.reason) + "\r\n";
  for (const auto& [name, value] : r.headers) head += name + ": " + value + "\r\n";
  if (countHeader(r.headers, "x-backend") == 0) head += "x-backend: " + options_.name + "\r\n";
  if (tunnel) {
    if (!c.is_connect) head += "upgrade: " + c.upgrade + "\r\nconnection: upgrade\r\n";
    c.out += head + "\r\n";
    c.phase = Phase::kTunnel;
    return;
  }

  const bool bodyless_status = status < 200 || status == 204 || status == 304;
  c.body_total = r.stream_bytes.value_or(r.body.size());
  c.chunked_wire = (r.chunked > 0 || !r.trailers.empty()) && !r.close_delimited &&
                   q.version == "HTTP/1.1" && !bodyless_status;
  const bool own_framing =
      countHeader(r.headers, "content-length") + countHeader(r.headers, "transfer-encoding") > 0;
  if (!own_framing && !bodyless_status && !r.close_delimited) {
    head += c.chunked_wire ? std::string("transfer-encoding: chunked\r\n")
                           : "content-length: " + std::to_string(c.body_total) + "\r\n";
  }
  c.body_done = q.method == "HEAD" || bodyless_status;
  if (r.close_delimited && !c.body_done) c.close_after = true;
  if (countHeader(r.headers, "connection") == 0) {
    if (c.close_after) {
      head += "connection: close\r\n";
    } else if (q.version == "HTTP/1.0") {
      head += "connection: keep-alive\r\n";
    }
  }
  c.out += head + "\r\n";
  if (c.chunked_wire) {
    const uint64_t chunks = std::min<uint64_t>(std::max(r.chunked, 1), c.body_total);
    c.chunk_base = chunks == 0 ? 0 : c.body_total / chunks;
    c.chunk_extra = chunks == 0 ? 0 : c.body_total % chunks;
  }
  if (r.close_after_bytes && *r.close_after_bytes == 0) {
    c.cut = true;
    c.body_done = true;
  }
}

bool HttpBackend::continueResponse(Connection& c) {
  const BackendReply& r = c.reply;
  bool progress = false;
  auto piece = [&](uint64_t n) {
    return r.stream_bytes ? patternBytes(c.body_offset, n) : r.body.substr(c.body_offset, n);
  };
  while (!c.body_done && c.pendingOut() < kOutHighWater) {
    progress = true;
    if (!c.chunked_wire) {
      const uint64_t n = std::min<uint64_t>(kPiece, c.body_total - c.body_offset);
      c.emit(piece(n));
      c.body_offset += n;
      if (c.body_offset == c.body_total) c.body_done = true;
    } else if (c.chunk_left == 0 && c.body_offset == c.body_total) {
      std::string last = "0\r\n";
      for (const auto& [name, value] : r.trailers) last += name + ": " + value + "\r\n";
      c.emit(last + "\r\n");
      c.body_done = true;
    } else if (c.chunk_left == 0) {
      c.chunk_left = c.chunk_base + (c.chunk_index++ < c.chunk_extra ? 1 : 0);
      c.emit(hex(c.chunk_left) + "\r\n");
    } else {
      const uint64_t n = std::min<uint64_t>(kPiece, c.chunk_left);
      std::string data = piece(n);
      c.body_offset += n;
      c.chunk_left -= n;
      if (c.chunk_left == 0) data += "\r\n";
      c.emit(data);
    }
  }
  if (!c.body_done || c.pendingOut() > 0) return progress;
  if (c.cut && r.reset) {
    closeNow(c, true);
    return true;
  }
  if (!c.cut) served_.fetch_add(1);
  c.phase = c.close_after ? Connection::Phase::kClosing : Connection::Phase::kHead;
  return true;
}

bool HttpBackend::pumpTunnel(Connection& c) {
  bool progress = false;
  const std::string_view data = c.pendingIn();
  if (!data.empty() && c.pendingOut() < kInputCap) {
    c.out.append(data);
    c.in_pos += data.size();
    progress = true;
  }
  // The client's FIN is echoed too, once everything before it went back.
  if (c.peer_eof && c.pendingIn().empty() && c.pendingOut() == 0) {
    c.phase = Connection::Phase::kClosing;
    progress = true;
  }
  return progress;
}

}  // namespace remora::testing
