// A callback run on a dispatcher's loop once for any number of trigger() calls before it runs:
// many changes in one loop turn (health verdicts, DNS answers) make one snapshot.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "source/event/dispatcher.h"

namespace remora::event {

class CoalescedCallback {
 public:
  CoalescedCallback(Dispatcher& dispatcher, std::function<void()> callback)
      : dispatcher_(dispatcher), callback_(std::move(callback)) {}
  // A run still posted finds nothing to call.
  ~CoalescedCallback() { *alive_ = false; }
  CoalescedCallback(const CoalescedCallback&) = delete;
  CoalescedCallback& operator=(const CoalescedCallback&) = delete;

  // Owner thread only.
  void trigger() {
    if (pending_) return;
    pending_ = true;
    dispatcher_.post([this, alive = alive_] {
      if (!*alive) return;
      pending_ = false;
      if (callback_) callback_();
    });
  }

 private:
  Dispatcher& dispatcher_;
  std::function<void()> callback_;
  bool pending_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace remora::event
