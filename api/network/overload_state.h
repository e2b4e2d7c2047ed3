// What the overload manager has decided, as the workers' request paths read it: one relaxed atomic
// load per request, written only by the main thread when pressure crosses a threshold.
#pragma once

#include <atomic>

namespace remora::network {

struct OverloadState {
  // New HTTP requests are answered 503 "envoy overloaded".
  std::atomic<bool> stop_accepting_requests{false};
  // HTTP/1 responses carry Connection: close.
  std::atomic<bool> disable_http_keepalive{false};
  // Accepted connections are closed at once.
  std::atomic<bool> reject_incoming_connections{false};

  // The state of a proxy without an overload manager: never overloaded.
  static const OverloadState& none() {
    static const OverloadState state;
    return state;
  }
};

}  // namespace remora::network
