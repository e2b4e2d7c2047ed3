// A running admin server for tests: default handlers over a FakeAdminContext, bound to
// 127.0.0.1:0, its dispatcher looping on a thread of its own until the fixture is destroyed.
#pragma once

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <thread>

#include "source/admin/admin_server.h"
#include "source/admin/handlers.h"
#include "source/event/dispatcher.h"
#include "test/admin/fake_admin_context.h"
#include "test/support/http_client.h"

namespace remora::admin {

class AdminTestServer {
 public:
  // `extra` registers more handlers before the loop starts, when routes may still change.
  explicit AdminTestServer(const std::function<void(AdminServer&)>& extra = {}) {
    server_ = std::make_unique<AdminServer>(dispatcher_, ctx_);
    registerDefaultHandlers(*server_, ctx_);
    if (extra) extra(*server_);
    const absl::Status bound = server_->bind("127.0.0.1", 0);
    REQUIRE(bound.ok());
    thread_ = std::thread([this] { dispatcher_.run(); });
  }
  ~AdminTestServer() {
    dispatcher_.exit();
    thread_.join();
    server_.reset();  // The loop has stopped, so tearing down evhttp here is safe.
  }

  testing::HttpResponse request(const std::string& method, const std::string& path) {
    return testing::httpRequest("127.0.0.1", server_->port(), method, path);
  }

  FakeAdminContext& ctx() { return ctx_; }
  AdminServer& server() { return *server_; }
  uint16_t port() const { return server_->port(); }

 private:
  FakeAdminContext ctx_;
  event::Dispatcher dispatcher_{"admin-test"};
  std::unique_ptr<AdminServer> server_;
  std::thread thread_;
};

}  // namespace remora::admin
