// How a listener hands an accepted connection to the filter that serves it (tcp_proxy now,
// http_connection_manager next), and what that filter may use from the worker it runs on.
#pragma once

#include <cstdint>
#include <memory>

#include "api/network/overload_state.h"

namespace remora::event {
class Dispatcher;
}
namespace remora::upstream {
class WorkerClusters;
class Http1ConnPools;
}  // namespace remora::upstream
namespace remora::config {
struct Snapshot;
}
namespace remora::network {

class SocketFd;
class Address;

// A downstream connection being served; owned by its worker until it reports itself done.
class Session {
 public:
  virtual ~Session() = default;
  // The proxy is draining: finish what is in flight, take nothing new, close when idle (an HTTP
  // connection answers its current request with Connection: close). Default: keep going until
  // the peer or the drain deadline ends it.
  virtual void drain() {}
};

// The worker as seen by sessions running on it.
class WorkerContext {
 public:
  virtual ~WorkerContext() = default;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual upstream::WorkerClusters& clusters() = 0;
  // The worker's upstream HTTP/1.1 connections, kept across requests and config versions.
  virtual upstream::Http1ConnPools& httpPools() = 0;
  virtual uint32_t workerIndex() const = 0;
  // The configuration new requests start with (the latest one published to this worker). A
  // connection keeps the snapshot it was accepted under for its listener's filter chain; each
  // HTTP request takes this one for routes and clusters.
  virtual const std::shared_ptr<const config::Snapshot>& currentSnapshot() const = 0;
  // The session has finished; it is destroyed on a later loop turn, never inside its callback.
  virtual void sessionDone(Session& session) = 0;
  // The overload manager's current decisions.
  virtual const OverloadState& overload() const { return OverloadState::none(); }
};

// Built once per listener filter chain at config time; creates a session per accepted socket.
class NetworkFilterFactory {
 public:
  virtual ~NetworkFilterFactory() = default;
  // Takes the accepted socket. `local` is where the client was going (the original destination
  // when the listener asks for it). `snapshot` is the configuration the connection keeps for its
  // life.
  virtual std::unique_ptr<Session> createSession(WorkerContext& worker, SocketFd fd,
                                                 const Address& peer, const Address& local,
                                                 std::shared_ptr<const config::Snapshot> snapshot,
                                                 uint32_t buffer_limit) const = 0;
};

}  // namespace remora::network
