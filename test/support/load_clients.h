// Background load for fault-injection tests: threads sending requests back to back over
// kept-alive connections until stopped, counting every answer by body and every failure by
// reason, so a test can inject a fault mid-load and then say exactly how many requests it cost.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "test/support/http_test_client.h"

namespace remora::testing {

class LoadClients {
 public:
  struct Options {
    uint16_t port = 0;
    int connections = 2;
    std::string path = "/";
    // Per request; a request that takes longer counts as failed ("timeout").
    std::chrono::milliseconds timeout{5000};
  };

  explicit LoadClients(Options options);
  LoadClients(uint16_t port, int connections);
  ~LoadClients() { stop(); }
  LoadClients(const LoadClients&) = delete;
  LoadClients& operator=(const LoadClients&) = delete;

  void stop();

  // Requests attempted (a failed connect counts as one), answered 200 completely, and the rest.
  int64_t sent() const { return ok_.load() + failed_.load(); }
  int64_t ok() const { return ok_.load(); }
  int64_t failed() const { return failed_.load(); }
  // 200s whose body was `body` (backends answer with their name).
  int64_t servedBy(const std::string& body) const;
  // Failures by reason ("status 503", "connect: ...", "closed before a response", ...).
  std::map<std::string, int64_t> failuresByReason() const;
  // The first failures in full, each with its time since the load started.
  std::vector<std::string> firstFailures() const;
  // Waits until `n` more requests than now succeeded; false at the deadline.
  bool waitForMore(int64_t n, std::chrono::milliseconds timeout);
  // "sent N, ok N, failed N" and the reasons: for test output.
  std::string summary() const;

 private:
  void run();
  void fail(const std::string& reason, const std::string& detail);

  Options options_;
  std::chrono::steady_clock::time_point started_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ok_{0};
  std::atomic<int64_t> failed_{0};
  mutable std::mutex mu_;
  std::map<std::string, int64_t> by_body_;
  std::map<std::string, int64_t> by_reason_;
  std::vector<std::string> first_failures_;
  std::vector<std::thread> threads_;
};

}  // namespace remora::testing
