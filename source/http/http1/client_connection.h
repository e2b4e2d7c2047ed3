// One upstream HTTP/1.1 connection: writes a request (head, body, trailers) and parses the
// response. Whoever holds it (a request in flight, or the pool while idle) gets its events; an
// idle connection that hears anything from its server is dead and is closed.
#pragma once

#include <event2/buffer.h>

#include <chrono>
#include <memory>

#include "source/event/dispatcher.h"
#include "source/http/header_map.h"
#include "source/http/http1/parser.h"
#include "source/network/connection.h"
#include "source/upstream/cluster.h"

namespace remora::http::http1 {

enum class UpstreamFailure {
  kConnectFailure,  // Refused, unreachable or connect timeout.
  kConnectTimeout,
  kRemoteClose,    // Closed or reset by the server before the response completed.
  kProtocolError,  // The response could not be parsed.
};

class ClientConnection;

class ClientCallbacks {
 public:
  virtual ~ClientCallbacks() = default;
  virtual void onConnected(ClientConnection& conn) = 0;
  virtual void onResponseHeaders(HeaderMap&& headers, const MessageHead& head) = 0;
  virtual void onResponseData(evbuffer* data) = 0;  // Takes what it keeps.
  virtual void onResponseTrailers(HeaderMap&& trailers) = 0;
  virtual void onResponseComplete() = 0;
  // The connection failed; it is closed and must be destroyed by its holder.
  virtual void onFailure(UpstreamFailure failure) = 0;
  // Request bytes queued towards the server passed the buffer limit: stop feeding them.
  virtual void onAboveWriteBufferHighWatermark() = 0;
  // ... and drained to half of it: resume.
  virtual void onBelowWriteBufferLowWatermark() = 0;
};

class ClientConnection : public event::DeferredDeletable,
                         private network::ConnectionCallbacks,
                         private ParserCallbacks {
 public:
  // Starts connecting; onConnected or onFailure follows on the dispatcher.
  ClientConnection(event::Dispatcher& dispatcher, const network::Address& to,
                   std::chrono::milliseconds connect_timeout, uint32_t buffer_limit,
                   ClientCallbacks* callbacks);
  ~ClientConnection() override;

  // Hands the connection to a request (from the pool's idle list, or fresh).
  void activate(ClientCallbacks* callbacks) {
    callbacks_ = callbacks;
    idle_ = false;
  }
  // Its buffers are charged to the stream it serves (see prepareForReuse).
  void setAccount(buffer::MemoryAccount& account) { conn_->setAccount(account); }
  // While idle, the pool listens for the server closing.
  void setIdleCallbacks(ClientCallbacks* callbacks) { callbacks_ = callbacks; }
  // The cluster's connection stats: active while open, bytes and destroy counted at close.
  void setStats(std::shared_ptr<upstream::ClusterStats> stats);
  // Counts this connection against a max_connections breaker until it closes; `owner` keeps the
  // breaker alive meanwhile (the cluster may be replaced).
  void holdConnectionSlot(upstream::ClusterResourcesSharedPtr owner, upstream::Resource& slot) {
    slot.inc();
    slot_owner_ = std::move(owner);
    slot_ = &slot;
  }
  bool connected() const { return connected_; }
  const network::Address& address() const { return address_; }

  // --- Request side. -------------------------------------------------------------------------
  // Writes the head. `chunked` frames the body as chunks (no content-length known).
  void encodeHeaders(const HeaderMap& headers, bool chunked, bool end_stream,
                     absl::string_view method);
  void encodeData(evbuffer* data, bool end_stream);  // Moves the contents.
  void encodeTrailers(const HeaderMap& trailers);
  // After a 101 or a 2xx to CONNECT: raw bytes both ways, no framing.
  void switchToTunnel();
  void encodeRaw(evbuffer* data) { conn_->write(data); }
  void shutdownWrite() { conn_->shutdownWrite(); }
  bool aboveWriteLimit() const { return conn_->outputLength() > conn_->bufferLimit(); }
  void readDisable(bool disable);

  // Whether it may carry another request: a complete response, a complete request, and neither
  // side asked to close.
  bool reusable() const;
  // Resets per-request state so the pool can hand it out again, and watches for the server
  // closing while idle.
  void prepareForReuse();
  // Whether the server closed or sent unsolicited bytes while idle.
  bool idleBroken() const { return idle_broken_; }
  uint64_t bytesWritten() const { return conn_->bytesWritten(); }
  uint64_t bytesRead() const { return conn_->bytesRead(); }
  void close();
  bool closed() const { return closed_; }
  uint32_t requestsServed() const { return requests_served_; }

 private:
  // network::ConnectionCallbacks
  void onData(network::Connection& conn) override;
  void onEvent(network::Connection& conn, network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark(network::Connection& conn) override;
  void onBelowWriteBufferLowWatermark(network::Connection& conn) override;
  // ParserCallbacks: collected, then delivered after the parser returns (no re-entrancy).
  void onHeaders(HeaderMap&& headers, const MessageHead& head) override;
  void onBody(absl::string_view data) override;
  void onTrailers(HeaderMap&& trailers) override;
  void onMessageComplete() override;
  void fail(UpstreamFailure failure);
  void parse();

  network::Address address_;
  ClientCallbacks* callbacks_;
  std::shared_ptr<upstream::ClusterStats> stats_;
  upstream::ClusterResourcesSharedPtr slot_owner_;
  upstream::Resource* slot_ = nullptr;
  network::ConnectionPtr conn_;
  Parser parser_;
  evbuffer* body_;
  evbuffer* out_;  // Request bytes being framed; reused, empty between calls.
  HeaderMap pending_headers_;
  MessageHead pending_head_;
  HeaderMap pending_trailers_;
  bool have_headers_ = false;
  bool have_trailers_ = false;
  bool message_complete_ = false;
  bool connected_ = false;
  bool request_chunked_ = false;
  bool request_complete_ = false;
  bool response_complete_ = false;
  bool close_after_ = false;  // Either side said Connection: close, or HTTP/1.0.
  bool tunnel_ = false;
  bool idle_ = false;
  bool idle_broken_ = false;
  bool closed_ = false;
  bool closed_by_remote_ = false;
  uint32_t requests_served_ = 0;
};
using ClientConnectionPtr = std::unique_ptr<ClientConnection>;

}  // namespace remora::http::http1
