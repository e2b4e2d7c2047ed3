#include "source/upstream/health_checker.h"

#include <event2/buffer.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "source/http/header_map.h"
#include "source/http/http1/client_connection.h"
#include "source/network/connection.h"

namespace remora::upstream {

namespace {

using std::chrono::milliseconds;

constexpr uint32_t kBufferLimit = 64 * 1024;
// A TCP check whose reply grows past this without matching has failed: the peer is not speaking
// the expected protocol, and memory must stay bounded until the timeout.
constexpr size_t kMaxTcpReply = 1024 * 1024;

std::string statName(const std::string& cluster, const char* stat) {
  return "cluster." + cluster + ".health_check." + stat;
}

// Envoy's "fuzzy" payload match: every block appears, in order, not necessarily adjacent.
bool containsInOrder(const std::vector<std::string>& blocks, absl::string_view data) {
  size_t from = 0;
  for (const std::string& block : blocks) {
    const size_t at = data.find(block, from);
    if (at == absl::string_view::npos) return false;
    from = at + block.size();
  }
  return true;
}

// Appends up to `max` bytes of `from` to `to` and drains all of `from`.
void takeBytes(evbuffer* from, std::string& to, size_t max) {
  const size_t len = evbuffer_get_length(from);
  const size_t take = std::min(len, max);
  if (take > 0) {
    const size_t old = to.size();
    to.resize(old + take);
    evbuffer_copyout(from, to.data() + old, take);
  }
  evbuffer_drain(from, len);
}

// A connection closed from inside one of its own callbacks: destroyed once that has unwound.
struct ClosedConnection : event::DeferredDeletable {
  explicit ClosedConnection(network::ConnectionPtr c) : conn(std::move(c)) {}
  network::ConnectionPtr conn;
};

enum class Failure {
  kNetwork,    // Connect error, reset, protocol error or timeout: counts towards the threshold.
  kRetriable,  // A status in retriable_statuses: counts towards the threshold.
  kActive,     // The host answered and said no: unhealthy at once.
};

}  // namespace

HealthCheckStats::HealthCheckStats(stats::Store& store, const std::string& c)
    : attempt(store.counter(statName(c, "attempt"))),
      success(store.counter(statName(c, "success"))),
      failure(store.counter(statName(c, "failure"))),
      network_failure(store.counter(statName(c, "network_failure"))),
      passive_failure(store.counter(statName(c, "passive_failure"))),
      verify_cluster(store.counter(statName(c, "verify_cluster"))),
      healthy(store.gauge(statName(c, "healthy"))) {}

milliseconds baseInterval(const HealthCheckConfig& config, bool had_traffic, bool healthy,
                          bool just_changed) {
  if (!had_traffic) {
    if (healthy && config.no_traffic_healthy_interval) return *config.no_traffic_healthy_interval;
    return config.no_traffic_interval;
  }
  if (healthy) return just_changed ? config.healthy_edge_interval : config.interval;
  return just_changed ? config.unhealthy_edge_interval : config.unhealthy_interval;
}

milliseconds withJitter(milliseconds base, const HealthCheckConfig& config, FastRandom& random) {
  int64_t ms = base.count();
  if (config.interval_jitter_percent > 0) {
    const uint64_t span =
        static_cast<uint64_t>(base.count()) * config.interval_jitter_percent / 100;
    if (span > 0) ms += static_cast<int64_t>(random.below(span));
  }
  if (config.interval_jitter.count() > 0) {
    ms += static_cast<int64_t>(random.below(static_cast<uint64_t>(config.interval_jitter.count())));
  }
  return milliseconds(ms);
}

// --- One host's checks: schedule, timeout and the threshold counting. ---------------------------

class HealthChecker::Session : public event::DeferredDeletable {
 public:
  Session(HealthChecker& parent, network::Address address)
      : parent_(parent),
        address_(std::move(address)),
        interval_timer_(parent.dispatcher_.createTimer([this] { beginCheck(); })),
        timeout_timer_(parent.dispatcher_.createTimer([this] { onTimeout(); })) {}

  void start() {
    milliseconds wait{0};
    const milliseconds jitter = parent_.config_.initial_jitter;
    if (jitter.count() > 0) {
      wait = milliseconds(parent_.random_.below(static_cast<uint64_t>(jitter.count())));
    }
    interval_timer_->enable(wait);
  }

  // No more checks: timers off, connection closed. The owner then deletes the session (deferred,
  // as this may run inside one of its callbacks).
  void stop() {
    stopped_ = true;
    in_flight_ = false;
    interval_timer_->disable();
    timeout_timer_->disable();
    closeConnection();
  }

