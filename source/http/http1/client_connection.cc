#include "source/http/http1/client_connection.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "source/http/http1/encoder.h"

namespace remora::http::http1 {

namespace {

// Response heads from upstreams get the codec's default limits; only requests take the HCM's.
ParserLimits responseLimits() {
  ParserLimits limits;
  limits.max_headers_bytes = 96 * 1024;
  limits.max_headers_count = 200;
  return limits;
}

bool saysClose(const HeaderMap& headers) {
  const std::string* c = headers.get("connection");
  return c != nullptr && hasToken(*c, "close");
}

}  // namespace

ClientConnection::ClientConnection(event::Dispatcher& dispatcher, const network::Address& to,
                                   std::chrono::milliseconds connect_timeout, uint32_t buffer_limit,
                                   ClientCallbacks* callbacks)
    : address_(to),
      callbacks_(callbacks),
      parser_(MessageType::kResponse, *this, responseLimits()),
      body_(evbuffer_new()),
      out_(evbuffer_new()) {
  conn_ = network::Connection::connect(dispatcher, to, *this, connect_timeout);
  conn_->setBufferLimit(buffer_limit);
}

ClientConnection::~ClientConnection() {
  close();
  evbuffer_free(body_);
  evbuffer_free(out_);
}

void ClientConnection::setStats(std::shared_ptr<upstream::ClusterStats> stats) {
  stats_ = std::move(stats);
  stats_->upstream_cx_total.inc();
  stats_->upstream_cx_active.inc();
}

void ClientConnection::close() {
  if (closed_) return;
  closed_ = true;
  if (slot_ != nullptr) {
    slot_->dec();
    slot_ = nullptr;
    slot_owner_.reset();
  }
  // Closed first: closing sends what this callback wrote, which the byte count must include.
  if (conn_) {
    conn_->discardPendingInput();
    conn_->close();
  }
  if (stats_) {
    stats_->upstream_cx_active.dec();
    stats_->upstream_cx_destroy.inc();
    if (closed_by_remote_) {
      stats_->upstream_cx_destroy_remote.inc();
    } else {
      stats_->upstream_cx_destroy_local.inc();
    }
    stats_->upstream_cx_rx_bytes_total.inc(conn_->bytesRead());
    stats_->upstream_cx_tx_bytes_total.inc(conn_->bytesWritten());
  }
}

void ClientConnection::readDisable(bool disable) {
  if (!closed_ && connected_) conn_->readEnable(!disable);
}

void ClientConnection::encodeHeaders(const HeaderMap& headers, bool chunked, bool end_stream,
                                     absl::string_view method) {
  parser_.setRequestMethod(method);
  request_chunked_ = chunked;
  if (saysClose(headers)) close_after_ = true;
  encodeRequestHead(headers, out_);
  if (end_stream) {
    if (chunked) encodeLastChunk(nullptr, out_);
    request_complete_ = true;
  }
  conn_->write(out_);
}

void ClientConnection::encodeData(evbuffer* data, bool end_stream) {
  if (closed_) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  if (tunnel_) {
    conn_->write(data);
    return;
  }
  if (request_chunked_) {
    if (evbuffer_get_length(data) > 0) encodeChunk(data, out_);
    if (end_stream) encodeLastChunk(nullptr, out_);
  } else {
    evbuffer_add_buffer(out_, data);
  }
  if (end_stream) request_complete_ = true;
  conn_->write(out_);
}

void ClientConnection::encodeTrailers(const HeaderMap& trailers) {
  if (closed_) return;
  // Trailers exist only in chunked framing; with a content-length they cannot be sent.
  if (request_chunked_) encodeLastChunk(&trailers, out_);
  request_complete_ = true;
  conn_->write(out_);
}

void ClientConnection::switchToTunnel() {
  tunnel_ = true;
  close_after_ = true;
  // Bytes that arrived with the 101 head belong to the tunnel.
  if (evbuffer_get_length(conn_->input()) > 0) callbacks_->onResponseData(conn_->input());
}

bool ClientConnection::reusable() const {
  return !closed_ && connected_ && !close_after_ && !tunnel_ && request_complete_ &&
         response_complete_ && evbuffer_get_length(conn_->input()) == 0;
}

void ClientConnection::prepareForReuse() {
  parser_.reset();
  have_headers_ = have_trailers_ = message_complete_ = false;
  request_complete_ = response_complete_ = false;
  request_chunked_ = false;
  idle_ = true;
  conn_->clearAccount();
  conn_->readEnable(true);
}

void ClientConnection::fail(UpstreamFailure failure) {
  if (failure == UpstreamFailure::kRemoteClose) closed_by_remote_ = true;
  close();
  if (idle_) {
    idle_broken_ = true;
    if (callbacks_ != nullptr) callbacks_->onFailure(failure);
    return;
  }
  callbacks_->onFailure(failure);
}

void ClientConnection::onEvent(network::Connection&, network::ConnectionEvent event) {
  using network::ConnectionEvent;
  switch (event) {
    case ConnectionEvent::kConnected:
      connected_ = true;
      conn_->readEnable(true);
      callbacks_->onConnected(*this);
      return;
    case ConnectionEvent::kConnectFailed:
      fail(UpstreamFailure::kConnectFailure);
      return;
    case ConnectionEvent::kConnectTimeout:
      fail(UpstreamFailure::kConnectTimeout);
      return;
    case ConnectionEvent::kRemoteEof:
      if (tunnel_) {
        // The server finished its side of the tunnel: a zero-length end marker.
        callbacks_->onResponseComplete();
        return;
      }
      if (!idle_ && have_headers_ && !response_complete_ && parser_.onEof()) {
        // A close-delimited body ends here.
        response_complete_ = true;
        closed_by_remote_ = true;
        close_after_ = true;
        callbacks_->onResponseComplete();
        return;
      }
      if (!idle_ && response_complete_) {
        close_after_ = true;
        closed_by_remote_ = true;
        return;
      }
      fail(UpstreamFailure::kRemoteClose);
      return;
    case ConnectionEvent::kError:
      fail(UpstreamFailure::kRemoteClose);
      return;
    case ConnectionEvent::kWriteShutdown:
      return;
  }
}

void ClientConnection::onAboveWriteBufferHighWatermark(network::Connection&) {
  if (callbacks_ != nullptr && !idle_) callbacks_->onAboveWriteBufferHighWatermark();
}

void ClientConnection::onBelowWriteBufferLowWatermark(network::Connection&) {
  if (callbacks_ != nullptr && !idle_) callbacks_->onBelowWriteBufferLowWatermark();
}

void ClientConnection::onData(network::Connection&) {
  if (idle_) {
    // A server may only speak when asked; anything now means it is closing or confused.
    fail(UpstreamFailure::kRemoteClose);
    return;
  }
  if (tunnel_) {
    callbacks_->onResponseData(conn_->input());
    return;
  }
  parse();
}

void ClientConnection::parse() {
  evbuffer* in = conn_->input();
  while (!closed_ && !response_complete_ && evbuffer_get_length(in) > 0) {
    size_t len = evbuffer_get_length(in);
    evbuffer_iovec vec;
    evbuffer_peek(in, -1, nullptr, &vec, 1);
    size_t consumed = parser_.execute(static_cast<const char*>(vec.iov_base), vec.iov_len);
    if (consumed == 0 && !parser_.hasError() && vec.iov_len < len) {
      // The head spans chains: make it contiguous (bounded by the head limit plus a margin).
      size_t want = std::min<size_t>(len, responseLimits().max_headers_bytes + 1024);
      const char* p = reinterpret_cast<const char*>(evbuffer_pullup(in, want));
      consumed = parser_.execute(p, want);
    }
    evbuffer_drain(in, consumed);
    if (parser_.hasError()) {
      fail(UpstreamFailure::kProtocolError);
      return;
    }
    // Deliver what this pass produced, in order. A callback may destroy the request that owns
    // us only through deferred deletion, so `this` stays valid for the rest of the pass.
    if (have_headers_) {
      have_headers_ = false;
      HeaderMap headers = std::move(pending_headers_);
      pending_headers_.clear();
      if (!pending_head_.keep_alive || saysClose(headers)) close_after_ = true;
      callbacks_->onResponseHeaders(std::move(headers), pending_head_);
      if (closed_) return;
      if (pending_head_.upgrade) {
        // Tunnel: the rest of the input is raw; the holder calls switchToTunnel().
        return;
      }
    }
    if (evbuffer_get_length(body_) > 0) callbacks_->onResponseData(body_);
    if (closed_) return;
    if (have_trailers_) {
      have_trailers_ = false;
      callbacks_->onResponseTrailers(std::move(pending_trailers_));
      pending_trailers_.clear();
      if (closed_) return;
    }
    if (message_complete_) {
      message_complete_ = false;
      response_complete_ = true;
      ++requests_served_;
      callbacks_->onResponseComplete();
      return;
    }
    if (consumed == 0) return;  // Need more bytes.
  }
}

void ClientConnection::onHeaders(HeaderMap&& headers, const MessageHead& head) {
  const int status = headers.status();
  if (status >= 100 && status < 200 && status != 101) {
    // Interim heads (100 Continue) go out at once: a final head may follow in the same bytes.
    callbacks_->onResponseHeaders(std::move(headers), head);
    return;
  }
  pending_headers_ = std::move(headers);
  pending_head_ = head;
  have_headers_ = true;
}

void ClientConnection::onBody(absl::string_view data) {
  evbuffer_add(body_, data.data(), data.size());
}

void ClientConnection::onTrailers(HeaderMap&& trailers) {
  pending_trailers_ = std::move(trailers);
  have_trailers_ = true;
}

void ClientConnection::onMessageComplete() { message_complete_ = true; }

}  // namespace remora::http::http1
