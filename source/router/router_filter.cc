#include "source/router/router_filter.h"

#include <optional>

#include <random>

#include "absl/strings/str_cat.h"
#include "source/config/snapshot.h"
#include "source/http/stream_info.h"
#include "source/router/hash_policy.h"
#include "source/router/route_table.h"
#include "source/upstream/cluster_http_stats.h"
#include "source/upstream/http1_conn_pool.h"
#include "source/upstream/outlier_detector.h"
#include "source/upstream/worker_clusters.h"

namespace remora::router {

namespace {

using Clock = std::chrono::steady_clock;
using http::http1::UpstreamFailure;

std::mt19937_64& threadRng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

// Copies (not moves) `from` onto the end of `to`: the original stays for a replay.
void copyBuffer(evbuffer* from, evbuffer* to) {
  evbuffer_ptr pos;
  evbuffer_ptr_set(from, &pos, 0, EVBUFFER_PTR_SET);
  evbuffer_iovec vec[16];
  // A batch of chains at a time, so a long buffer needs no allocation to walk.
  for (;;) {
    const int n = evbuffer_peek(from, -1, &pos, vec, 16);
    if (n <= 0) return;
    size_t batch = 0;
    for (int i = 0; i < std::min(n, 16); ++i) {
      evbuffer_add(to, vec[i].iov_base, vec[i].iov_len);
      batch += vec[i].iov_len;
    }
    if (n <= 16) return;
    evbuffer_ptr_set(from, &pos, batch, EVBUFFER_PTR_ADD);
  }
}

constexpr absl::string_view kResetBeforeHeaders =
    "upstream connect error or disconnect/reset before headers. reset reason: ";

}  // namespace

RouterFilter::RouterFilter(const RouterConfig& config)
    : config_(config),
      pending_(evbuffer_new()),
      retained_(evbuffer_new()),
      scratch_(evbuffer_new()) {}

RouterFilter::~RouterFilter() {
  onDestroy();
  evbuffer_free(pending_);
  evbuffer_free(retained_);
  evbuffer_free(scratch_);
}

http::FilterStatus RouterFilter::decodeHeaders(http::HeaderMap& headers, bool end_stream) {
  request_headers_ = &headers;
  http::StreamInfo& info = callbacks_->streamInfo();
  route_ = callbacks_->route();
  if (route_ == nullptr) {
    info.setFlag(http::kNoRouteFound);
    callbacks_->sendLocalReply(404, "", "route_not_found");
    return http::FilterStatus::kStop;
  }
  if (const DirectResponse* direct = route_->directResponse()) {
    sendDirectResponse(*direct);
    return http::FilterStatus::kStop;
  }
  if (route_->isRedirect()) {
    sendRedirect();
    return http::FilterStatus::kStop;
  }
  const std::string cluster_name = route_->clusterName(headers, threadRng()());
  cluster_ = callbacks_->snapshot().findCluster(cluster_name);
  info.upstream_cluster = cluster_name;
  if (cluster_ == nullptr) {
    info.setFlag(http::kNoClusterFound);
    callbacks_->sendLocalReply(route_->clusterNotFoundStatus(), "", "cluster_not_found");
    return http::FilterStatus::kStop;
  }

  // As in Envoy, the hash sees the request before the route's mutations and rewrites, and only a
  // hashing balancer asks for it (so only then is a hash cookie generated).
  const HashPolicy* hash_policy = route_->hashPolicy();
  if (hash_policy != nullptr && (cluster_->lb_policy == upstream::LbPolicy::kRingHash ||
                                 cluster_->lb_policy == upstream::LbPolicy::kMaglev)) {
    hash_key_ = hash_policy->generateHash(headers, info, set_cookies_);
  }
  // Mutations first, so that %REQ(:path)% sees the path as the client sent it.
  applyRequestHeaderMutations(*route_, callbacks_->routeTable(), headers, info);
  route_->rewriteRequest(headers);
  if (config_.suppress_envoy_headers) headers.remove("x-envoy-original-path");
  timeout_ = route_->timeout();
  if (auto idle = route_->idleTimeout()) callbacks_->setStreamIdleTimeout(*idle);
  if (!config_.suppress_envoy_headers && timeout_.count() > 0) {
    headers.set("x-envoy-expected-rq-timeout-ms", absl::StrCat(timeout_.count()));
  }
  retry_state_.emplace(route_->retryPolicy(), threadRng()());
  body_expected_ = !end_stream;
  event::Dispatcher& dispatcher = callbacks_->worker().dispatcher();
  global_timer_.emplace(dispatcher, [this] { onGlobalTimeout(); });
  per_try_timer_.emplace(dispatcher, [this] { onPerTryTimeout(); });
  retry_timer_.emplace(dispatcher, [this] { startAttempt(); });
  if (end_stream) onRequestComplete();
  startAttempt();
  return http::FilterStatus::kStop;
}

void RouterFilter::sendRedirect() {
  http::HeaderMap response;
  response.add(":status", absl::StrCat(route_->redirectStatus()));
  response.add("location", route_->redirectLocation(*request_headers_));
  response.add("content-length", "0");
  http::StreamInfo& info = callbacks_->streamInfo();
  info.response_code_details = "direct_response";
  info.response_headers = &response;
  applyResponseHeaderMutations(*route_, callbacks_->routeTable(), response, info);
  info.response_headers = nullptr;
  callbacks_->encodeHeaders(std::move(response), true);
}

void RouterFilter::sendDirectResponse(const DirectResponse& direct) {
  http::HeaderMap response;
  response.add(":status", absl::StrCat(direct.status));
  response.add("content-length", absl::StrCat(direct.body.size()));
  if (!direct.body.empty()) response.add("content-type", "text/plain");
  http::StreamInfo& info = callbacks_->streamInfo();
  info.response_code_details = "direct_response";
  info.response_headers = &response;
  applyResponseHeaderMutations(*route_, callbacks_->routeTable(), response, info);
  info.response_headers = nullptr;
  if (direct.body.empty()) {
    callbacks_->encodeHeaders(std::move(response), true);
    return;
  }
  callbacks_->encodeHeaders(std::move(response), false);
  if (done_) return;
  evbuffer_add(scratch_, direct.body.data(), direct.body.size());
  callbacks_->encodeData(scratch_, true);
}

void RouterFilter::onRequestComplete() {
  if (request_complete_) return;
  request_complete_ = true;
  // Envoy's route timeout runs from the end of the request to the end of the response.
  if (timeout_.count() > 0 && !tunnel_) global_timer_->enable(timeout_);
}

http::FilterStatus RouterFilter::decodeData(evbuffer* data, bool end_stream) {
  if (done_) return http::FilterStatus::kStop;
  if (tunnel_) {
    if (upstream_ != nullptr) {
      if (evbuffer_get_length(data) > 0) upstream_->encodeRaw(data);
      if (end_stream) upstream_->shutdownWrite();
    }
    return http::FilterStatus::kStop;
  }
  evbuffer_add_buffer(pending_, data);
  if (end_stream) onRequestComplete();
  flushPending();
  return http::FilterStatus::kStop;
}

http::FilterStatus RouterFilter::decodeTrailers(http::HeaderMap& trailers) {
  request_trailers_ = std::make_unique<http::HeaderMap>(trailers);
  onRequestComplete();
  flushPending();
  return http::FilterStatus::kStop;
}

void RouterFilter::flushPending() {
  if (upstream_ == nullptr || !request_sent_) {
    // Not connected yet: hold the body, but no more than the buffer limit.
    if (evbuffer_get_length(pending_) > callbacks_->bufferLimit() && !downstream_blocked_) {
      downstream_blocked_ = true;
      callbacks_->readDisableDownstream(true);
    }
    chargeBodies();
    return;
  }
  if (buffering_) {
    if (evbuffer_get_length(retained_) + evbuffer_get_length(pending_) >
        callbacks_->bufferLimit()) {
      // Too big to keep for a replay: this request will not be retried.
      buffering_ = false;
      evbuffer_drain(retained_, evbuffer_get_length(retained_));
    } else {
      copyBuffer(pending_, retained_);
    }
  }
  const bool end = request_complete_ && request_trailers_ == nullptr;
  if (evbuffer_get_length(pending_) > 0 || end) {
    callbacks_->streamInfo().upstream_bytes_sent += evbuffer_get_length(pending_);
    upstream_->encodeData(pending_, end);
  }
  if (request_complete_ && request_trailers_ != nullptr)
    upstream_->encodeTrailers(*request_trailers_);
  if (downstream_blocked_ && !upstream_->aboveWriteLimit()) {
    downstream_blocked_ = false;
    callbacks_->readDisableDownstream(false);
  }
  chargeBodies();
}

void RouterFilter::startAttempt() {
  if (done_) return;
  http::StreamInfo& info = callbacks_->streamInfo();
  upstream::ResourceManager* limits = breakers();
  // A retry's slot of max_retries stays taken until this attempt ends.
  attempt_retry_slot_ = scheduled_retry_slot_;
  scheduled_retry_slot_ = false;
  if (limits != nullptr && !limits->requests().canCreate()) {
    releaseBreakers();
    sendOverflow();
    return;
  }
  lb_ = &callbacks_->worker().clusters().loadBalancer(*cluster_);
  host_ = cluster_->original_dst != nullptr ? originalDstHost() : lb_->chooseHost(this);
  if (host_ == nullptr) {
    releaseBreakers();
    if (cluster_->stats) cluster_->stats->upstream_cx_none_healthy.inc();
    info.setFlag(http::kNoHealthyUpstream);
    callbacks_->sendLocalReply(503, "no healthy upstream", "no_healthy_upstream");
    return;
  }
  const RetryPolicy* policy = route_->retryPolicy();
  if (policy != nullptr && policy->avoid_previous_hosts) tried_hosts_.push_back(host_->address);
  pool_ = &callbacks_->worker().httpPools().pool(*cluster_, *host_);
  upstream::Http1ConnPool::Acquired acquired =
      pool_->acquire(*cluster_, this, this, route_->priority());
  if (acquired.outcome == upstream::Http1ConnPool::Outcome::kOverflow) {
    // An ORIGINAL_DST host counts its requests from the moment it is chosen.
    if (cluster_->original_dst != nullptr) {
      callbacks_->worker().clusters().onRequestEnd(*cluster_, *host_);
    }
    host_ = nullptr;
    lb_ = nullptr;
    releaseBreakers();
    sendOverflow();
    return;
  }
  lb_->onRequestStart(*host_);
  info.upstream_host = host_->address;
  ++info.attempt_count;
  if (cluster_->http_stats) {
    cluster_->http_stats->upstream_rq_total.inc();
    cluster_->http_stats->upstream_rq_active.inc();
  }
  if (limits != nullptr) {
    limits->requests().inc();
    holds_request_ = true;
  }
  attempt_start_ = Clock::now();
  request_sent_ = false;
  if (policy != nullptr && policy->per_try_timeout.count() > 0) {
    per_try_timer_->enable(policy->per_try_timeout);
  }
  if (acquired.outcome == upstream::Http1ConnPool::Outcome::kReady && acquired.reused) {
    setUpstream(std::move(acquired.conn));
    sendRequest();
    return;
  }
  // Waiting for a connection: connecting, or queued behind max_connections.
  if (limits != nullptr) {
    limits->pendingRequests().inc();
    holds_pending_ = true;
  }
  queued_ = acquired.outcome == upstream::Http1ConnPool::Outcome::kQueued;
  setUpstream(std::move(acquired.conn));
}

void RouterFilter::setUpstream(http::http1::ClientConnectionPtr conn) {
  upstream_ = std::move(conn);
  if (upstream_ != nullptr) upstream_->setAccount(callbacks_->bufferAccount());
}

void RouterFilter::onPoolReady(http::http1::ClientConnectionPtr conn, bool reused) {
  queued_ = false;
  setUpstream(std::move(conn));
  if (reused) {
    if (holds_pending_) {
      breakers()->pendingRequests().dec();
      holds_pending_ = false;
    }
    sendRequest();
  }
}

upstream::ResourceManager* RouterFilter::breakers() const {
  return cluster_->resources ? &cluster_->resources->at(route_->priority()) : nullptr;
}

void RouterFilter::sendOverflow() {
  http::StreamInfo& info = callbacks_->streamInfo();
  if (cluster_->stats) cluster_->stats->upstream_rq_pending_overflow.inc();
  info.setFlag(http::kUpstreamOverflow);
  http::HeaderMap extra;
  if (!config_.suppress_envoy_headers) extra.add("x-envoy-overloaded", "true");
  callbacks_->sendLocalReply(503, absl::StrCat(kResetBeforeHeaders, "overflow"),
                             "upstream_reset_before_response_started{overflow}", extra);
}

bool RouterFilter::takeRetrySlot() {
  upstream::ResourceManager* limits = breakers();
  if (limits == nullptr) return true;
  if (!limits->retries().canCreate()) {
    if (cluster_->stats) cluster_->stats->upstream_rq_retry_overflow.inc();
    return false;
  }
  limits->retries().inc();
  scheduled_retry_slot_ = true;
  return true;
}

void RouterFilter::releaseBreakers() {
  upstream::ResourceManager* limits = breakers();
  if (limits == nullptr) return;
  if (holds_pending_) limits->pendingRequests().dec();
  if (holds_request_) limits->requests().dec();
  if (attempt_retry_slot_) limits->retries().dec();
  holds_pending_ = holds_request_ = attempt_retry_slot_ = false;
}

uint32_t RouterFilter::hostSelectionRetryCount() const {
  const RetryPolicy* policy = route_->retryPolicy();
  return policy != nullptr && policy->avoid_previous_hosts && !tried_hosts_.empty()
             ? policy->host_selection_retry_max_attempts
             : 0;
}

bool RouterFilter::shouldSelectAnotherHost(const upstream::Host& host) const {
  for (const network::Address& tried : tried_hosts_) {
    if (tried.asString() == host.address.asString()) return true;
  }
  return false;
}

const upstream::Host* RouterFilter::originalDstHost() {
  const upstream::OriginalDstConfig& config = *cluster_->original_dst;
  if (config.use_http_header) {
    if (const std::string* value = request_headers_->get(config.http_header_name)) {
      auto destination = network::Address::fromIpPortText(*value);
      if (!destination.ok()) {
        if (cluster_->stats) cluster_->stats->original_dst_host_invalid.inc();
        return nullptr;
      }
      original_dst_host_ = callbacks_->worker().clusters().originalDstHost(*cluster_, *destination);
      return original_dst_host_.get();
    }
  }
  // Where the client's connection was going: the listener's address, or the original one when
  // traffic was redirected to it.
  original_dst_host_ = callbacks_->worker().clusters().originalDstHost(
      *cluster_, callbacks_->streamInfo().downstream_local_address);
  return original_dst_host_.get();
}

void RouterFilter::reportLocalOrigin(upstream::LocalOriginResult result) {
  if (host_ != nullptr && host_->outlier != nullptr) host_->outlier->putLocalOrigin(result);
}

void RouterFilter::onConnected(http::http1::ClientConnection&) {
  reportLocalOrigin(upstream::LocalOriginResult::kSuccess);
  if (holds_pending_) {
    breakers()->pendingRequests().dec();
    holds_pending_ = false;
  }
  if (cluster_->http_stats) cluster_->http_stats->upstream_cx_http1_total.inc();
  sendRequest();
}

void RouterFilter::sendRequest() {
  http::StreamInfo& info = callbacks_->streamInfo();
  const bool chunked = body_expected_ && !request_headers_->has("content-length");
  // The request's own headers are sent as they are; a copy is made only for what differs per
  // attempt, so that a retry starts again from the original.
  std::optional<http::HeaderMap> changed;
  if (route_->autoHostRewrite() || chunked) {
    changed.emplace(*request_headers_);
    if (route_->autoHostRewrite()) changed->set(":authority", host_->address.asString());
    // The downstream framing was dropped as hop-by-hop; the upstream request gets its own.
    if (chunked) changed->set("transfer-encoding", "chunked");
  }
  const http::HeaderMap& headers = changed ? *changed : *request_headers_;
  const bool replay = evbuffer_get_length(retained_) > 0;
  const bool headers_only = !body_expected_ && request_complete_;
  if (!info.first_upstream_tx_byte) info.first_upstream_tx_byte = Clock::now();
  upstream_->encodeHeaders(headers, chunked, headers_only, headers.method());
  request_sent_ = true;
  if (replay) {
    // A retry: send again what the previous attempt was sent.
    copyBuffer(retained_, scratch_);
    const bool end = request_complete_ && evbuffer_get_length(pending_) == 0 && !request_trailers_;
    upstream_->encodeData(scratch_, end);
    if (end) return;
  }
  if (!headers_only) flushPending();
}

void RouterFilter::onResponseHeaders(http::HeaderMap&& headers,
                                     const http::http1::MessageHead& head) {
  http::StreamInfo& info = callbacks_->streamInfo();
  const uint32_t status = headers.status();
  if (!info.first_upstream_rx_byte) info.first_upstream_rx_byte = Clock::now();
  if (status >= 100 && status < 200 && status != 101) {
    callbacks_->encodeHeaders(std::move(headers), false);
    return;
  }
  per_try_timer_->disable();
  if (cluster_->http_stats) cluster_->http_stats->countResponse(status);
  if (host_->outlier != nullptr) host_->outlier->putHttpStatus(status);
  if (!response_started_ && retryAllowed() && retry_state_->shouldRetryStatus(status) &&
      takeRetrySlot()) {
    endAttempt(false);
    scheduleRetry();
    return;
  }
  if (retry_state_ && retry_state_->exhausted()) info.setFlag(http::kUpstreamRetryLimitExceeded);
  if (info.attempt_count > 1 && cluster_->http_stats) {
    cluster_->http_stats->upstream_rq_retry_success.inc();
  }
  response_started_ = true;
  info.response_code_details = "via_upstream";
  if (!config_.suppress_envoy_headers) {
    const auto took =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - attempt_start_);
    headers.set("x-envoy-upstream-service-time", absl::StrCat(took.count()));
  }
  // Before the route's response mutations, which may then remove or read them, as in Envoy.
  for (const std::string& cookie : set_cookies_) headers.add("set-cookie", cookie);
  info.response_headers = &headers;
  applyResponseHeaderMutations(*route_, callbacks_->routeTable(), headers, info);
  info.response_headers = nullptr;
  const bool upgrade = head.upgrade;
  callbacks_->encodeHeaders(std::move(headers), false);
  if (done_) return;
  if (upgrade) {
    tunnel_ = true;
    global_timer_->disable();
    upstream_->switchToTunnel();
    callbacks_->switchToTunnel();
  }
}

