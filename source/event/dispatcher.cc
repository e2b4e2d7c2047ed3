#include "source/event/dispatcher.h"

#include <event2/thread.h>

#include <stdexcept>

namespace remora::event {

Timer::Timer(Dispatcher& dispatcher, std::function<void()> cb)
    : base_(dispatcher.base()), cb_(std::move(cb)) {}

Timer::~Timer() {
  if (assigned_) event_del(&ev_);
}

void Timer::enable(std::chrono::milliseconds after) {
  if (!assigned_) {
    evtimer_assign(&ev_, base_, &Timer::onFire, this);
    assigned_ = true;
  }
  timeval tv{static_cast<time_t>(after.count() / 1000),
             static_cast<suseconds_t>((after.count() % 1000) * 1000)};
  evtimer_add(&ev_, &tv);
}

void Timer::activate() {
  if (!assigned_) {
    evtimer_assign(&ev_, base_, &Timer::onFire, this);
    assigned_ = true;
  }
  event_active(&ev_, EV_TIMEOUT, 1);
}

void Timer::disable() {
  if (assigned_) evtimer_del(&ev_);
}

bool Timer::enabled() const { return assigned_ && evtimer_pending(&ev_, nullptr) != 0; }

void Timer::onFire(evutil_socket_t, short, void* arg) {
  // Copy: the callback may destroy this timer.
  auto cb = static_cast<Timer*>(arg)->cb_;
  cb();
}

void Dispatcher::initializeLibevent() {
  static const bool once = [] {
    evthread_use_pthreads();
    return true;
  }();
  (void)once;
}

Dispatcher::Dispatcher(std::string name) : name_(std::move(name)) {
  initializeLibevent();
  base_ = event_base_new();
  if (base_ == nullptr) throw std::runtime_error("event_base_new failed");
  post_event_ = event_new(base_, -1, 0, &Dispatcher::onPosted, this);
  delete_event_ = event_new(
      base_, -1, 0,
      [](evutil_socket_t, short, void* arg) {
        auto* self = static_cast<Dispatcher*>(arg);
        // Destructors may defer more deletions; loop until none are left.
        while (!self->to_delete_.empty()) {
          std::vector<DeferredDeletablePtr> batch;
          batch.swap(self->to_delete_);
        }
      },
      this);
  thread_id_ = std::this_thread::get_id();
}

Dispatcher::~Dispatcher() {
  while (!to_delete_.empty()) {
    std::vector<DeferredDeletablePtr> batch;
    batch.swap(to_delete_);
  }
  event_free(delete_event_);
  event_free(post_event_);
  event_base_free(base_);
}

void Dispatcher::run() {
  thread_id_ = std::this_thread::get_id();
  // A pending persistent event keeps the loop alive even with nothing else registered.
  ::event* keepalive = event_new(
      base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
  timeval year{365 * 24 * 3600, 0};
  event_add(keepalive, &year);
  event_base_dispatch(base_);
  event_free(keepalive);
  runPosted();  // Work posted while exiting still runs, so nothing posted is silently lost.
}

void Dispatcher::exit() {
  post([this] { event_base_loopbreak(base_); });
}

void Dispatcher::post(std::function<void()> cb) {
  bool first;
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    first = posted_.empty();
    posted_.push_back(std::move(cb));
  }
  if (first) event_active(post_event_, EV_READ, 0);
}

void Dispatcher::deferredDelete(DeferredDeletablePtr object) {
  if (object == nullptr) return;
  if (to_delete_.empty()) event_active(delete_event_, EV_READ, 0);
  to_delete_.push_back(std::move(object));
}

void Dispatcher::onPosted(evutil_socket_t, short, void* arg) {
  static_cast<Dispatcher*>(arg)->runPosted();
}

void Dispatcher::runPosted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> lock(post_lock_);
    work.swap(posted_);
  }
  for (auto& cb : work) cb();
}

}  // namespace remora::event
