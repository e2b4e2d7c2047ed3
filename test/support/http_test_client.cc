// HttpTestClient: a non-blocking socket driven with poll() deadlines. Responses are parsed from one
// input buffer, so bytes after a response (the next pipelined one, or tunnel data) stay there.
#include "test/support/http_test_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "source/network/address.h"

namespace remora::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxHead = 64 * 1024;
constexpr size_t kMaxLine = 1024;
constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kPiece = 256 * 1024;
// While writing, input is drained (so a server answering early cannot deadlock us) up to this.
constexpr size_t kMaxBufferedWhileWriting = 16 * 1024 * 1024;

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

std::string hex(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%llx", static_cast<unsigned long long>(n));
  return buf;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

struct Head {
  std::string version;
  int status = 0;
  std::string reason;
  HeaderList headers;
};

enum class HeadResult { kIncomplete, kDone, kError };

// Parses the response head at the start of `data`. On kDone, *length covers it with its blank line.
HeadResult parseHead(std::string_view data, Head* head, size_t* length, std::string* error) {
  const size_t end = data.find("\r\n\r\n");
  const std::string_view scan = data.substr(0, end == std::string_view::npos ? end : end + 4);
  for (size_t i = 0; i < scan.size(); ++i) {
    if (scan[i] == '\n' && (i == 0 || scan[i - 1] != '\r')) {
      *error = "bare LF in the response head";
      return HeadResult::kError;
    }
  }
  if (scan.size() > kMaxHead) {
    *error = "response head over 64 KiB";
    return HeadResult::kError;
  }
  if (end == std::string_view::npos) return HeadResult::kIncomplete;
  // status-line = HTTP-version SP 3DIGIT SP [ reason-phrase ]
  const size_t line_end = data.find("\r\n");
  const std::string_view line = data.substr(0, line_end);
  const std::string_view version = line.substr(0, 8);
  if (line.size() < 13 || (version != "HTTP/1.1" && version != "HTTP/1.0") || line[8] != ' ' ||
      line[12] != ' ' || !std::all_of(line.begin() + 9, line.begin() + 12, [](char c) {
        return c >= '0' && c <= '9';
      })) {
    *error = "malformed status line: " + std::string(line.substr(0, 100));
    return HeadResult::kError;
  }
  for (unsigned char c : line) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      *error = "control byte in the status line";
      return HeadResult::kError;
    }
  }
  head->version = std::string(version);
  head->status = std::stoi(std::string(line.substr(9, 3)));
  head->reason = std::string(line.substr(13));
  const std::string_view fields =
      line_end == end ? std::string_view() : data.substr(line_end + 2, end - line_end - 2);
  if (std::string e = parseFieldLines(fields, &head->headers); !e.empty()) {
    *error = e;
    return HeadResult::kError;
  }
  *length = end + 4;
  return HeadResult::kDone;
}

// Produces a request body (generated or given, chunked or not) through `put`, piece by piece.
bool produceBody(const ClientRequest& request, const std::function<bool(std::string_view)>& put) {
  const uint64_t total = request.upload_bytes.value_or(request.body.size());
  auto piece = [&](uint64_t offset, uint64_t n) {
    return request.upload_bytes ? patternBytes(offset, n) : request.body.substr(offset, n);
  };
  const uint64_t chunk = request.chunked ? std::max<size_t>(request.chunk_size, 1) : total;
  for (uint64_t offset = 0; offset < total;) {
    const uint64_t size = std::min(chunk, total - offset);
    if (request.chunked && !put(hex(size) + "\r\n")) return false;
    for (uint64_t done = 0; done < size;) {
      const uint64_t n = std::min<uint64_t>(kPiece, size - done);
      if (!put(piece(offset + done, n))) return false;
      done += n;
    }
    offset += size;
    if (request.chunked && !put("\r\n")) return false;
  }
  if (!request.chunked) return true;
  std::string last = "0\r\n";
  for (const auto& [name, value] : request.trailers) last += name + ": " + value + "\r\n";
  return put(last + "\r\n");
}

}  // namespace

HttpTestClient::HttpTestClient(uint16_t port, const std::string& ip,
                               std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  auto address = network::Address::fromIpPort(ip, port);
  if (!address.ok()) {
    error_ = std::string(address.status().message());
    return;
  }
  Fd fd(::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error_ = std::string("socket: ") + std::strerror(errno);
    return;
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::connect(fd.get(), address->sockAddr(), address->sockLen()) != 0) {
    if (errno != EINPROGRESS) {
      error_ = std::string("connect: ") + std::strerror(errno);
      return;
    }
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, remainingMs(deadline(std::nullopt))) <= 0) {
      error_ = "connect: timed out";
      return;
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      error_ = std::string("connect: ") + std::strerror(err);
      return;
    }
  }
  fd_ = std::move(fd);
}

