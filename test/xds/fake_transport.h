// An in-memory xDS transport for tests: records each stream opened and each request sent on it.
// The test plays the management server by calling the StreamCallbacks itself, synchronously.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/xds/transport.h"

namespace remora::xds::testing {

// What happened on one stream. Records outlive their streams so tests can look back.
struct FakeStreamRecord {
  StreamCallbacks* callbacks = nullptr;
  std::vector<envoy::service::discovery::v3::DiscoveryRequest> sotw;
  std::vector<envoy::service::discovery::v3::DeltaDiscoveryRequest> delta;
  bool destroyed = false;
};

class FakeStream : public Stream {
 public:
  FakeStream(FakeStreamRecord& record, std::function<void(FakeStreamRecord&)>& on_send)
      : record_(record), on_send_(on_send) {}
  ~FakeStream() override { record_.destroyed = true; }

  void send(const envoy::service::discovery::v3::DiscoveryRequest& request) override {
    record_.sotw.push_back(request);
    if (on_send_) on_send_(record_);
  }
  void send(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request) override {
    record_.delta.push_back(request);
    if (on_send_) on_send_(record_);
  }

 private:
  FakeStreamRecord& record_;
  std::function<void(FakeStreamRecord&)>& on_send_;
};

class FakeTransport : public Transport {
 public:
  std::unique_ptr<Stream> open(StreamCallbacks& callbacks) override {
    auto& record = records_.emplace_back(std::make_unique<FakeStreamRecord>());
    record->callbacks = &callbacks;
    auto stream = std::make_unique<FakeStream>(*record, on_send);
    if (on_open) on_open(*record);
    return stream;
  }
  std::string describe() const override { return "fake xds server"; }

  int opens() const { return static_cast<int>(records_.size()); }
  FakeStreamRecord& stream(int index) { return *records_.at(index); }
  FakeStreamRecord& last() { return *records_.back(); }

  // Hooks a test may set: after a stream is opened (before open() returns) and after each send.
  std::function<void(FakeStreamRecord&)> on_open;
  std::function<void(FakeStreamRecord&)> on_send;

 private:
  std::vector<std::unique_ptr<FakeStreamRecord>> records_;
};

}  // namespace remora::xds::testing
