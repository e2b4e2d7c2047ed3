// An AdminContext whose answers a test sets; safe to read from the admin server's thread while the
// test thread changes it.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "source/admin/admin_context.h"

namespace remora::admin {

class FakeAdminContext : public AdminContext {
 public:
  ServerState state() const override { return state_.load(); }
  std::string version() const override { return "abc123/0.1.0/Clean/RELEASE/BoringSSL"; }
  std::chrono::seconds uptime() const override { return std::chrono::seconds(42); }
  std::string commandLine() const override {
    std::lock_guard<std::mutex> lock(lock_);
    return command_line_;
  }
  std::string nodeId() const override { return "node-1"; }
  std::string nodeCluster() const override { return "cluster-a"; }
  const stats::Store& stats() const override { return store_; }
  // Says which dump was asked for, so a test can tell ?include_eds reached the context.
  std::string configDumpJson(bool include_eds) const override {
    return include_eds ? R"({"configs":[],"include_eds":true})" : R"({"configs":[]})";
  }
  std::vector<ClusterInfo> clusters() const override {
    std::lock_guard<std::mutex> lock(lock_);
    return clusters_;
  }
  std::vector<ListenerStatus> listeners() const override {
    std::lock_guard<std::mutex> lock(lock_);
    return listeners_;
  }
  void requestShutdown() override { shutdown_requests_.fetch_add(1); }

  void setState(ServerState s) { state_.store(s); }
  void setCommandLine(std::string c) {
    std::lock_guard<std::mutex> lock(lock_);
    command_line_ = std::move(c);
  }
  void setListeners(std::vector<ListenerStatus> l) {
    std::lock_guard<std::mutex> lock(lock_);
    listeners_ = std::move(l);
  }
  void setClusters(std::vector<ClusterInfo> c) {
    std::lock_guard<std::mutex> lock(lock_);
    clusters_ = std::move(c);
  }
  int shutdownRequests() const { return shutdown_requests_.load(); }
  stats::Store& store() { return store_; }

 private:
  std::atomic<ServerState> state_{ServerState::kLive};
  std::atomic<int> shutdown_requests_{0};
  stats::Store store_;
  mutable std::mutex lock_;
  std::string command_line_ = "remora -c /etc/remora.yaml --concurrency 2";
  std::vector<ListenerStatus> listeners_;
  std::vector<ClusterInfo> clusters_;
};

}  // namespace remora::admin