HttpTestClient::Clock::time_point HttpTestClient::deadline(
    std::optional<std::chrono::milliseconds> timeout) const {
  return Clock::now() + timeout.value_or(timeout_);
}

std::string HttpTestClient::head(const ClientRequest& request) const {
  std::string h = request.method + " " + request.path + " " + request.version + "\r\n";
  if (!request.host.empty()) h += "Host: " + request.host + "\r\n";
  for (const auto& [name, value] : request.headers) h += name + ": " + value + "\r\n";
  const uint64_t size = request.upload_bytes.value_or(request.body.size());
  const bool own_framing = countHeader(request.headers, "content-length") +
                               countHeader(request.headers, "transfer-encoding") >
                           0;
  if (!own_framing && request.chunked) {
    h += "Transfer-Encoding: chunked\r\n";
  } else if (!own_framing && (size > 0 || request.method == "POST" || request.method == "PUT" ||
                              request.method == "PATCH")) {
    h += "Content-Length: " + std::to_string(size) + "\r\n";
  }
  if (request.expect_continue && countHeader(request.headers, "expect") == 0) {
    h += "Expect: 100-continue\r\n";
  }
  return h + "\r\n";
}

int HttpTestClient::fill(Clock::time_point until) {
  if (eof_ || !fd_) return 0;
  if (in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > kReadChunk) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  while (true) {
    const size_t old = in_.size();
    in_.resize(old + kReadChunk);
    const ssize_t n = ::recv(fd_.get(), in_.data() + old, kReadChunk, 0);
    in_.resize(old + static_cast<size_t>(std::max<ssize_t>(n, 0)));
    if (n > 0) return 1;
    if (n == 0) {
      eof_ = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      eof_ = reset_ = true;
      return 0;
    }
    pollfd p{fd_.get(), POLLIN, 0};
    const int rc = ::poll(&p, 1, remainingMs(until));
    if (rc == 0) return -1;
    if (rc < 0 && errno != EINTR) return -1;
  }
}

void HttpTestClient::readAvailable() {
  if (eof_ || pending().size() > kMaxBufferedWhileWriting) return;
  char buf[64 * 1024];
  const ssize_t n = ::recv(fd_.get(), buf, sizeof(buf), 0);
  if (n > 0) {
    in_.append(buf, static_cast<size_t>(n));
  } else if (n == 0) {
    eof_ = true;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    eof_ = reset_ = true;
  }
}

bool HttpTestClient::writeAll(std::string_view data, Clock::time_point until) {
  if (!fd_) {
    error_ = "not connected";
    return false;
  }
  while (!data.empty()) {
    const ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    const bool drain = !eof_ && pending().size() <= kMaxBufferedWhileWriting;
    pollfd p{fd_.get(), static_cast<short>(POLLOUT | (drain ? POLLIN : 0)), 0};
    const int rc = ::poll(&p, 1, remainingMs(until));
    if (rc == 0) {
      error_ = "send: timed out with " + std::to_string(data.size()) + " bytes unsent";
      return false;
    }
    if (rc > 0 && (p.revents & POLLIN) != 0) readAvailable();
  }
  return true;
}

bool HttpTestClient::sendBody(const ClientRequest& request, Clock::time_point until) {
  // Small pieces (chunk headers) are gathered so a chunked upload is not one syscall per line.
  std::string buffer;
  const bool ok = produceBody(request, [&](std::string_view data) {
    buffer.append(data);
    if (buffer.size() < kPiece) return true;
    const bool written = writeAll(buffer, until);
    buffer.clear();
    return written;
  });
  return ok && writeAll(buffer, until);
}

bool HttpTestClient::awaitContinue(Clock::time_point until) {
  while (true) {
    Head h;
    size_t length = 0;
    std::string error;
    const HeadResult result = parseHead(pending(), &h, &length, &error);
    if (result == HeadResult::kError) {
      error_ = "malformed response while waiting for 100 Continue: " + error;
      return false;
    }
    if (result == HeadResult::kDone) {
      if (h.status < 100 || h.status >= 200 || h.status == 101) {
        body_sent_ = false;  // The final response is left for readResponse().
        return true;
      }
      in_pos_ += length;
      early_interim_.push_back({h.status, std::move(h.headers)});
      if (h.status == 100) return true;
      continue;
    }
    const int got = fill(until);
    if (got <= 0) {
      body_sent_ = false;
      error_ = got == 0 ? "connection closed while waiting for 100 Continue"
                        : "timed out waiting for 100 Continue";
      return false;
    }
  }
}

