// Keeps an account charged with the length of buffers, as measured by their owner at points of its
// choosing (a connection: after each read, write, flush and close), so that the request path pays
// a subtraction per event instead of a callback per buffer operation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "source/buffer/memory_account.h"

namespace remora::buffer {

class LengthCharge {
 public:
  explicit LengthCharge(MemoryAccount& account)
      : account_(account), enabled_(account.tracker().enabled()) {}
  ~LengthCharge() { sync(0); }
  LengthCharge(const LengthCharge&) = delete;
  LengthCharge& operator=(const LengthCharge&) = delete;

  // Whether syncing is worth measuring for: the loop's buffer accounting is on (read once, as the
  // tracker is set up before any buffer charges it; later accounts belong to the same loop).
  bool enabled() const { return enabled_; }
  // The buffers hold `length` bytes now.
  void sync(size_t length) {
    if (length == charged_) return;
    account_->charge(static_cast<int64_t>(length) - static_cast<int64_t>(charged_));
    charged_ = length;
  }
  // What is charged now moves to `account`, and later syncs charge it.
  void setAccount(MemoryAccount& account) {
    if (&account == account_.get()) return;
    account_->charge(-static_cast<int64_t>(charged_));
    account_ = AccountRef(account);
    account_->charge(static_cast<int64_t>(charged_));
  }
  MemoryAccount& account() const { return *account_; }

 private:
  AccountRef account_;
  const bool enabled_;
  size_t charged_ = 0;
};

}  // namespace remora::buffer
