// The HTTP connection manager for one downstream HTTP/1.1 connection: parses requests in order
// (pipelined ones wait their turn), runs each through the HTTP filters (the router last),
// writes responses back with HTTP/1.1 framing, enforces the HCM's timeouts and limits, and logs.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "api/http/filter.h"
#include "api/network/filter.h"
#include "source/buffer/memory_account.h"
#include "source/config/snapshot.h"
#include "source/http/conn_manager_config.h"
#include "source/http/header_map.h"
#include "source/http/http1/parser.h"
#include "source/http/stream_info.h"
#include "source/network/connection.h"

namespace remora::http {

class ConnManagerSession;

// One request/response exchange.
class ActiveStream : public StreamCallbacks, public event::DeferredDeletable {
 public:
  ActiveStream(ConnManagerSession& session, HeaderMap&& headers, const http1::MessageHead& head);
  ~ActiveStream() override;

  // --- StreamCallbacks ---------------------------------------------------------------------
  network::WorkerContext& worker() override;
  const config::Snapshot& snapshot() override;
  StreamInfo& streamInfo() override { return info_; }
  buffer::MemoryAccount& bufferAccount() override;
  const router::Route* route() override;
  const router::RouteTable& routeTable() override;
  void sendLocalReply(uint32_t status, absl::string_view body, absl::string_view details) override;
  void sendLocalReply(uint32_t status, absl::string_view body, absl::string_view details,
                      const HeaderMap& extra) override;
  void encode100Continue() override;
  void encodeHeaders(HeaderMap&& headers, bool end_stream) override;
  void encodeData(evbuffer* data, bool end_stream) override;
  void encodeTrailers(HeaderMap&& trailers) override;
  void switchToTunnel() override;
  void resetStream() override;
  void readDisableDownstream(bool disable) override;
  uint32_t bufferLimit() const override;
  void setStreamIdleTimeout(std::chrono::milliseconds timeout) override;

 private:
  friend class ConnManagerSession;
  void decodeHeaders(bool end_stream);
  void decodeData(evbuffer* data, bool end_stream);
  void decodeTrailers(HeaderMap&& trailers);
  void onRequestComplete();
  void mutateRequestHeaders();
  void finishResponse();
  void onStreamIdleTimer();
  void onRequestTimer();
  void log();

  ConnManagerSession& session_;
  StreamInfo info_;
  HeaderMap request_headers_;
  HeaderMap response_headers_;
  HeaderMap response_trailers_;
  http1::MessageHead head_;
  std::vector<std::unique_ptr<StreamFilter>> filters_;
  // The latest configuration when the request arrived: its routes (RDS) and clusters serve this
  // request to the end, whatever is published meanwhile.
  config::SnapshotConstSharedPtr snapshot_;
  const router::RouteTable* route_table_;
  const router::Route* route_ = nullptr;
  bool route_resolved_ = false;
  bool request_complete_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool response_chunked_ = false;
  bool response_close_delimited_ = false;
  bool head_request_ = false;
  bool tunnel_ = false;
  bool destroyed_ = false;
  // Held inline: every request has them, so a heap allocation each would be paid per request.
  std::optional<event::Timer> stream_idle_timer_;
  std::optional<event::Timer> request_timer_;
  std::chrono::steady_clock::time_point last_activity_;
  std::chrono::milliseconds idle_timeout_;
};

class ConnManagerSession : public network::Session,
                           private network::ConnectionCallbacks,
                           private http1::ParserCallbacks,
                           private buffer::ResetHandler {
 public:
  ConnManagerSession(network::WorkerContext& worker, const ConnManagerConfig& config,
                     config::SnapshotConstSharedPtr snapshot, const network::Address& peer,
                     uint32_t buffer_limit);
  ~ConnManagerSession() override;
  void start(network::SocketFd fd, const network::Address& local);
  void drain() override;

 private:
  friend class ActiveStream;
  // network::ConnectionCallbacks
  void onData(network::Connection& conn) override;
  void onEvent(network::Connection& conn, network::ConnectionEvent event) override;
  void onAboveWriteBufferHighWatermark(network::Connection& conn) override;
  void onBelowWriteBufferLowWatermark(network::Connection& conn) override;
  // http1::ParserCallbacks: collected during execute(), acted on after it returns.
  void onHeaders(HeaderMap&& headers, const http1::MessageHead& head) override;
  void onBody(absl::string_view data) override;
  void onTrailers(HeaderMap&& trailers) override;
  void onMessageComplete() override;
  // buffer::ResetHandler: reset_high_memory_stream chose this connection (its stream, for HTTP/1).
  void resetForOverload() override;

  void processInput();
  void onProtocolError();
  // Answers without a stream (bad request framing) and closes.
  // `body` defaults to the status's reason phrase.
  void sendErrorAndClose(int status, absl::string_view details, absl::string_view body = {});
  void streamDone();
  void write(evbuffer* data);
  void closeConnection(bool flush);
  // Closes at once; `downstream_reset` when the client's side failed or went away.
  void finish(bool downstream_reset);
  void onIdleTimer();
  void onHeadersTimer();
  void scheduleProcessInput();

  network::WorkerContext& worker_;
  const ConnManagerConfig& config_;  // Owned by the factory, which the snapshot keeps alive.
  config::SnapshotConstSharedPtr snapshot_;
  network::Address peer_;
  network::Address local_;
  uint32_t buffer_limit_;
  // Before conn_: the connection credits it when destroyed.
  buffer::AccountRef account_;
  network::ConnectionPtr conn_;
  http1::Parser parser_;
  std::unique_ptr<ActiveStream> stream_;
  // Parser results pending delivery.
  HeaderMap pending_headers_;
  http1::MessageHead pending_head_;
  HeaderMap pending_trailers_;
  evbuffer* pending_body_;
  // Reused for every response: bytes being framed for the client, and bodies or end-of-stream
  // markers handed to the filters. Both are empty between calls.
  evbuffer* out_;
  evbuffer* scratch_;
  bool have_headers_ = false;
  bool have_trailers_ = false;
  bool message_complete_ = false;

  event::TimerPtr idle_timer_;
  event::TimerPtr headers_timer_;
  event::TimerPtr process_timer_;  // Resumes parsing pipelined requests after a response.
  std::chrono::steady_clock::time_point last_activity_;
  bool read_disabled_by_stream_ = false;
  bool read_disabled_pipeline_ = false;
  bool above_watermark_ = false;
  bool close_after_response_ = false;
  bool closing_ = false;
  bool done_ = false;
  bool remote_eof_ = false;
  uint64_t requests_ = 0;
};

// The network filter factory the listener builder installs for http_connection_manager.
class ConnManagerFactory : public network::NetworkFilterFactory {
 public:
  explicit ConnManagerFactory(std::shared_ptr<const ConnManagerConfig> config)
      : config_(std::move(config)) {}
  std::unique_ptr<network::Session> createSession(network::WorkerContext& worker,
                                                  network::SocketFd fd,
                                                  const network::Address& peer,
                                                  const network::Address& local,
                                                  config::SnapshotConstSharedPtr snapshot,
                                                  uint32_t buffer_limit) const override;
  const ConnManagerConfig& config() const { return *config_; }

 private:
  std::shared_ptr<const ConnManagerConfig> config_;
};

}  // namespace remora::http
