// The HTTP filter interface: what the connection manager calls for each request it decodes, and
// what a filter may call back (answer locally, send the response on, pause reading). The router
// is the terminal filter; others slot in front of it in http_filters order.
#pragma once

#include <event2/buffer.h>

#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"

namespace remora::buffer {
class MemoryAccount;
}
namespace remora::event {
class Dispatcher;
}
namespace remora::network {
class WorkerContext;
}
namespace remora::config {
struct Snapshot;
}
namespace remora::router {
class Route;
class RouteTable;
}  // namespace remora::router

namespace remora::http {

class HeaderMap;
struct StreamInfo;

enum class FilterStatus {
  kContinue,  // Pass the event on to the next filter.
  kStop,      // This filter took over; later filters do not see the event now.
};

// What the connection manager offers a filter for one request.
class StreamCallbacks {
 public:
  virtual ~StreamCallbacks() = default;
  virtual network::WorkerContext& worker() = 0;
  virtual const config::Snapshot& snapshot() = 0;
  virtual StreamInfo& streamInfo() = 0;
  // What this stream's buffers (and the upstream connection while it serves the stream) are
  // charged to, for buffer accounting.
  virtual buffer::MemoryAccount& bufferAccount() = 0;
  // The route chosen for the request headers as they are now; nullptr when none matched.
  virtual const router::Route* route() = 0;
  virtual const router::RouteTable& routeTable() = 0;

  // Answers the request from the proxy itself, in Envoy's form (text/plain body), unless a
  // response has already started, in which case the stream is reset instead.
  virtual void sendLocalReply(uint32_t status, absl::string_view body,
                              absl::string_view details) = 0;
  // The same, with `extra` response headers (x-envoy-overloaded on a circuit breaker's 503).
  virtual void sendLocalReply(uint32_t status, absl::string_view body, absl::string_view details,
                              const HeaderMap& extra) = 0;
  // The response, in order: headers once (1xx interim heads may precede via encode100Continue),
  // then data and trailers. `end_stream` marks the last call.
  virtual void encode100Continue() = 0;
  virtual void encodeHeaders(HeaderMap&& headers, bool end_stream) = 0;
  // Moves the contents of `data` (it is left empty).
  virtual void encodeData(evbuffer* data, bool end_stream) = 0;
  virtual void encodeTrailers(HeaderMap&& trailers) = 0;
  // The upstream agreed to an upgrade (101) or CONNECT (2xx): from now on raw bytes flow both
  // ways through encodeData / the filter's decodeData, with no HTTP framing.
  virtual void switchToTunnel() = 0;
  // Abandons the request: the downstream connection is closed (HTTP/1 cannot reset one stream).
  virtual void resetStream() = 0;
  // Stops (true) or resumes (false) reading the request body: the upstream is not keeping up.
  virtual void readDisableDownstream(bool disable) = 0;
  // Replaces the HCM's stream_idle_timeout for this request (a route's idle_timeout); 0 disables.
  virtual void setStreamIdleTimeout(std::chrono::milliseconds timeout) = 0;
  // Bytes queued towards the client; a filter stops reading upstream above the buffer limit.
  virtual uint32_t bufferLimit() const = 0;
};

class StreamFilter {
 public:
  virtual ~StreamFilter() = default;
  virtual void setCallbacks(StreamCallbacks& callbacks) = 0;
  virtual FilterStatus decodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  // Request body bytes; the filter moves what it keeps out of `data`.
  virtual FilterStatus decodeData(evbuffer* data, bool end_stream) = 0;
  virtual FilterStatus decodeTrailers(HeaderMap& trailers) = 0;
  // The client's output buffer rose above / fell below its limit: pause / resume the source.
  virtual void onDownstreamAboveWriteBufferHighWatermark() = 0;
  virtual void onDownstreamBelowWriteBufferLowWatermark() = 0;
  // The stream is ending (completed, reset or the client went away); release upstream resources.
  virtual void onDestroy() = 0;
};

// Built once per HCM config; makes a filter instance per request.
class StreamFilterFactory {
 public:
  virtual ~StreamFilterFactory() = default;
  virtual std::unique_ptr<StreamFilter> create() const = 0;
};

}  // namespace remora::http