void RouterFilter::onResponseData(evbuffer* data) {
  if (done_) return;
  callbacks_->streamInfo().upstream_bytes_received += evbuffer_get_length(data);
  callbacks_->encodeData(data, false);
}

void RouterFilter::onResponseTrailers(http::HeaderMap&& trailers) {
  // Sent on completion, after the connection is back in the pool.
  if (!done_) response_trailers_ = std::make_unique<http::HeaderMap>(std::move(trailers));
}

void RouterFilter::onResponseComplete() {
  if (done_) return;
  if (tunnel_) {
    // The server ended its side of the tunnel.
    callbacks_->encodeData(scratch_, true);
    return;
  }
  if (cluster_->http_stats) cluster_->http_stats->upstream_rq_completed.inc();
  endAttempt(true);
  if (response_trailers_ != nullptr) {
    callbacks_->encodeTrailers(std::move(*response_trailers_));
    return;
  }
  callbacks_->encodeData(scratch_, true);
}

void RouterFilter::endAttempt(bool reuse) {
  per_try_timer_->disable();
  if (queued_) {
    pool_->cancel(this);
    queued_ = false;
  }
  releaseBreakers();
  if (host_ != nullptr && lb_ != nullptr) {
    callbacks_->worker().clusters().onRequestEnd(*cluster_, *host_);
    if (cluster_->http_stats) cluster_->http_stats->upstream_rq_active.dec();
  }
  lb_ = nullptr;
  host_ = nullptr;
  if (upstream_ == nullptr) return;
  auto& dispatcher = callbacks_->worker().dispatcher();
  if (reuse && upstream_->reusable()) {
    pool_->release(std::move(upstream_));
    return;
  }
  upstream_->close();
  dispatcher.deferredDelete(std::move(upstream_));
  pool_->onConnectionClosed();
}

