#include "test/support/load_clients.h"

#include <memory>
#include <sstream>

#include "test/support/sockets.h"

namespace remora::testing {

namespace {
constexpr size_t kMaxRecordedFailures = 20;
}  // namespace

LoadClients::LoadClients(Options options)
    : options_(std::move(options)), started_(std::chrono::steady_clock::now()) {
  for (int i = 0; i < options_.connections; ++i) threads_.emplace_back([this] { run(); });
}

LoadClients::LoadClients(uint16_t port, int connections)
    : LoadClients(Options{port, connections}) {}

void LoadClients::stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void LoadClients::run() {
  auto connect = [this] {
    return std::make_unique<HttpTestClient>(options_.port, "127.0.0.1", options_.timeout);
  };
  auto client = connect();
  ClientRequest request;
  request.path = options_.path;
  while (!stop_) {
    if (!client->connected()) {
      fail("connect: " + client->error(), client->error());
      client = connect();
      continue;
    }
    ClientResponse r = client->request(request);
    if (r.status != 200 || !r.complete) {
      std::string reason;
      if (r.status != 0) {
        reason = "status " + std::to_string(r.status);
      } else if (r.error.starts_with("timed out")) {
        reason = "timeout";
      } else {
        reason = r.error;
      }
      fail(reason, "status " + std::to_string(r.status) + " " + r.error + " " + r.body);
      client = connect();
      continue;
    }
    ++ok_;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++by_body_[r.body];
    }
    // A connection the proxy closes after a complete response is not a failed request.
    if (r.closed || r.header("connection") == "close") client = connect();
  }
}

void LoadClients::fail(const std::string& reason, const std::string& detail) {
  ++failed_;
  const double at =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::lock_guard<std::mutex> lock(mu_);
  ++by_reason_[reason];
  if (first_failures_.size() < kMaxRecordedFailures) {
    std::ostringstream line;
    line << "at " << at << "s: " << detail;
    first_failures_.push_back(line.str());
  }
}

int64_t LoadClients::servedBy(const std::string& body) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_body_.find(body);
  return it == by_body_.end() ? 0 : it->second;
}

std::map<std::string, int64_t> LoadClients::failuresByReason() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_reason_;
}

std::vector<std::string> LoadClients::firstFailures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_failures_;
}

bool LoadClients::waitForMore(int64_t n, std::chrono::milliseconds timeout) {
  const int64_t target = ok() + n;
  return waitFor([&] { return ok() >= target; }, timeout);
}

std::string LoadClients::summary() const {
  std::ostringstream out;
  out << "sent " << sent() << ", ok " << ok() << ", failed " << failed();
  auto reasons = failuresByReason();
  if (!reasons.empty()) {
    out << " (";
    bool first = true;
    for (const auto& [reason, count] : reasons) {
      out << (first ? "" : "; ") << count << " x " << reason;
      first = false;
    }
    out << ")";
  }
  return out.str();
}

}  // namespace remora::testing
