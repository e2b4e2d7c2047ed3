// Driving a dispatcher's loop from a test's own thread, for code that runs on the main loop.
#pragma once

#include <event2/event.h>

#include <chrono>
#include <functional>

#include "source/event/dispatcher.h"
#include "test/support/sockets.h"

namespace remora::testing {

// Turns `dispatcher`'s loop on the calling thread until `cond` holds; false if it never did
// within `limit`.
inline bool runLoopUntil(event::Dispatcher& dispatcher, const std::function<bool()>& cond,
                         std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  return waitFor(
      [&] {
        event_base_loop(dispatcher.base(), EVLOOP_NONBLOCK);
        return cond();
      },
      limit, std::chrono::milliseconds(1));
}

}  // namespace remora::testing