  // The traffic state changed: the pending wait is redone with the interval that now applies.
  // A first check is left alone: it is due soon anyway.
  void reschedule() {
    if (stopped_ || in_flight_ || first_check_) return;
    schedule(false);
  }

  bool healthy() const { return healthy_; }
  bool checked() const { return !first_check_; }

 protected:
  // Starts one check (connect or reuse, send); the outcome arrives through succeed()/fail().
  virtual void sendCheck() = 0;
  // Closes the check's connection, if any, without callbacks.
  virtual void closeConnection() = 0;

  bool inFlight() const { return in_flight_; }
  const HealthCheckConfig& config() const { return parent_.config_; }
  event::Dispatcher& dispatcher() { return parent_.dispatcher_; }

  void succeed() {
    if (!in_flight_) return;
    endCheck();
    parent_.stats_.success.inc();
    consecutive_failures_ = 0;
    bool changed = false;
    if (!healthy_) {
      ++consecutive_successes_;
      // A host's very first result decides at once: startup need not wait healthy_threshold
      // intervals.
      if (first_check_ || consecutive_successes_ >= config().healthy_threshold) {
        healthy_ = true;
        consecutive_successes_ = 0;
        changed = true;
        parent_.stats_.healthy.inc();
      }
    }
    if (parent_.on_check_passed_) parent_.on_check_passed_(address_.asString());
    finish(changed);
  }

  void fail(Failure failure) {
    if (!in_flight_) return;
    endCheck();
    parent_.stats_.failure.inc();
    if (failure == Failure::kNetwork) parent_.stats_.network_failure.inc();
    consecutive_successes_ = 0;
    bool changed = false;
    if (healthy_) {
      ++consecutive_failures_;
      if (failure == Failure::kActive || consecutive_failures_ >= config().unhealthy_threshold) {
        healthy_ = false;
        consecutive_failures_ = 0;
        changed = true;
        parent_.stats_.healthy.dec();
      }
    }
    finish(changed);
  }

  HealthChecker& parent_;
  const network::Address address_;

 private:
  // Schedules the next check, then reports. Last: the callbacks may remove this host (the
  // session then only waits for deletion).
  void finish(bool changed) {
    const bool first = std::exchange(first_check_, false);
    schedule(changed);
    if (changed && parent_.on_change_) parent_.on_change_(address_.asString(), healthy_);
    if (first) parent_.onFirstResult();
  }

  void beginCheck() {
    if (stopped_) return;
    in_flight_ = true;
    parent_.stats_.attempt.inc();
    timeout_timer_->enable(config().timeout);
    sendCheck();
  }

  void onTimeout() {
    if (!in_flight_) return;
    closeConnection();
    fail(Failure::kNetwork);
  }

  void endCheck() {
    in_flight_ = false;
    timeout_timer_->disable();
  }

  void schedule(bool just_changed) {
    const milliseconds base = baseInterval(config(), parent_.had_traffic_, healthy_, just_changed);
    interval_timer_->enable(withJitter(base, config(), parent_.random_));
  }