bool RouterFilter::retryAllowed() const {
  // A body that outgrew the buffer cannot be sent again; a tunnel is never replayed.
  return retry_state_.has_value() && buffering_ && !tunnel_ && !response_started_;
}

void RouterFilter::scheduleRetry() {
  if (cluster_->http_stats) cluster_->http_stats->upstream_rq_retry.inc();
  evbuffer_drain(pending_, 0);
  retry_timer_->enable(retry_state_->nextBackoff());
}

void RouterFilter::failBeforeResponse(uint32_t status, absl::string_view body,
                                      absl::string_view details, uint32_t flag, bool retriable) {
  http::StreamInfo& info = callbacks_->streamInfo();
  if (retriable) {
    scheduleRetry();
    return;
  }
  if (retry_state_ && retry_state_->exhausted()) {
    info.setFlag(http::kUpstreamRetryLimitExceeded);
    if (cluster_->http_stats) cluster_->http_stats->upstream_rq_retry_limit_exceeded.inc();
  }
  info.setFlag(static_cast<http::ResponseFlag>(flag));
  callbacks_->sendLocalReply(status, body, details);
}

void RouterFilter::onFailure(UpstreamFailure failure) {
  if (done_) return;
  http::StreamInfo& info = callbacks_->streamInfo();
  const bool was_tunnel = tunnel_;
  // Envoy counts every failure of the connection, resets included, as a local-origin connect
  // failure of the host.
  if (!response_started_) reportLocalOrigin(upstream::LocalOriginResult::kConnectFailed);
  endAttempt(false);
  if (was_tunnel) {
    callbacks_->resetStream();
    return;
  }
  if (response_started_) {
    // Part of the response already went out: the client can only see the connection end.
    if (cluster_->http_stats) cluster_->http_stats->upstream_rq_rx_reset.inc();
    info.setFlag(failure == UpstreamFailure::kProtocolError ? http::kUpstreamProtocolError
                                                            : http::kUpstreamConnectionTermination);
    callbacks_->resetStream();
    return;
  }
  switch (failure) {
    case UpstreamFailure::kConnectFailure:
    case UpstreamFailure::kConnectTimeout: {
      if (cluster_->stats) {
        if (failure == UpstreamFailure::kConnectTimeout) {
          cluster_->stats->upstream_cx_connect_timeout.inc();
        }
        cluster_->stats->upstream_cx_connect_fail.inc();
      }
      info.upstream_transport_failure_reason = "connection failure";
      const bool retry = retryAllowed() &&
                         retry_state_->shouldRetryFailure(AttemptFailure::kConnectFailure) &&
                         takeRetrySlot();
      failBeforeResponse(503, absl::StrCat(kResetBeforeHeaders, "connection failure"),
                         "upstream_reset_before_response_started{connection_failure}",
                         http::kUpstreamConnectionFailure, retry);
      return;
    }
    case UpstreamFailure::kRemoteClose: {
      if (cluster_->http_stats) cluster_->http_stats->upstream_rq_rx_reset.inc();
      const bool retry = retryAllowed() &&
                         retry_state_->shouldRetryFailure(AttemptFailure::kReset) &&
                         takeRetrySlot();
      failBeforeResponse(503, absl::StrCat(kResetBeforeHeaders, "connection termination"),
                         "upstream_reset_before_response_started{connection_termination}",
                         http::kUpstreamConnectionTermination, retry);
      return;
    }
    case UpstreamFailure::kProtocolError: {
      if (cluster_->http_stats) cluster_->http_stats->upstream_cx_protocol_error.inc();
      const bool retry = retryAllowed() &&
                         retry_state_->shouldRetryFailure(AttemptFailure::kReset) &&
                         takeRetrySlot();
      failBeforeResponse(502, absl::StrCat(kResetBeforeHeaders, "protocol error"),
                         "upstream_reset_before_response_started{protocol_error}",
                         http::kUpstreamProtocolError, retry);
      return;
    }
  }
}