bool HttpTestClient::send(const ClientRequest& request) {
  error_.clear();
  body_sent_ = true;
  const auto until = deadline(std::nullopt);
  methods_.push_back(request.method);
  if (!writeAll(head(request), until)) return false;
  if (request.expect_continue) {
    if (!awaitContinue(until)) return false;
    if (!body_sent_) return true;
  }
  return sendBody(request, until);
}

bool HttpTestClient::sendPipelined(const std::vector<ClientRequest>& requests) {
  error_.clear();
  body_sent_ = true;
  std::string all;
  for (const ClientRequest& request : requests) {
    if (request.expect_continue) {
      error_ = "expect_continue cannot be pipelined";
      return false;
    }
    all += head(request);
    produceBody(request, [&](std::string_view data) {
      all.append(data);
      return true;
    });
    methods_.push_back(request.method);
  }
  return writeAll(all, deadline(std::nullopt));
}

ClientResponse HttpTestClient::readResponse(const ReadOptions& options) {
  ClientResponse r;
  r.interim = std::move(early_interim_);
  early_interim_.clear();
  std::string method = "GET";
  if (options.method) {
    method = *options.method;
  } else if (!methods_.empty()) {
    method = methods_.front();
    methods_.pop_front();
  }
  const auto until = deadline(options.timeout);
  auto fail = [&](const std::string& why) {
    r.error = why;
    r.closed = eof_;
    return r;
  };
  if (!fd_) return fail("not connected");
  while (true) {
    Head head;
    size_t length = 0;
    std::string error;
    const HeadResult result = parseHead(pending(), &head, &length, &error);
    if (result == HeadResult::kError) return fail("malformed response: " + error);
    if (result == HeadResult::kIncomplete) {
      const int got = fill(until);
      if (got == 0) {
        return fail(std::string(reset_ ? "connection reset" : "connection closed") +
                    (pending().empty() ? " before a response" : " inside the response head"));
      }
      if (got < 0) return fail("timed out waiting for the response head");
      continue;
    }
    in_pos_ += length;
    if (head.status >= 100 && head.status < 200 && head.status != 101) {
      r.interim.push_back({head.status, std::move(head.headers)});
      continue;
    }
    r.status = head.status;
    r.reason = std::move(head.reason);
    r.version = std::move(head.version);
    r.headers = std::move(head.headers);
    break;
  }
  const bool tunnel = r.status == 101 || (method == "CONNECT" && r.status / 100 == 2);
  if (method == "HEAD" || tunnel || r.status == 204 || r.status == 304) {
    r.body_checksum = Checksum().value();
  } else if (!readBody(r, options.store_body, until)) {
    r.closed = eof_;
    return r;
  }
  r.complete = true;
  r.closed = eof_;
  return r;
}

