// The admin HTTP listener: libevent's evhttp on the main thread's dispatcher, routing each request
// to a registered handler by exact path, with Envoy's method rules for mutating endpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "source/admin/admin_context.h"
#include "source/event/dispatcher.h"

struct evhttp;
struct evhttp_request;
struct evhttp_connection;

namespace remora::admin {

inline constexpr char kTextContentType[] = "text/plain; charset=UTF-8";
inline constexpr char kJsonContentType[] = "application/json";

// Decoded query parameters; a key given without '=' (as in ?usedonly) maps to "".
using QueryParams = std::map<std::string, std::string>;

struct AdminResponse {
  int status = 200;
  std::string content_type = kTextContentType;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // Beyond Content-Type.
  // Posted to the dispatcher once the response is written or its connection has gone, so an
  // action like shutdown never cuts off its own reply.
  std::function<void()> after_sent;
};

using AdminHandler = std::function<AdminResponse(const QueryParams&)>;

class AdminServer {
 public:
  using Handler = AdminHandler;

  struct Endpoint {
    std::string path;
    std::string help;
    bool mutating;
  };

  AdminServer(event::Dispatcher& dispatcher, AdminContext& context);
  // Closes the listener and every open admin connection. Call on the dispatcher's thread, or
  // after its loop has stopped.
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Listens on an IPv4 or IPv6 literal ("127.0.0.1", "::1", "[::1]"); port 0 picks a free port.
  // One bind per server; call before the dispatcher runs or on its thread.
  absl::Status bind(const std::string& ip, uint16_t port);
  // The bound port (the real one when 0 was asked); 0 before bind().
  uint16_t port() const { return port_; }
  // "127.0.0.1:15000" or "[::1]:15000"; empty before bind().
  std::string address() const;

  // Registers a handler for an exact path ("/stats"); a second registration replaces the first.
  // Mutating endpoints answer only POST; the rest answer GET and HEAD.
  void addHandler(std::string path, std::string help, bool mutating, Handler handler);

  // Routes one request exactly as a socket request is routed; target is the request-target
  // ("/stats?usedonly"). Never throws: a throwing handler becomes a 500.
  AdminResponse handle(std::string_view method, std::string_view target) const;

  // Registered endpoints, by path.
  std::vector<Endpoint> endpoints() const;
  // Envoy's /help text: "admin commands are:\n  /path: help\n...".
  std::string helpText() const;

  event::Dispatcher& dispatcher() { return dispatcher_; }
  AdminContext& context() { return context_; }

 private:
  struct Route {
    std::string help;
    bool mutating;
    Handler handler;
  };

  static void onRequest(evhttp_request* req, void* arg);
  static void onComplete(evhttp_request* req, void* arg);
  static void onConnectionClose(evhttp_connection* conn, void* arg);
  void serve(evhttp_request* req);
  void runAfterSent(evhttp_connection* conn);

  event::Dispatcher& dispatcher_;
  AdminContext& context_;
  evhttp* http_;
  std::string address_;
  uint16_t port_ = 0;
  std::map<std::string, Route, std::less<>> routes_;
  // Actions waiting for their response to leave, keyed by the connection carrying it.
  std::map<evhttp_connection*, std::function<void()>> after_sent_;
  bool closing_ = false;
};

// Splits a query string (without '?') on '&' and the first '='; percent-decodes keys and values.
// '+' stays '+' as in Envoy, so ?filter=a+ is the regex it looks like. The first of repeated keys
// wins.
QueryParams parseQueryString(std::string_view query);

}  // namespace remora::admin
