// envoy.filters.http.router: forwards a request to the route's cluster over a pooled HTTP/1.1
// connection, streams the response back, and owns the upstream side's timeouts and retries.
// A request body is kept for replay only while it fits the buffer limit; past that, no retry.
#pragma once

#include <event2/buffer.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/http/filter.h"
#include "api/upstream/load_balancer.h"
#include "source/buffer/length_charge.h"
#include "source/event/dispatcher.h"
#include "source/http/header_map.h"
#include "source/http/http1/client_connection.h"
#include "source/router/retry_policy.h"
#include "source/router/route_table.h"
#include "source/upstream/cluster.h"
#include "source/upstream/http1_conn_pool.h"

namespace remora::upstream {
enum class LocalOriginResult;
}

namespace remora::router {

struct RouterConfig {
  // suppress_envoy_headers: no x-envoy-upstream-service-time / x-envoy-expected-rq-timeout-ms.
  bool suppress_envoy_headers = false;
};

class RouterFilter : public http::StreamFilter,
                     private http::http1::ClientCallbacks,
                     private upstream::LoadBalancerContext,
                     private upstream::PoolWaiter {
 public:
  explicit RouterFilter(const RouterConfig& config);
  ~RouterFilter() override;

  void setCallbacks(http::StreamCallbacks& callbacks) override {
    callbacks_ = &callbacks;
    body_charge_.emplace(callbacks.bufferAccount());
  }
  http::FilterStatus decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  http::FilterStatus decodeData(evbuffer* data, bool end_stream) override;
  http::FilterStatus decodeTrailers(http::HeaderMap& trailers) override;
  void onDownstreamAboveWriteBufferHighWatermark() override;
  void onDownstreamBelowWriteBufferLowWatermark() override;
  void onDestroy() override;

 private:
  // http1::ClientCallbacks: the current attempt's upstream connection.
  void onConnected(http::http1::ClientConnection& conn) override;
  void onResponseHeaders(http::HeaderMap&& headers, const http::http1::MessageHead& head) override;
  void onResponseData(evbuffer* data) override;
  void onResponseTrailers(http::HeaderMap&& trailers) override;
  void onResponseComplete() override;
  void onFailure(http::http1::UpstreamFailure failure) override;
  void onAboveWriteBufferHighWatermark() override;
  void onBelowWriteBufferLowWatermark() override;
  // upstream::LoadBalancerContext
  std::optional<uint64_t> hashKey() const override { return hash_key_; }

  // upstream::PoolWaiter: a connection for an attempt that waited (max_connections).
  void onPoolReady(http::http1::ClientConnectionPtr conn, bool reused) override;
  // retry host predicate previous_hosts.
  uint32_t hostSelectionRetryCount() const override;
  bool shouldSelectAnotherHost(const upstream::Host& host) const override;

  void startAttempt();
  // ORIGINAL_DST: the request's destination (the configured header, else the connection's local
  // address); null when the header holds no IP:port.
  const upstream::Host* originalDstHost();
  // To the outlier detector of the attempt's host, when its cluster has one.
  void reportLocalOrigin(upstream::LocalOriginResult result);
  // A circuit breaker refused the attempt: 503 with x-envoy-overloaded, flag UO.
  void sendOverflow();
  // Takes a slot of the max_retries breaker (or retry budget) for a retry the policy wants;
  // false, counting upstream_rq_retry_overflow, when the breaker is open.
  bool takeRetrySlot();
  // Gives back what the current attempt holds of the breakers (pending, request, retry).
  void releaseBreakers();
  upstream::ResourceManager* breakers() const;
  void sendRequest();
  void flushPending();
  // The attempt's connection; its buffers are charged to this stream while it serves it.
  void setUpstream(http::http1::ClientConnectionPtr conn);
  // Brings the stream's account up to what pending_ and retained_ hold.
  void chargeBodies() {
    if (body_charge_->enabled()) {
      body_charge_->sync(evbuffer_get_length(pending_) + evbuffer_get_length(retained_));
    }
  }
  void onRequestComplete();
  // Ends the current attempt: the connection is closed (or returned when `reuse`).
  void endAttempt(bool reuse);
  bool retryAllowed() const;
  void scheduleRetry();
  void onPerTryTimeout();
  void onGlobalTimeout();
  // A failure before any response reached the client: retry, or answer locally.
  void failBeforeResponse(uint32_t status, absl::string_view body, absl::string_view details,
                          uint32_t flag, bool retriable);
  void sendRedirect();
  void sendDirectResponse(const DirectResponse& direct);

  const RouterConfig& config_;
  http::StreamCallbacks* callbacks_ = nullptr;
  const Route* route_ = nullptr;
  const upstream::Cluster* cluster_ = nullptr;
  http::HeaderMap* request_headers_ = nullptr;
  std::unique_ptr<http::HeaderMap> request_trailers_;
  std::unique_ptr<http::HeaderMap> response_trailers_;
  std::optional<RetryState> retry_state_;
  // The route's hash_policy applied to this request, once, before the first attempt; retries
  // reuse it. Cookies the policy generated go out on the upstream response.
  std::optional<uint64_t> hash_key_;
  std::vector<std::string> set_cookies_;
  evbuffer* pending_;   // Body not yet written to the current attempt.
  evbuffer* retained_;  // Everything sent so far, for a replay; only while buffering_.
  evbuffer* scratch_;   // Reused for local bodies, replays and end markers; empty between uses.
  // pending_ and retained_, charged to the stream's account.
  std::optional<buffer::LengthCharge> body_charge_;
  bool buffering_ = true;
  bool body_expected_ = false;  // The request has a body (framing needed upstream).
  bool request_complete_ = false;
  bool request_sent_ = false;      // Current attempt: head written.
  bool response_started_ = false;  // A final head went to the client: no more retries.
  bool downstream_blocked_ = false;
  bool tunnel_ = false;
  bool done_ = false;
  http::http1::ClientConnectionPtr upstream_;
  upstream::LoadBalancer* lb_ = nullptr;
  const upstream::Host* host_ = nullptr;
  // Keeps host_ alive when it is an ORIGINAL_DST host: its worker may drop it with its cluster.
  std::shared_ptr<const upstream::Host> original_dst_host_;
  upstream::Http1ConnPool* pool_ = nullptr;  // The current attempt's; pools live with the worker.
  bool queued_ = false;                      // Waiting in pool_ for a connection.
  bool holds_pending_ = false;               // Counted in max_pending_requests until connected.
  bool holds_request_ = false;               // Counted in max_requests for this attempt.
  // A max_retries slot: taken when a retry is scheduled, held by the retry attempt until it ends.
  bool scheduled_retry_slot_ = false;
  bool attempt_retry_slot_ = false;
  // Addresses earlier attempts went to, for previous_hosts; rarely more than a few.
  std::vector<network::Address> tried_hosts_;
  std::chrono::steady_clock::time_point attempt_start_;
  std::chrono::milliseconds timeout_{0};
  // Held inline: a request creates all three, so a heap allocation each would be paid per request.
  std::optional<event::Timer> global_timer_;
  std::optional<event::Timer> per_try_timer_;
  std::optional<event::Timer> retry_timer_;
};

class RouterFilterFactory : public http::StreamFilterFactory {
 public:
  explicit RouterFilterFactory(RouterConfig config) : config_(config) {}
  std::unique_ptr<http::StreamFilter> create() const override {
    return std::make_unique<RouterFilter>(config_);
  }

 private:
  RouterConfig config_;
};

}  // namespace remora::router