bool HttpTestClient::readBody(ClientResponse& r, bool store, Clock::time_point until) {
  Checksum sum;
  auto take = [&](size_t n) {
    const std::string_view data = pending().substr(0, n);
    r.body_size += data.size();
    sum.update(data);
    if (store) r.body.append(data);
    in_pos_ += data.size();
    r.body_checksum = sum.value();
  };
  r.body_checksum = sum.value();
  auto fail = [&](const std::string& why) {
    r.error = why;
    return false;
  };
  // Waits for more input; false (with the error set) on EOF or timeout.
  auto more = [&](const std::string& where) {
    const int got = fill(until);
    if (got > 0) return true;
    r.error = (got == 0 ? (reset_ ? "connection reset " : "connection closed ") : "timed out ") +
              where + " after " + std::to_string(r.body_size) + " body bytes";
    return false;
  };

  const size_t te_count = countHeader(r.headers, "transfer-encoding");
  const size_t cl_count = countHeader(r.headers, "content-length");
  if (te_count > 0) {
    if (cl_count > 0) return fail("response has both Content-Length and Transfer-Encoding");
    if (te_count > 1 || !equalsIgnoreCase(r.header("transfer-encoding"), "chunked")) {
      return fail("unsupported Transfer-Encoding: " + r.header("transfer-encoding"));
    }
    r.chunked = true;
    while (true) {  // One chunk per turn.
      size_t eol;
      while ((eol = pending().find('\n')) == std::string_view::npos) {
        if (pending().size() > kMaxLine) return fail("chunk-size line too long");
        if (!more("inside a chunk-size line")) return false;
      }
      if (eol == 0 || pending()[eol - 1] != '\r') return fail("bare LF in chunked framing");
      --eol;
      uint64_t size = 0;
      if (!parseChunkSize(pending().substr(0, eol), &size)) {
        return fail("malformed chunk-size line: " + std::string(pending().substr(0, eol)));
      }
      in_pos_ += eol + 2;
      if (size == 0) break;
      while (size > 0) {
        if (pending().empty() && !more("inside a chunk")) return false;
        const size_t n = static_cast<size_t>(std::min<uint64_t>(size, pending().size()));
        take(n);
        size -= n;
      }
      while (pending().size() < 2) {
        if (!more("after chunk data")) return false;
      }
      if (pending().substr(0, 2) != "\r\n") return fail("chunk data not followed by CRLF");
      in_pos_ += 2;
    }
    size_t trailer_bytes = 0;
    while (true) {
      size_t eol;
      while ((eol = pending().find('\n')) == std::string_view::npos) {
        if (trailer_bytes + pending().size() > kMaxHead) return fail("trailers too long");
        if (!more("inside the trailers")) return false;
      }
      if (eol == 0 || pending()[eol - 1] != '\r') return fail("bare LF in chunked framing");
      --eol;
      const std::string_view line = pending().substr(0, eol);
      if (line.empty()) {
        in_pos_ += 2;
        return true;
      }
      if (std::string e = parseFieldLines(line, &r.trailers); !e.empty()) return fail(e);
      trailer_bytes += eol + 2;
      in_pos_ += eol + 2;
    }
  }
  if (cl_count > 0) {
    uint64_t length = 0;
    if (!parseContentLength(r.headers, &length)) {
      return fail("invalid Content-Length: " + r.header("content-length"));
    }
    while (r.body_size < length) {
      if (pending().empty() && !more("with " + std::to_string(length - r.body_size) + " of " +
                                     std::to_string(length) + " body bytes missing")) {
        return false;
      }
      take(static_cast<size_t>(std::min<uint64_t>(length - r.body_size, pending().size())));
    }
    return true;
  }
  // Neither: the body runs until the server closes.
  while (true) {
    take(pending().size());
    const int got = fill(until);
    if (got == 0) return reset_ ? fail("connection reset inside a close-delimited body") : true;
    if (got < 0) return fail("timed out inside a close-delimited body");
  }
}

std::vector<ClientResponse> HttpTestClient::readResponses(size_t n, const ReadOptions& options) {
  std::vector<ClientResponse> responses;
  for (size_t i = 0; i < n; ++i) responses.push_back(readResponse(options));
  return responses;
}

ClientResponse HttpTestClient::request(const ClientRequest& request, const ReadOptions& options) {
  if (send(request)) return readResponse(options);
  const std::string send_error = error_;
  // A server may answer (e.g. 413) and close before taking the whole body: show that answer.
  if (!pending().empty() || eof_) {
    ClientResponse r = readResponse(options);
    if (!r.complete) r.error = "send failed (" + send_error + "), then " + r.error;
    return r;
  }
  ClientResponse r;
  r.error = "send failed: " + send_error;
  return r;
}

bool HttpTestClient::sendRaw(std::string_view data) {
  error_.clear();
  return writeAll(data, deadline(std::nullopt));
}

ReadResult HttpTestClient::receiveSome(size_t max) {
  ReadResult result;
  if (pending().empty()) {
    const int got = fill(deadline(std::nullopt));
    result.timed_out = got < 0;
  }
  const size_t n = std::min(max, pending().size());
  result.data = std::string(pending().substr(0, n));
  in_pos_ += n;
  result.eof = eof_ && !reset_ && pending().empty();
  result.reset = reset_;
  return result;
}

ReadResult HttpTestClient::receiveExactly(size_t n) {
  ReadResult result;
  const auto until = deadline(std::nullopt);
  while (pending().size() < n) {
    const int got = fill(until);
    if (got <= 0) {
      result.timed_out = got < 0;
      break;
    }
  }
  const size_t take = std::min(n, pending().size());
  result.data = std::string(pending().substr(0, take));
  in_pos_ += take;
  result.eof = eof_ && !reset_ && pending().empty();
  result.reset = reset_;
  return result;
}

ReadResult HttpTestClient::receiveUntilClose() {
  ReadResult result;
  const auto until = deadline(std::nullopt);
  int got = 1;
  while (got > 0) got = fill(until);
  result.timed_out = got < 0;
  result.data = std::string(pending());
  in_pos_ = in_.size();
  result.eof = eof_ && !reset_;
  result.reset = reset_;
  return result;
}

bool HttpTestClient::waitForClose(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (true) {
    const int got = fill(until);
    if (got == 0) return true;
    if (got < 0) return false;
  }
}

void HttpTestClient::shutdownWrite() {
  if (fd_) ::shutdown(fd_.get(), SHUT_WR);
}

void HttpTestClient::reset() { closeWithReset(fd_); }

}  // namespace remora::testing
