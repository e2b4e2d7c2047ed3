// How the xDS client talks to a management server: one bidirectional stream at a time, of either
// the state-of-the-world or the incremental (delta) protocol. The gRPC implementation lives in
// source/xds/grpc_transport; tests use an in-memory fake. Every callback runs on the main thread.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "envoy/service/discovery/v3/discovery.pb.h"

namespace remora::xds {

// What an open stream reports. The transport delivers these on the thread that owns the client
// (the main thread's event loop), never on a gRPC thread.
class StreamCallbacks {
 public:
  virtual ~StreamCallbacks() = default;
  // The server answered (its initial metadata arrived): the stream is up.
  virtual void onStreamConnected() = 0;
  virtual void onSotwResponse(
      std::unique_ptr<envoy::service::discovery::v3::DiscoveryResponse>) = 0;
  virtual void onDeltaResponse(
      std::unique_ptr<envoy::service::discovery::v3::DeltaDiscoveryResponse>) = 0;
  // The stream ended (server closed, connection failed or reset). Called exactly once per stream,
  // never after the stream object was destroyed. `status` is the gRPC status mapped to absl.
  virtual void onStreamClosed(const absl::Status& status) = 0;
};

// One open stream. Destroying it cancels the call; no callback arrives afterwards.
class Stream {
 public:
  virtual ~Stream() = default;
  // Queued in order; never blocks.
  virtual void send(const envoy::service::discovery::v3::DiscoveryRequest& request) = 0;
  virtual void send(const envoy::service::discovery::v3::DeltaDiscoveryRequest& request) = 0;
};

// Opens streams to one management server, for one service (ADS, or one per-type service).
class Transport {
 public:
  virtual ~Transport() = default;
  // Starts a new stream; callbacks go to `callbacks`, which must outlive the returned stream.
  virtual std::unique_ptr<Stream> open(StreamCallbacks& callbacks) = 0;
  // For logs: "ads over 127.0.0.1:18000".
  virtual std::string describe() const = 0;
};

}  // namespace remora::xds
