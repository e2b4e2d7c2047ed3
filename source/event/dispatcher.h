// One thread's event loop: a libevent event_base plus a thread-safe queue for posting work to it.
// The main thread and every worker own exactly one; cross-thread communication is only post().
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "source/buffer/memory_account.h"

namespace remora::event {

class Dispatcher;

// A one-shot or re-armable timer bound to a dispatcher; disarmed when destroyed.
class Timer {
 public:
  Timer(Dispatcher& dispatcher, std::function<void()> cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void enable(std::chrono::milliseconds after);
  // Runs the callback from the loop as soon as the current callback chain has returned, before
  // the loop polls again: a zero-delay timer without a trip through the timer heap. disable()
  // and enable() cancel it, and enabled() is true until it runs. A callback that activates
  // itself again must not do so unconditionally, or the loop never gets back to polling.
  void activate();
  void disable();
  bool enabled() const;

 private:
  static void onFire(evutil_socket_t, short, void* arg);
  // Held inline and assigned on first use: requests create several timers each and most never
  // fire, so neither an allocation nor libevent's setup is paid for those that are never armed.
  event_base* base_;
  ::event ev_;  // ::event: plain `event` here names this namespace.
  bool assigned_ = false;
  std::function<void()> cb_;
};
using TimerPtr = std::unique_ptr<Timer>;

// Something whose destruction must wait until the current callback has unwound (a connection
// that reported its own failure, a finished request).
class DeferredDeletable {
 public:
  virtual ~DeferredDeletable() = default;
};
using DeferredDeletablePtr = std::unique_ptr<DeferredDeletable>;

class Dispatcher {
 public:
  explicit Dispatcher(std::string name);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Runs the loop on the calling thread until exit() is called.
  void run();
  // Thread-safe: makes run() return after the current iteration.
  void exit();
  // Thread-safe: runs cb on this dispatcher's thread, in posting order.
  void post(std::function<void()> cb);
  bool isThisThread() const { return std::this_thread::get_id() == thread_id_; }

  TimerPtr createTimer(std::function<void()> cb) {
    return std::make_unique<Timer>(*this, std::move(cb));
  }
  // Owner thread only: destroys `object` on a later turn of the loop, never inside the current
  // callback chain.
  void deferredDelete(DeferredDeletablePtr object);
  event_base* base() { return base_; }
  const std::string& name() const { return name_; }
  // The accounts of every buffer on this loop (total() may be read from any thread).
  buffer::MemoryTracker& bufferTracker() { return buffer_tracker_; }
  const buffer::MemoryTracker& bufferTracker() const { return buffer_tracker_; }

  // Must be called once before any dispatcher is created: makes libevent thread-aware.
  static void initializeLibevent();

 private:
  static void onPosted(evutil_socket_t, short, void* arg);
  void runPosted();

  std::string name_;
  // Declared first, destroyed last: connections still alive at shutdown credit it as they close.
  buffer::MemoryTracker buffer_tracker_;
  event_base* base_;
  ::event* post_event_;
  ::event* delete_event_;
  std::vector<DeferredDeletablePtr> to_delete_;
  std::mutex post_lock_;
  std::vector<std::function<void()>> posted_;
  std::atomic<std::thread::id> thread_id_{};
};

}  // namespace remora::event