void RouterFilter::onPerTryTimeout() {
  if (done_ || response_started_) return;
  if (cluster_->http_stats) cluster_->http_stats->upstream_rq_per_try_timeout.inc();
  reportLocalOrigin(upstream::LocalOriginResult::kTimeout);
  endAttempt(false);
  const bool retry = retryAllowed() &&
                     retry_state_->shouldRetryFailure(AttemptFailure::kPerTryTimeout) &&
                     takeRetrySlot();
  failBeforeResponse(504, "upstream request timeout", "upstream_per_try_timeout",
                     http::kUpstreamRequestTimeout, retry);
}

void RouterFilter::onGlobalTimeout() {
  if (done_) return;
  if (cluster_->http_stats) cluster_->http_stats->upstream_rq_timeout.inc();
  http::StreamInfo& info = callbacks_->streamInfo();
  info.setFlag(http::kUpstreamRequestTimeout);
  retry_timer_->disable();
  if (!response_started_) reportLocalOrigin(upstream::LocalOriginResult::kTimeout);
  endAttempt(false);
  if (response_started_) {
    callbacks_->resetStream();
    return;
  }
  callbacks_->sendLocalReply(504, "upstream request timeout", "upstream_response_timeout");
}

void RouterFilter::onAboveWriteBufferHighWatermark() {
  if (!downstream_blocked_) {
    downstream_blocked_ = true;
    callbacks_->readDisableDownstream(true);
  }
}