  event::TimerPtr interval_timer_;
  event::TimerPtr timeout_timer_;
  bool healthy_ = false;  // Every host starts unhealthy until checked, as in Envoy.
  bool first_check_ = true;
  bool in_flight_ = false;
  bool stopped_ = false;
  uint32_t consecutive_successes_ = 0;  // While unhealthy.
  uint32_t consecutive_failures_ = 0;   // While healthy.
};

// --- HTTP/1.1: GET <path>, judged by status (and body blocks, when configured). ----------------

class HealthChecker::HttpSession : public HealthChecker::Session,
                                   private http::http1::ClientCallbacks {
 public:
  using Session::Session;

 private:
  const HttpHealthCheckConfig& http() const { return config().http; }

  void sendCheck() override {
    // An idle connection the server closed is noticed (and dropped) by onFailure; this catches
    // one that broke without a callback reaching us.
    if (conn_ != nullptr && (conn_->closed() || conn_->idleBroken())) closeConnection();
    status_ = 0;
    body_.clear();
    if (conn_ == nullptr) {
      conn_ = std::make_unique<http::http1::ClientConnection>(
          dispatcher(), address_, config().timeout, kBufferLimit,
          static_cast<http::http1::ClientCallbacks*>(this));
      return;  // onConnected sends the request.
    }
    conn_->activate(this);
    sendRequest();
  }

  void closeConnection() override {
    if (conn_ == nullptr) return;
    conn_->close();
    dispatcher().deferredDelete(std::move(conn_));
  }

  void sendRequest() {
    http::HeaderMap headers;
    headers.add(":method", http().method);
    headers.add(":path", http().path);
    headers.add(":authority", http().host.empty() ? parent_.cluster_name_ : http().host);
    headers.add("user-agent", "Envoy/HC");
    for (const std::string& name : http().request_headers_to_remove) headers.remove(name);
    using Action = HttpHealthCheckConfig::HeaderToAdd::Action;
    for (const auto& add : http().request_headers_to_add) {
      if (add.value.empty() && !add.keep_empty_value) continue;
      switch (add.action) {
        case Action::kAppendIfExistsOrAdd:
          headers.add(add.key, add.value);
          break;
        case Action::kAddIfAbsent:
          if (!headers.has(add.key)) headers.add(add.key, add.value);
          break;
        case Action::kOverwriteIfExistsOrAdd:
          headers.set(add.key, add.value);
          break;
        case Action::kOverwriteIfExists:
          if (headers.has(add.key)) headers.set(add.key, add.value);
          break;
      }
    }
    if (!config().reuse_connection) headers.set("connection", "close");
    conn_->encodeHeaders(headers, /*chunked=*/false, /*end_stream=*/true, http().method);
  }

  // The response is in (or ended the exchange early, `reusable` false): judge it.
  void complete(bool reusable) {
    if (reusable && conn_ != nullptr && config().reuse_connection && conn_->reusable()) {
      conn_->prepareForReuse();
      conn_->setIdleCallbacks(this);
    } else {
      closeConnection();
    }
    const int status = status_;
    if (http().expects(status)) {
      if (http().receive.empty() || containsInOrder(http().receive, body_)) {
        succeed();
      } else {
        fail(Failure::kActive);
      }
    } else if (http().retriable(status)) {
      fail(Failure::kRetriable);
    } else {
      fail(Failure::kActive);
    }
  }

  // http1::ClientCallbacks
  void onConnected(http::http1::ClientConnection&) override {
    if (!inFlight()) {
      closeConnection();
      return;
    }
    sendRequest();
  }

  void onResponseHeaders(http::HeaderMap&& headers, const http::http1::MessageHead& head) override {
    const int status = headers.status();
    if (status >= 100 && status < 200 && status != 101) return;  // Interim: the final one follows.
    status_ = status;
    // A switch of protocols ends HTTP on this connection: judge the status alone.
    if (head.upgrade) complete(false);
  }

  void onResponseData(evbuffer* data) override {
    size_t room = 0;
    if (!http().receive.empty()) {
      const uint64_t limit = http().response_buffer_size;
      room = limit == 0 ? evbuffer_get_length(data)
                        : (body_.size() < limit ? static_cast<size_t>(limit - body_.size()) : 0);
    }
    takeBytes(data, body_, room);
  }

  void onResponseTrailers(http::HeaderMap&&) override {}

  void onResponseComplete() override {
    if (!inFlight()) {
      closeConnection();
      return;
    }
    complete(true);
  }

  void onFailure(http::http1::UpstreamFailure) override {
    // Also reached while idle, when the server closes a kept-alive connection: just forget it.
    closeConnection();
    if (inFlight()) fail(Failure::kNetwork);
  }

  void onAboveWriteBufferHighWatermark() override {}
  void onBelowWriteBufferLowWatermark() override {}

  http::http1::ClientConnectionPtr conn_;
  int status_ = 0;
  std::string body_;  // The part the `receive` blocks are looked for in.
};

// --- TCP: connect, then optionally send bytes and look for the reply blocks. -------------------

class HealthChecker::TcpSession : public HealthChecker::Session,
                                  private network::ConnectionCallbacks {
 public:
  using Session::Session;

 private:
  const TcpHealthCheckConfig& tcp() const { return config().tcp; }

  void sendCheck() override {
    reply_.clear();
    if (conn_ != nullptr && connected_ && !conn_->closed()) {
      writePayload();  // A kept connection: the reply is what counts.
      return;
    }
    closeConnection();
    connected_ = false;
    conn_ = network::Connection::connect(dispatcher(), address_, *this, config().timeout);
  }

  void closeConnection() override {
    if (conn_ == nullptr) return;
    conn_->close();
    dispatcher().deferredDelete(std::make_unique<ClosedConnection>(std::move(conn_)));
    connected_ = false;
  }

  void writePayload() {
    if (tcp().send.empty()) return;
    evbuffer* out = evbuffer_new();
    evbuffer_add(out, tcp().send.data(), tcp().send.size());
    conn_->write(out);
    evbuffer_free(out);
  }

  // A passing exchange. A connection is kept only when reuse is on and a reply is expected:
  // otherwise a kept socket would prove nothing on the next check.
  void pass() {
    reply_.clear();
    if (!config().reuse_connection || tcp().receive.empty()) closeConnection();
    succeed();
  }

  // network::ConnectionCallbacks
  void onData(network::Connection& conn) override {
    if (!inFlight()) {
      // Bytes nobody asked for: the stream is out of step with our checks.
      evbuffer_drain(conn.input(), evbuffer_get_length(conn.input()));
      closeConnection();
      return;
    }
    takeBytes(conn.input(), reply_, kMaxTcpReply + 1 - std::min(reply_.size(), kMaxTcpReply + 1));
    if (containsInOrder(tcp().receive, reply_)) {
      pass();
    } else if (reply_.size() > kMaxTcpReply) {
      closeConnection();
      fail(Failure::kNetwork);
    }
  }

  void onEvent(network::Connection&, network::ConnectionEvent event) override {
    using network::ConnectionEvent;
    switch (event) {
      case ConnectionEvent::kConnected:
        connected_ = true;
        conn_->readEnable(true);
        if (!inFlight()) {
          closeConnection();
          return;
        }
        writePayload();
        if (tcp().receive.empty()) pass();
        return;
      case ConnectionEvent::kWriteShutdown:
        return;
      case ConnectionEvent::kRemoteEof:
      case ConnectionEvent::kError:
      case ConnectionEvent::kConnectFailed:
      case ConnectionEvent::kConnectTimeout:
        closeConnection();
        if (inFlight()) fail(Failure::kNetwork);
        return;
    }
  }

  void onAboveWriteBufferHighWatermark(network::Connection&) override {}
  void onBelowWriteBufferLowWatermark(network::Connection&) override {}

  network::ConnectionPtr conn_;
  bool connected_ = false;
  std::string reply_;
};

// --- The checker: one session per host. ----------------------------------------------------------

HealthChecker::HealthChecker(event::Dispatcher& dispatcher, HealthCheckConfig config,
                             std::string cluster_name, stats::Store& store,
                             OnHealthChange on_change)
    : dispatcher_(dispatcher),
      config_(std::move(config)),
      cluster_name_(std::move(cluster_name)),
      stats_(store, cluster_name_),
      on_change_(std::move(on_change)),
      random_(std::random_device{}()) {}

HealthChecker::~HealthChecker() {
  for (auto& [address, session] : sessions_) {
    if (session->healthy()) stats_.healthy.dec();
    session->stop();
  }
}

std::unique_ptr<HealthChecker::Session> HealthChecker::makeSession(
    const network::Address& address) {
  if (config_.kind == HealthCheckConfig::Kind::kHttp) {
    return std::make_unique<HttpSession>(*this, address);
  }
  return std::make_unique<TcpSession>(*this, address);
}

void HealthChecker::setHosts(const std::vector<network::Address>& hosts) {
  absl::flat_hash_set<std::string> wanted;
  for (const network::Address& address : hosts) {
    if (!wanted.insert(address.asString()).second) continue;
    if (sessions_.contains(address.asString())) continue;
    auto session = makeSession(address);
    Session* started = session.get();
    sessions_.emplace(address.asString(), std::move(session));
    ++unchecked_;
    started->start();
  }
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    std::unique_ptr<Session> gone = std::move(it->second);
    sessions_.erase(it++);
    if (gone->healthy()) stats_.healthy.dec();
    if (!gone->checked()) --unchecked_;
    gone->stop();
    // Deferred: this may run inside the callback of the very session being removed.
    dispatcher_.deferredDelete(std::move(gone));
  }
}

void HealthChecker::onFirstResult() {
  if (--unchecked_ == 0 && on_first_round_) on_first_round_();
}

void HealthChecker::setHadTraffic(bool had_traffic) {
  if (had_traffic == had_traffic_) return;
  had_traffic_ = had_traffic;
  for (auto& [address, session] : sessions_) session->reschedule();
}

std::optional<bool> HealthChecker::healthy(const std::string& address) const {
  auto it = sessions_.find(address);
  if (it == sessions_.end()) return std::nullopt;
  return it->second->healthy();
}

}  // namespace remora::upstream
