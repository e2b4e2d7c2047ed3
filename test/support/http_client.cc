// Blocking HTTP/1.1 test client: POSIX sockets with poll() deadlines and a lenient response parser.
#include "test/support/http_client.h"

#include "source/network/address.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace remora::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

class Socket {
 public:
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  // Connects before the deadline; returns an error message, empty on success.
  std::string connect(const std::string& ip, uint16_t port, Clock::time_point deadline) {
    auto address = network::Address::fromIpPort(ip, port);
    if (!address.ok()) return std::string(address.status().message());
    fd_ = ::socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return absl::StrCat("socket: ", std::strerror(errno));
    if (::connect(fd_, address->sockAddr(), address->sockLen()) == 0) return "";
    if (errno != EINPROGRESS) return absl::StrCat("connect: ", std::strerror(errno));
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, remainingMs(deadline)) <= 0) return "connect: timed out";
    int err = 0;
    socklen_t err_len = sizeof(err);
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &err_len);
    return err == 0 ? "" : absl::StrCat("connect: ", std::strerror(err));
  }

  std::string writeAll(std::string_view data, Clock::time_point deadline) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return absl::StrCat("send: ", std::strerror(errno));
      }
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, remainingMs(deadline)) <= 0) return "send: timed out";
    }
    return "";
  }

  // Appends what arrives to *out. Returns 1 on data, 0 on EOF (or reset), -1 on timeout.
  int readSome(std::string* out, Clock::time_point deadline) {
    for (;;) {
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        out->append(buf, static_cast<size_t>(n));
        return 1;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) return 0;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, remainingMs(deadline)) <= 0) return -1;
    }
  }

 private:
  int fd_ = -1;
};

// Decodes a chunked body from `in`. Returns whether the last chunk (and trailer end) was seen.
bool dechunk(absl::string_view in, std::string* body, bool at_eof) {
  for (;;) {
    const size_t eol = in.find("\r\n");
    if (eol == absl::string_view::npos) return false;
    absl::string_view size_text = in.substr(0, eol);
    size_text = size_text.substr(0, size_text.find(';'));  // Chunk extensions.
    size_t size = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(size_text), &size)) return false;
    in.remove_prefix(eol + 2);
    if (size == 0) {
      // Trailers end with an empty line; a server closing right after "0\r\n" is also done.
      return absl::StrContains(in, "\r\n") || at_eof;
    }
    if (in.size() < size + 2) {
      absl::StrAppend(body, in.substr(0, std::min(size, in.size())));
      return false;
    }
    absl::StrAppend(body, in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

}  // namespace

std::string HttpResponse::header(std::string_view name_in) const {
  // absl::string_view is not std::string_view in Debian's abseil build.
  const absl::string_view name(name_in.data(), name_in.size());
  for (absl::string_view line : absl::StrSplit(headers, '\n', absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(0, colon)), name)) {
      return std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
  }
  return "";
}

HttpResponse parseHttpResponse(std::string_view raw_in, bool head_request, bool at_eof,
                               bool* complete) {
  absl::string_view raw(raw_in.data(), raw_in.size());
  HttpResponse r;
  bool done = false;
  if (complete == nullptr) complete = &done;
  *complete = false;
  for (;;) {
    const size_t end = raw.find("\r\n\r\n");
    if (end == absl::string_view::npos) {
      r.error = raw.empty() ? "no response" : "incomplete response headers";
      return r;
    }
    const size_t first_eol = raw.find("\r\n");
    const std::vector<absl::string_view> status_line =
        absl::StrSplit(raw.substr(0, first_eol), absl::MaxSplits(' ', 2));
    int status = 0;
    if (status_line.size() < 2 || !absl::StartsWith(status_line[0], "HTTP/1.") ||
        !absl::SimpleAtoi(status_line[1], &status)) {
      r.error = absl::StrCat("bad status line: ", raw.substr(0, first_eol));
      return r;
    }
    r.status = status;
    r.headers = std::string(raw.substr(first_eol + 2, end + 2 - (first_eol + 2)));
    raw.remove_prefix(end + 4);
    // Interim 1xx responses precede the real one (101 ends HTTP/1 on this connection).
    if (status >= 100 && status < 200 && status != 101) continue;
    break;
  }
  if (head_request || (r.status >= 100 && r.status < 200) || r.status == 204 || r.status == 304) {
    *complete = true;
    return r;
  }
  if (absl::StrContains(absl::AsciiStrToLower(r.header("Transfer-Encoding")), "chunked")) {
    *complete = dechunk(raw, &r.body, at_eof);
  } else if (const std::string cl = r.header("Content-Length"); !cl.empty()) {
    size_t length = 0;
    if (!absl::SimpleAtoi(cl, &length)) {
      r.error = absl::StrCat("bad Content-Length: ", cl);
      return r;
    }
    r.body = std::string(raw.substr(0, length));
    *complete = raw.size() >= length;
  } else {
    r.body = std::string(raw);
    *complete = at_eof;
  }
  if (!*complete && at_eof) r.error = "connection closed before the body was complete";
  return r;
}

HttpResponse httpRequest(const std::string& ip, uint16_t port, const std::string& method,
                         const std::string& path, std::chrono::milliseconds timeout) {
  HttpRequestOptions options;
  options.timeout = timeout;
  return httpRequest(ip, port, method, path, options);
}

HttpResponse httpRequest(const std::string& ip, uint16_t port, const std::string& method,
                         const std::string& path, const HttpRequestOptions& options) {
  const auto deadline = Clock::now() + options.timeout;
  HttpResponse failed;
  Socket socket;
  if (failed.error = socket.connect(ip, port, deadline); !failed.error.empty()) return failed;

  std::string request = absl::StrCat(method, " ", path, " HTTP/1.1\r\nHost: ", options.host, "\r\n",
                                     "Connection: close\r\n");
  for (const auto& [name, value] : options.headers)
    absl::StrAppend(&request, name, ": ", value, "\r\n");
  if (!options.body.empty())
    absl::StrAppend(&request, "Content-Length: ", options.body.size(), "\r\n");
  absl::StrAppend(&request, "\r\n", options.body);
  if (failed.error = socket.writeAll(request, deadline); !failed.error.empty()) return failed;

  const bool head = method == "HEAD";
  std::string raw;
  for (;;) {
    const int got = socket.readSome(&raw, deadline);
    bool complete = false;
    HttpResponse r = parseHttpResponse(raw, head, got == 0, &complete);
    if (complete) return r;
    if (got == 0) return r;
    if (got < 0) {
      r.status = 0;
      r.error = absl::StrCat("timed out after ", options.timeout.count(), "ms (",
                             r.error.empty() ? "incomplete response" : r.error, ")");
      return r;
    }
  }
}

std::string rawExchange(const std::string& ip, uint16_t port, std::string_view bytes,
                        std::chrono::milliseconds timeout, std::string* error) {
  const auto deadline = Clock::now() + timeout;
  Socket socket;
  std::string err = socket.connect(ip, port, deadline);
  if (err.empty()) err = socket.writeAll(bytes, deadline);
  std::string raw;
  if (err.empty()) {
    while (socket.readSome(&raw, deadline) > 0) {
    }
  }
  if (error != nullptr) *error = err;
  return raw;
}

}  // namespace remora::testing
