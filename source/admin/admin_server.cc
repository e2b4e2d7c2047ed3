// evhttp wiring for the admin listener: socket setup, request routing and reply writing.
#include "source/admin/admin_server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/network/address.h"
#include "source/network/listen_socket.h"
#include "spdlog/spdlog.h"

namespace remora::admin {
namespace {

// Bounds what one admin client can make us buffer or wait for.
constexpr ev_ssize_t kMaxHeadersBytes = 64 * 1024;
constexpr ev_ssize_t kMaxBodyBytes = 1024 * 1024;
constexpr int kIdleTimeoutSeconds = 60;

std::string_view methodName(evhttp_cmd_type type) {
  switch (type) {
    case EVHTTP_REQ_GET:
      return "GET";
    case EVHTTP_REQ_POST:
      return "POST";
    case EVHTTP_REQ_HEAD:
      return "HEAD";
    case EVHTTP_REQ_PUT:
      return "PUT";
    case EVHTTP_REQ_DELETE:
      return "DELETE";
    case EVHTTP_REQ_OPTIONS:
      return "OPTIONS";
    case EVHTTP_REQ_TRACE:
      return "TRACE";
    case EVHTTP_REQ_CONNECT:
      return "CONNECT";
    case EVHTTP_REQ_PATCH:
      return "PATCH";
  }
  return "UNKNOWN";
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A malformed escape ("%zz", a trailing "%") is kept as written rather than rejected.
std::string percentDecode(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The path and query of a request-target, dropping any scheme and authority (absolute form) and
// fragment.
std::pair<std::string_view, std::string_view> splitTarget(std::string_view target) {
  if (const size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (!target.starts_with('/')) {
    if (const size_t scheme = target.find("://"); scheme != std::string_view::npos) {
      const size_t slash = target.find('/', scheme + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

AdminResponse textResponse(int status, std::string body) {
  AdminResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

QueryParams parseQueryString(std::string_view query) {
  QueryParams params;
  // absl::string_view is not std::string_view in Debian's abseil build.
  const absl::string_view all(query.data(), query.size());
  for (absl::string_view part : absl::StrSplit(all, '&', absl::SkipEmpty())) {
    const size_t eq = part.find('=');
    std::string key = percentDecode(part.substr(0, eq));
    std::string value = eq == absl::string_view::npos ? "" : percentDecode(part.substr(eq + 1));
    params.emplace(std::move(key), std::move(value));
  }
  return params;
}

AdminServer::AdminServer(event::Dispatcher& dispatcher, AdminContext& context)
    : dispatcher_(dispatcher), context_(context), http_(evhttp_new(dispatcher.base())) {
  if (http_ == nullptr) throw std::runtime_error("evhttp_new failed");
  // Accept every method libevent parses so that we, not libevent, answer 405 with an Allow header.
  evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                        EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
  evhttp_set_max_headers_size(http_, kMaxHeadersBytes);
  evhttp_set_max_body_size(http_, kMaxBodyBytes);
  evhttp_set_timeout(http_, kIdleTimeoutSeconds);
  evhttp_set_gencb(http_, &AdminServer::onRequest, this);
}

AdminServer::~AdminServer() {
  // evhttp_free runs connection close callbacks; they must not start pending actions now.
  closing_ = true;
  after_sent_.clear();
  evhttp_free(http_);
}

absl::Status AdminServer::bind(const std::string& ip, uint16_t port) {
  if (port_ != 0) return absl::FailedPreconditionError("admin server is already bound");
  auto address = network::Address::fromIpPort(ip, port);
  if (!address.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("admin address: ", address.status().message()));
  }
  auto bound = network::bindListener(*address, 1, SOMAXCONN, /*reuse_port=*/false);
  if (!bound.ok()) return bound.status();
  const int fd = bound->sockets[0].release();
  if (evhttp_accept_socket_with_handle(http_, fd) == nullptr) {
    ::close(fd);
    return absl::InternalError(absl::StrCat("evhttp cannot accept on ", bound->address.asString()));
  }
  address_ = bound->address.asString();
  port_ = bound->address.port();
  return absl::OkStatus();
}

std::string AdminServer::address() const { return address_; }

void AdminServer::addHandler(std::string path, std::string help, bool mutating, Handler handler) {
  routes_[std::move(path)] = Route{std::move(help), mutating, std::move(handler)};
}

std::vector<AdminServer::Endpoint> AdminServer::endpoints() const {
  std::vector<Endpoint> out;
  out.reserve(routes_.size());
  for (const auto& [path, route] : routes_) out.push_back({path, route.help, route.mutating});
  return out;
}

std::string AdminServer::helpText() const {
  std::string out = "admin commands are:\n";
  for (const auto& [path, route] : routes_) {
    absl::StrAppend(&out, "  ", path, ": ", route.help, "\n");
  }
  return out;
}

AdminResponse AdminServer::handle(std::string_view method, std::string_view target) const {
  auto [path, query] = splitTarget(target);
  const auto it = routes_.find(path);
  if (it == routes_.end()) return textResponse(404, absl::StrCat("invalid path. ", helpText()));
  const Route& route = it->second;
  if (route.mutating && method != "POST") {
    AdminResponse r =
        textResponse(405, "Method " + std::string(method) + " not allowed, POST required.\n");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (!route.mutating && method != "GET" && method != "HEAD") {
    AdminResponse r =
        textResponse(405, "Method " + std::string(method) + " not allowed, GET required.\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  try {
    return route.handler(parseQueryString(query));
  } catch (const std::exception& e) {
    spdlog::error("admin handler for {} threw: {}", path, e.what());
    return textResponse(500, absl::StrCat("internal error: ", e.what(), "\n"));
  } catch (...) {
    spdlog::error("admin handler for {} threw", path);
    return textResponse(500, "internal error\n");
  }
}

void AdminServer::onRequest(evhttp_request* req, void* arg) {
  auto* self = static_cast<AdminServer*>(arg);
  // Nothing may unwind into libevent's C frames.
  try {
    self->serve(req);
  } catch (...) {
    evhttp_send_error(req, 500, nullptr);
  }
}

void AdminServer::serve(evhttp_request* req) {
  const evhttp_cmd_type type = evhttp_request_get_command(req);
  const char* uri = evhttp_request_get_uri(req);
  AdminResponse response = handle(methodName(type), uri != nullptr ? uri : "/");

  evkeyvalq* headers = evhttp_request_get_output_headers(req);
  evhttp_add_header(headers, "Content-Type", response.content_type.c_str());
  evhttp_add_header(headers, "Cache-Control", "no-cache, max-age=0");
  evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
  // evhttp_add_header refuses values with CR/LF, so a handler cannot split the response.
  for (const auto& [name, value] : response.headers) {
    evhttp_add_header(headers, name.c_str(), value.c_str());
  }
  if (response.after_sent) {
    evhttp_connection* conn = evhttp_request_get_connection(req);
    after_sent_[conn] = std::move(response.after_sent);
    evhttp_request_set_on_complete_cb(req, &AdminServer::onComplete, this);
    evhttp_connection_set_closecb(conn, &AdminServer::onConnectionClose, this);
  }
  if (type == EVHTTP_REQ_HEAD) {
    // evhttp writes whatever body it is given, even for HEAD; send only the length.
    evhttp_add_header(headers, "Content-Length", std::to_string(response.body.size()).c_str());
    evhttp_send_reply(req, response.status, nullptr, nullptr);
    return;
  }
  evbuffer* body = evbuffer_new();
  evbuffer_add(body, response.body.data(), response.body.size());
  evhttp_send_reply(req, response.status, nullptr, body);
  evbuffer_free(body);
}

void AdminServer::onComplete(evhttp_request* req, void* arg) {
  static_cast<AdminServer*>(arg)->runAfterSent(evhttp_request_get_connection(req));
}

void AdminServer::onConnectionClose(evhttp_connection* conn, void* arg) {
  static_cast<AdminServer*>(arg)->runAfterSent(conn);
}

void AdminServer::runAfterSent(evhttp_connection* conn) {
  if (closing_) return;
  const auto it = after_sent_.find(conn);
  if (it == after_sent_.end()) return;
  // Posted: we are inside libevent's request teardown, and the action may destroy this server.
  dispatcher_.post(std::move(it->second));
  after_sent_.erase(it);
}

}  // namespace remora::admin
