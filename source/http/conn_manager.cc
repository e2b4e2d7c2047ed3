#include "source/http/conn_manager.h"

#include "envoy/config/route/v3/route.pb.h"

#include <sys/socket.h>

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "source/accesslog/access_log.h"
#include "source/http/http1/encoder.h"
#include "source/http/request_headers.h"

namespace remora::http {

namespace {

using Clock = std::chrono::steady_clock;

// Hop-by-hop fields that describe one connection, not the message (RFC 9110 §7.6.1).
void removeHopByHop(HeaderMap& headers, bool keep_upgrade) {
  headers.remove("connection");
  headers.remove("keep-alive");
  headers.remove("proxy-connection");
  headers.remove("transfer-encoding");
  if (!keep_upgrade) headers.remove("upgrade");
}

void countResponse(const ConnManagerStats& stats, uint32_t status) {
  switch (status / 100) {
    case 1:
      stats.downstream_rq_1xx.inc();
      break;
    case 2:
      stats.downstream_rq_2xx.inc();
      break;
    case 3:
      stats.downstream_rq_3xx.inc();
      break;
    case 4:
      stats.downstream_rq_4xx.inc();
      break;
    case 5:
      stats.downstream_rq_5xx.inc();
      break;
    default:
      break;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ActiveStream

namespace {
// What an RDS listener routes with before its route configuration exists (initial_fetch_timeout
// passed without one): no virtual hosts, so every request gets 404 (NR), as in Envoy.
const router::RouteTable& emptyRouteTable() {
  static const auto* table = [] {
    auto compiled = router::RouteTable::compile({}, "");
    return new std::shared_ptr<const router::RouteTable>(*std::move(compiled));
  }();
  return **table;
}

const router::RouteTable* routeTableFor(const ConnManagerConfig& config,
                                        const config::Snapshot& snapshot) {
  if (config.route_table != nullptr) return config.route_table.get();
  const router::RouteTable* rds = snapshot.findRoutes(config.rds_name);
  return rds != nullptr ? rds : &emptyRouteTable();
}
}  // namespace

ActiveStream::ActiveStream(ConnManagerSession& session, HeaderMap&& headers,
                           const http1::MessageHead& head)
    : session_(session),
      request_headers_(std::move(headers)),
      head_(head),
      snapshot_(session.worker_.currentSnapshot() != nullptr ? session.worker_.currentSnapshot()
                                                             : session.snapshot_),
      route_table_(routeTableFor(session.config_, *snapshot_)) {
  info_.start_time = std::chrono::system_clock::now();
  info_.start_steady = Clock::now();
  last_activity_ = info_.start_steady;
  info_.protocol = head.version_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
  info_.downstream_direct_remote_address = session.peer_;
  info_.downstream_remote_address = session.peer_;
  info_.downstream_local_address = session.local_;
  info_.request_headers = &request_headers_;
  head_request_ = request_headers_.method() == "HEAD";
  const auto& config = session.config_;
  idle_timeout_ = config.stream_idle_timeout;
  stream_idle_timer_.emplace(worker().dispatcher(), [this] { onStreamIdleTimer(); });
  if (idle_timeout_.count() > 0) stream_idle_timer_->enable(idle_timeout_);
  if (config.request_timeout.count() > 0) {
    request_timer_.emplace(worker().dispatcher(), [this] { onRequestTimer(); });
    request_timer_->enable(config.request_timeout);
  }
}

ActiveStream::~ActiveStream() = default;

network::WorkerContext& ActiveStream::worker() { return session_.worker_; }
const config::Snapshot& ActiveStream::snapshot() { return *snapshot_; }
const router::RouteTable& ActiveStream::routeTable() { return *route_table_; }

uint32_t ActiveStream::bufferLimit() const { return session_.buffer_limit_; }

const router::Route* ActiveStream::route() {
  if (!route_resolved_) {
    route_resolved_ = true;
    route_ = route_table_->route(request_headers_);
    if (route_ != nullptr) info_.route_name = route_->name();
  }
  return route_;
}

void ActiveStream::decodeHeaders(bool end_stream) {
  const auto& config = session_.config_;
  config.stats->downstream_rq_total.inc();
  config.stats->downstream_rq_http1_total.inc();
  config.stats->downstream_rq_active.inc();
  mutateRequestHeaders();

  if (worker().overload().stop_accepting_requests.load(std::memory_order_relaxed)) {
    info_.setFlag(kOverloadManager);
    sendLocalReply(503, "envoy overloaded", "overload");
    return;
  }

  if (head_.version_minor == 0) {
    if (!config.accept_http_10) {
      session_.close_after_response_ = true;
      sendLocalReply(426, "", "http1.codec_error{http/1.0 is not allowed}");
      return;
    }
    if (request_headers_.authority().empty() && !config.default_host_for_http_10.empty()) {
      request_headers_.set(":authority", config.default_host_for_http_10);
    }
  }
  const absl::string_view path = request_headers_.path();
  const bool is_connect = request_headers_.method() == "CONNECT";
  if (!is_connect && (path.empty() || (path[0] != '/' && path != "*"))) {
    config.stats->downstream_rq_non_relative_path.inc();
    sendLocalReply(404, "", "absolute_path_rejected");
    return;
  }
  if (head_.upgrade) {
    std::string type =
        is_connect ? "connect" : absl::AsciiStrToLower(request_headers_.getJoined("upgrade"));
    if (!config.upgradeAllowed(type)) {
      config.stats->downstream_rq_ws_on_non_ws_route.inc();
      sendLocalReply(403, "", "upgrade_failed");
      return;
    }
    config.stats->downstream_cx_upgrades_total.inc();
  }
  if (head_.expect_continue) {
    // Unless configured to pass it on, answer 100 Continue ourselves so the client sends the
    // body while the upstream is being chosen, as Envoy does.
    if (!config.proxy_100_continue) {
      request_headers_.remove("expect");
      encode100Continue();
    }
  }
  if (end_stream) onRequestComplete();
  for (const auto& factory : config.filters) filters_.push_back(factory->create());
  for (auto& f : filters_) f->setCallbacks(*this);
  for (auto& f : filters_) {
    if (f->decodeHeaders(request_headers_, end_stream) == FilterStatus::kStop || destroyed_) break;
  }
}

void ActiveStream::decodeData(evbuffer* data, bool end_stream) {
  last_activity_ = Clock::now();
  info_.bytes_received += tunnel_ ? 0 : evbuffer_get_length(data);
  if (end_stream) onRequestComplete();
  for (auto& f : filters_) {
    if (f->decodeData(data, end_stream) == FilterStatus::kStop || destroyed_) break;
  }
  // Whatever no filter took is dropped (a reply was already sent).
  if (!destroyed_ && evbuffer_get_length(data) > 0) evbuffer_drain(data, evbuffer_get_length(data));
}

void ActiveStream::decodeTrailers(HeaderMap&& trailers) {
  if (!session_.config_.enable_trailers) {
    // As Envoy by default: HTTP/1 trailers end the body but are not forwarded.
    decodeData(session_.scratch_, true);
    return;
  }
  onRequestComplete();
  HeaderMap t = std::move(trailers);
  for (auto& f : filters_) {
    if (f->decodeTrailers(t) == FilterStatus::kStop || destroyed_) break;
  }
}

void ActiveStream::onRequestComplete() {
  if (request_complete_) return;
  request_complete_ = true;
  info_.last_downstream_rx_byte = Clock::now();
  if (request_timer_) request_timer_->disable();
}

void ActiveStream::mutateRequestHeaders() {
  const auto& config = session_.config_;
  RequestHeaderContext ctx{config, session_.peer_};
  applyDownstreamRequestHeaders(ctx, request_headers_, info_);
}

void ActiveStream::sendLocalReply(uint32_t status, absl::string_view body,
                                  absl::string_view details) {
  sendLocalReply(status, body, details, HeaderMap());
}

void ActiveStream::sendLocalReply(uint32_t status, absl::string_view body,
                                  absl::string_view details, const HeaderMap& extra) {
  if (destroyed_) return;
  info_.response_code_details = std::string(details);
  if (response_started_) {
    resetStream();
    return;
  }
  if (!request_complete_) {
    // The rest of this request will not be read; HTTP/1 cannot find the next one reliably.
    session_.close_after_response_ = true;
  }
  HeaderMap headers;
  headers.add(":status", absl::StrCat(status));
  if (!body.empty()) {
    headers.add("content-length", absl::StrCat(body.size()));
    headers.add("content-type", "text/plain");
  } else {
    headers.add("content-length", "0");
  }
  for (const HeaderEntry& entry : extra) headers.add(entry.key, entry.value);
  if (body.empty() || head_request_) {
    encodeHeaders(std::move(headers), true);
    return;
  }
  encodeHeaders(std::move(headers), false);
  if (destroyed_) return;
  evbuffer_add(session_.scratch_, body.data(), body.size());
  encodeData(session_.scratch_, true);
}

void ActiveStream::encode100Continue() {
  static constexpr absl::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  evbuffer_add(session_.out_, kContinue.data(), kContinue.size());
  session_.write(session_.out_);
}

void ActiveStream::encodeHeaders(HeaderMap&& headers, bool end_stream) {
  if (destroyed_ || response_started_) return;
  const auto& config = session_.config_;
  last_activity_ = Clock::now();
  const int status = headers.status();
  if (status >= 100 && status < 200 && status != 101) {
    // An interim 1xx head from upstream: only a 100 the client asked for is passed on.
    if (status == 100 && config.proxy_100_continue && head_.expect_continue) encode100Continue();
    return;
  }
  response_started_ = true;
  info_.response_code = status;
  const bool upgrade = status == 101 || (head_.upgrade && request_headers_.method() == "CONNECT" &&
                                         status >= 200 && status < 300);
  const std::string* connection = headers.get("connection");
  const bool upstream_upgrade = connection != nullptr && status == 101;
  removeHopByHop(headers, upgrade);
  switch (config.server_header_mode) {
    case ServerHeaderMode::kOverwrite:
      headers.set("server", config.server_name);
      break;
    case ServerHeaderMode::kAppendIfAbsent:
      if (!headers.has("server")) headers.add("server", config.server_name);
      break;
    case ServerHeaderMode::kPassThrough:
      break;
  }
  if (!config.via.empty()) {
    const std::string* via = headers.get("via");
    headers.set("via", via == nullptr ? config.via : absl::StrCat(*via, ", ", config.via));
  }
  if (config.always_set_request_id_in_response && !headers.has("x-request-id")) {
    const std::string* id = request_headers_.get("x-request-id");
    if (id != nullptr) headers.add("x-request-id", *id);
  }

  bool close = session_.close_after_response_ || !head_.keep_alive || session_.remote_eof_ ||
               worker().overload().disable_http_keepalive.load(std::memory_order_relaxed);
  const bool bodiless = head_request_ || status == 204 || status == 304;
  if (upgrade) {
    if (upstream_upgrade) headers.set("connection", "upgrade");
  } else if (bodiless) {
    if (status == 204) headers.remove("content-length");
  } else if (end_stream) {
    if (!headers.has("content-length")) headers.add("content-length", "0");
  } else if (headers.has("content-length")) {
    // Framed by length as the upstream said.
  } else if (head_.version_minor >= 1) {
    headers.add("transfer-encoding", "chunked");
    response_chunked_ = true;
  } else {
    // An HTTP/1.0 client cannot take chunks: the body ends when we close.
    response_close_delimited_ = true;
    close = true;
  }
  if (close && !upgrade) {
    session_.close_after_response_ = true;
    headers.add("connection", "close");
  } else if (head_.version_minor == 0 && !upgrade) {
    headers.add("connection", "keep-alive");
  }
  countResponse(*config.stats, status);

  http1::encodeResponseHead(headers, 1, session_.out_);
  response_headers_ = std::move(headers);
  info_.response_headers = &response_headers_;
  session_.write(session_.out_);
  if (end_stream) finishResponse();
}

void ActiveStream::encodeData(evbuffer* data, bool end_stream) {
  if (destroyed_ || response_complete_) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  last_activity_ = Clock::now();
  const size_t len = evbuffer_get_length(data);
  if (tunnel_) {
    info_.bytes_sent += len;
    if (len > 0) session_.write(data);
    if (end_stream) session_.conn_->shutdownWrite();
    return;
  }
  if (head_request_ || info_.response_code == 204 || info_.response_code == 304) {
    evbuffer_drain(data, len);
  } else {
    info_.bytes_sent += len;
    if (response_chunked_) {
      if (len > 0) http1::encodeChunk(data, session_.out_);
      if (end_stream) http1::encodeLastChunk(nullptr, session_.out_);
    } else {
      evbuffer_add_buffer(session_.out_, data);
    }
    session_.write(session_.out_);
  }
  if (end_stream) finishResponse();
}

void ActiveStream::encodeTrailers(HeaderMap&& trailers) {
  if (destroyed_ || response_complete_) return;
  response_trailers_ = std::move(trailers);
  info_.response_trailers = &response_trailers_;
  if (response_chunked_) {
    http1::encodeLastChunk(session_.config_.enable_trailers ? &response_trailers_ : nullptr,
                           session_.out_);
    session_.write(session_.out_);
  }
  finishResponse();
}

void ActiveStream::finishResponse() {
  response_complete_ = true;
  info_.last_downstream_tx_byte = Clock::now();
  if (!request_complete_) session_.close_after_response_ = true;
  session_.streamDone();
}

void ActiveStream::switchToTunnel() {
  tunnel_ = true;
  stream_idle_timer_->disable();
  session_.config_.stats->downstream_cx_upgrades_active.inc();
  session_.scheduleProcessInput();
}

buffer::MemoryAccount& ActiveStream::bufferAccount() { return *session_.account_; }

void ActiveStream::resetStream() {
  if (destroyed_) return;
  session_.finish(/*downstream_reset=*/false);
}

void ActiveStream::readDisableDownstream(bool disable) {
  session_.read_disabled_by_stream_ = disable;
  if (!session_.done_ && !session_.closing_) session_.conn_->readEnable(!disable);
}

void ActiveStream::setStreamIdleTimeout(std::chrono::milliseconds timeout) {
  idle_timeout_ = timeout;
  if (tunnel_) return;
  if (timeout.count() > 0) {
    stream_idle_timer_->enable(timeout);
  } else {
    stream_idle_timer_->disable();
  }
}

void ActiveStream::onStreamIdleTimer() {
  const auto idle = idle_timeout_;
  const auto since = Clock::now() - last_activity_;
  if (since < idle) {
    stream_idle_timer_->enable(std::chrono::duration_cast<std::chrono::milliseconds>(idle - since) +
                               std::chrono::milliseconds(1));
    return;
  }
  session_.config_.stats->downstream_rq_idle_timeout.inc();
  info_.setFlag(kStreamIdleTimeout);
  sendLocalReply(408, "stream timeout", "stream_idle_timeout");
}

void ActiveStream::onRequestTimer() {
  if (request_complete_) return;
  session_.config_.stats->downstream_rq_timeout.inc();
  sendLocalReply(408, "request timeout", "request_overall_timeout");
}

void ActiveStream::log() {
  // The router's outcomes, counted under the HCM's prefix as Envoy names them.
  const auto& stats = *session_.config_.stats;
  if (info_.hasFlag(kNoRouteFound)) stats.no_route.inc();
  if (info_.hasFlag(kNoClusterFound)) stats.no_cluster.inc();
  if (info_.response_code_details == "direct_response") {
    if (info_.response_code >= 300 && info_.response_code < 400 &&
        response_headers_.has("location")) {
      stats.rq_redirect.inc();
    } else {
      stats.rq_direct_response.inc();
    }
  }
  for (const auto& log : session_.config_.access_logs) log->log(info_);
}

// ---------------------------------------------------------------------------------------------
// ConnManagerSession

ConnManagerSession::ConnManagerSession(network::WorkerContext& worker,
                                       const ConnManagerConfig& config,
                                       config::SnapshotConstSharedPtr snapshot,
                                       const network::Address& peer, uint32_t buffer_limit)
    : worker_(worker),
      config_(config),
      snapshot_(std::move(snapshot)),
      peer_(peer),
      buffer_limit_(buffer_limit),
      account_(worker.dispatcher().bufferTracker().createAccount(*this)),
      parser_(http1::MessageType::kRequest, *this, config.limits),
      pending_body_(evbuffer_new()),
      out_(evbuffer_new()),
      scratch_(evbuffer_new()) {}

ConnManagerSession::~ConnManagerSession() {
  if (stream_) {
    stream_->destroyed_ = true;
    for (auto& f : stream_->filters_) f->onDestroy();
  }
  evbuffer_free(pending_body_);
  evbuffer_free(out_);
  evbuffer_free(scratch_);
  account_->clearResetHandler();  // Destroyed without finish() (worker shutdown).
}

void ConnManagerSession::start(network::SocketFd fd, const network::Address& local) {
  local_ = local;
  config_.stats->downstream_cx_total.inc();
  config_.stats->downstream_cx_http1_total.inc();
  config_.stats->downstream_cx_active.inc();
  conn_ = std::make_unique<network::Connection>(worker_.dispatcher(), std::move(fd),
                                                static_cast<network::ConnectionCallbacks&>(*this));
  conn_->setBufferLimit(buffer_limit_);
  conn_->setAccount(*account_);
  process_timer_ = worker_.dispatcher().createTimer([this] { processInput(); });
  last_activity_ = Clock::now();
  if (config_.idle_timeout.count() > 0) {
    idle_timer_ = worker_.dispatcher().createTimer([this] { onIdleTimer(); });
    idle_timer_->enable(config_.idle_timeout);
  }
  if (config_.request_headers_timeout.count() > 0) {
    headers_timer_ = worker_.dispatcher().createTimer([this] { onHeadersTimer(); });
  }
  conn_->readEnable(true);
}

void ConnManagerSession::drain() {
  if (done_) return;
  // The response in flight carries Connection: close; an idle connection closes now.
  close_after_response_ = true;
  if (stream_ == nullptr) closeConnection(true);
}

void ConnManagerSession::write(evbuffer* data) {
  if (done_ || conn_->closed()) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  config_.stats->downstream_cx_tx_bytes_total.inc(evbuffer_get_length(data));
  conn_->write(data);
}

void ConnManagerSession::onData(network::Connection&) {
  last_activity_ = Clock::now();
  processInput();
}

void ConnManagerSession::scheduleProcessInput() {
  if (!done_) process_timer_->activate();
}

void ConnManagerSession::processInput() {
  evbuffer* in = conn_->input();
  while (!done_ && !closing_) {
    const size_t len = evbuffer_get_length(in);
    if (stream_ != nullptr && stream_->tunnel_) {
      if (len > 0) {
        config_.stats->downstream_cx_rx_bytes_total.inc(len);
        stream_->decodeData(in, false);
      }
      return;
    }
    if (stream_ != nullptr && stream_->request_complete_) {
      // A pipelined request waits for the response before this one; bound what we hold.
      if (len > buffer_limit_ && !read_disabled_pipeline_) {
        read_disabled_pipeline_ = true;
        conn_->readEnable(false);
      }
      return;
    }
    if (len == 0) return;
    if (stream_ == nullptr && headers_timer_ && !headers_timer_->enabled() && parser_.idle()) {
      headers_timer_->enable(config_.request_headers_timeout);
    }

    evbuffer_iovec vec;
    evbuffer_peek(in, -1, nullptr, &vec, 1);
    size_t consumed = parser_.execute(static_cast<const char*>(vec.iov_base), vec.iov_len);
    if (consumed == 0 && !parser_.hasError() && vec.iov_len < len) {
      // The head spans buffer chains: make it contiguous, bounded by the head limit.
      const size_t want = std::min<size_t>(len, config_.limits.max_headers_bytes + 1024);
      const char* p = reinterpret_cast<const char*>(evbuffer_pullup(in, want));
      consumed = parser_.execute(p, want);
    }
    evbuffer_drain(in, consumed);
    config_.stats->downstream_cx_rx_bytes_total.inc(consumed);
    if (parser_.hasError()) {
      onProtocolError();
      return;
    }

    const bool complete = message_complete_;
    message_complete_ = false;
    if (have_headers_) {
      have_headers_ = false;
      if (headers_timer_) headers_timer_->disable();
      ++requests_;
      stream_ = std::make_unique<ActiveStream>(*this, std::move(pending_headers_), pending_head_);
      pending_headers_.clear();
      ActiveStream* s = stream_.get();
      const bool headers_only =
          complete && evbuffer_get_length(pending_body_) == 0 && !have_trailers_;
      s->decodeHeaders(headers_only);
      if (stream_.get() != s || done_ || headers_only) continue;
    }
    if (stream_ == nullptr) {
      // Body bytes for a request already answered and gone: drop them.
      evbuffer_drain(pending_body_, evbuffer_get_length(pending_body_));
      if (consumed == 0) return;
      continue;
    }
    ActiveStream* s = stream_.get();
    if (evbuffer_get_length(pending_body_) > 0 || (complete && !have_trailers_)) {
      s->decodeData(pending_body_, complete && !have_trailers_);
      if (stream_.get() != s || done_) continue;
    }
    if (have_trailers_) {
      have_trailers_ = false;
      s->decodeTrailers(std::move(pending_trailers_));
      pending_trailers_.clear();
      if (stream_.get() != s || done_) continue;
    }
    if (consumed == 0) return;
  }
}

void ConnManagerSession::onHeaders(HeaderMap&& headers, const http1::MessageHead& head) {
  pending_headers_ = std::move(headers);
  pending_head_ = head;
  have_headers_ = true;
}

void ConnManagerSession::onBody(absl::string_view data) {
  evbuffer_add(pending_body_, data.data(), data.size());
}

void ConnManagerSession::onTrailers(HeaderMap&& trailers) {
  pending_trailers_ = std::move(trailers);
  have_trailers_ = true;
}

void ConnManagerSession::onMessageComplete() { message_complete_ = true; }

void ConnManagerSession::onProtocolError() {
  config_.stats->downstream_cx_protocol_error.inc();
  const auto& err = parser_.error();
  if (err.status == 413) config_.stats->downstream_rq_too_large.inc();
  if (stream_ != nullptr) {
    stream_->info_.setFlag(kDownstreamProtocolError);
    close_after_response_ = true;
    stream_->sendLocalReply(err.status, http1::reasonPhrase(err.status), err.details);
    return;
  }
  sendErrorAndClose(err.status, err.details);
}

void ConnManagerSession::sendErrorAndClose(int status, absl::string_view details,
                                           absl::string_view body) {
  // A request we could not even frame still gets a stream, so it is counted and logged.
  HeaderMap headers;
  headers.add(":method", "-");
  headers.add(":path", "-");
  http1::MessageHead head;
  head.keep_alive = false;
  stream_ = std::make_unique<ActiveStream>(*this, std::move(headers), head);
  stream_->request_complete_ = true;
  stream_->info_.setFlag(kDownstreamProtocolError);
  config_.stats->downstream_rq_total.inc();
  config_.stats->downstream_rq_active.inc();
  close_after_response_ = true;
  stream_->sendLocalReply(status, body.empty() ? http1::reasonPhrase(status) : body, details);
}

void ConnManagerSession::streamDone() {
  std::unique_ptr<ActiveStream> stream = std::move(stream_);
  stream->destroyed_ = true;
  for (auto& f : stream->filters_) f->onDestroy();
  if (stream->tunnel_) config_.stats->downstream_cx_upgrades_active.dec();
  config_.stats->downstream_rq_active.dec();
  config_.stats->downstream_rq_completed.inc();
  stream->log();
  stream->info_.request_headers = nullptr;
  worker_.dispatcher().deferredDelete(std::move(stream));
  if (close_after_response_ || remote_eof_) {
    closeConnection(true);
    return;
  }
  parser_.reset();
  last_activity_ = Clock::now();
  if (read_disabled_pipeline_ || read_disabled_by_stream_) {
    read_disabled_pipeline_ = read_disabled_by_stream_ = false;
    conn_->readEnable(true);
  }
  // Re-armed only when it is not already: while it is, it fires at the old deadline and then
  // waits out the rest from last_activity_, which saves two timer-heap updates per request.
  if (idle_timer_ && !idle_timer_->enabled()) idle_timer_->enable(config_.idle_timeout);
  scheduleProcessInput();
}

void ConnManagerSession::closeConnection(bool flush) {
  if (done_ || closing_) return;
  if (!flush) {
    finish(false);
    return;
  }
  closing_ = true;
  conn_->shutdownWrite();
}

void ConnManagerSession::resetForOverload() {
  if (done_) return;
  // As Envoy resets an HTTP/1 stream: the connection closes without a response, and the log says
  // why (OM, "overload").
  if (stream_ != nullptr && !stream_->response_complete_) {
    stream_->info_.setFlag(kOverloadManager);
    stream_->info_.response_code_details = "overload";
  }
  finish(/*downstream_reset=*/false);
}

void ConnManagerSession::finish(bool downstream_reset) {
  if (done_) return;
  done_ = true;
  // Finished: what it still holds until destroyed is not worth a reset.
  account_->clearResetHandler();
  if (stream_ != nullptr) {
    std::unique_ptr<ActiveStream> stream = std::move(stream_);
    stream->destroyed_ = true;
    for (auto& f : stream->filters_) f->onDestroy();
    if (!stream->response_complete_) {
      // DC blames the client: only when it went away, not when we cut the stream ourselves.
      if (downstream_reset) {
        stream->info_.setFlag(kDownstreamConnectionTermination);
        config_.stats->downstream_rq_rx_reset.inc();
      } else {
        config_.stats->downstream_rq_tx_reset.inc();
      }
    }
    if (stream->tunnel_) config_.stats->downstream_cx_upgrades_active.dec();
    config_.stats->downstream_rq_active.dec();
    stream->log();
    stream->info_.request_headers = nullptr;
    worker_.dispatcher().deferredDelete(std::move(stream));
  }
  config_.stats->downstream_cx_active.dec();
  if (idle_timer_) idle_timer_->disable();
  if (headers_timer_) headers_timer_->disable();
  process_timer_->disable();
  conn_->discardPendingInput();
  conn_->close();
  worker_.sessionDone(*this);
}

void ConnManagerSession::onEvent(network::Connection&, network::ConnectionEvent event) {
  using network::ConnectionEvent;
  switch (event) {
    case ConnectionEvent::kRemoteEof:
      remote_eof_ = true;
      if (stream_ != nullptr && stream_->tunnel_) {
        stream_->decodeData(scratch_, true);
        return;
      }
      if (stream_ == nullptr) {
        closeConnection(true);
        return;
      }
      if (!stream_->request_complete_) {
        // The client went away mid-request.
        finish(true);
        return;
      }
      // The request is whole: let its response finish, then close.
      return;
    case ConnectionEvent::kError:
      finish(true);
      return;
    case ConnectionEvent::kWriteShutdown:
      if (stream_ == nullptr || closing_) finish(false);
      return;
    default:
      return;
  }
}

void ConnManagerSession::onAboveWriteBufferHighWatermark(network::Connection&) {
  above_watermark_ = true;
  if (stream_ != nullptr) {
    for (auto& f : stream_->filters_) f->onDownstreamAboveWriteBufferHighWatermark();
  }
}

void ConnManagerSession::onBelowWriteBufferLowWatermark(network::Connection&) {
  above_watermark_ = false;
  if (stream_ != nullptr) {
    for (auto& f : stream_->filters_) f->onDownstreamBelowWriteBufferLowWatermark();
  }
}

void ConnManagerSession::onIdleTimer() {
  // A request in progress (or a head still arriving) is not idleness; streamDone re-arms.
  if (stream_ != nullptr || done_ || !parser_.idle()) return;
  const auto since = Clock::now() - last_activity_;
  if (since < config_.idle_timeout) {
    idle_timer_->enable(
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.idle_timeout - since) +
        std::chrono::milliseconds(1));
    return;
  }
  config_.stats->downstream_cx_idle_timeout.inc();
  closeConnection(true);
}

void ConnManagerSession::onHeadersTimer() {
  if (stream_ != nullptr || done_) return;
  config_.stats->downstream_rq_header_timeout.inc();
  // As Envoy: the partial request is answered 408 and the connection closed.
  sendErrorAndClose(408, "request_header_timeout", "request header timeout");
}

std::unique_ptr<network::Session> ConnManagerFactory::createSession(
    network::WorkerContext& worker, network::SocketFd fd, const network::Address& peer,
    const network::Address& local, config::SnapshotConstSharedPtr snapshot,
    uint32_t buffer_limit) const {
  auto session = std::make_unique<ConnManagerSession>(worker, *config_, std::move(snapshot), peer,
                                                      buffer_limit);
  session->start(std::move(fd), local);
  return session;
}

}  // namespace remora::http
