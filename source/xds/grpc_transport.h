// xds::Transport over a gRPC channel: one bidirectional stream per open(), for ADS or one per-type
// discovery service, in the state-of-the-world or the delta protocol. gRPC runs the stream's
// callbacks on its own threads; every event is posted to the owner's dispatcher, so the Mux only
// ever sees the main thread.
#pragma once

#include <memory>
#include <string>

#include "api/xds/transport.h"
#include "grpcpp/channel.h"
#include "source/event/dispatcher.h"

namespace remora::xds {

// Which RPC the streams call.
enum class Service { kAggregated, kListeners, kRoutes, kClusters, kEndpoints };

class GrpcTransport : public Transport {
 public:
  GrpcTransport(event::Dispatcher& dispatcher, std::shared_ptr<grpc::Channel> channel,
                Service service, bool delta, std::string target);
  // Cancels open streams and waits until gRPC has finished with them, so no callback outlives it.
  ~GrpcTransport() override;

  std::unique_ptr<Stream> open(StreamCallbacks& callbacks) override;
  std::string describe() const override;

  struct Shared;  // Reactor bookkeeping shared with gRPC's threads.
  struct Stubs;

 private:
  event::Dispatcher& dispatcher_;
  std::shared_ptr<grpc::Channel> channel_;
  Service service_;
  bool delta_;
  std::string target_;
  std::shared_ptr<Shared> shared_;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace remora::xds