void RouterFilter::onBelowWriteBufferLowWatermark() {
  if (downstream_blocked_) {
    downstream_blocked_ = false;
    callbacks_->readDisableDownstream(false);
  }
}

void RouterFilter::onDownstreamAboveWriteBufferHighWatermark() {
  if (upstream_ != nullptr) upstream_->readDisable(true);
}

void RouterFilter::onDownstreamBelowWriteBufferLowWatermark() {
  if (upstream_ != nullptr) upstream_->readDisable(false);
}

void RouterFilter::onDestroy() {
  if (done_) return;
  done_ = true;
  if (global_timer_) global_timer_->disable();
  if (retry_timer_) retry_timer_->disable();
  if (per_try_timer_) per_try_timer_->disable();
  if (cluster_ != nullptr) {
    if (queued_) pool_->cancel(this);
    queued_ = false;
    releaseBreakers();
    if (scheduled_retry_slot_ && breakers() != nullptr) breakers()->retries().dec();
    scheduled_retry_slot_ = false;
  }
  if (host_ != nullptr && lb_ != nullptr) {
    callbacks_->worker().clusters().onRequestEnd(*cluster_, *host_);
    if (cluster_->http_stats) cluster_->http_stats->upstream_rq_active.dec();
    host_ = nullptr;
  }
  if (upstream_ != nullptr) {
    upstream_->close();
    callbacks_->worker().dispatcher().deferredDelete(std::move(upstream_));
    if (pool_ != nullptr) pool_->onConnectionClosed();
  }
}

}  // namespace remora::router
