// Buffer accounting, as Envoy's buffer_factory_config: every byte a connection or stream buffer
// holds is charged to an account (one per downstream connection, which for HTTP/1 is its stream),
// and each event loop's tracker keeps the total and ranks the large accounts in eight power-of-two
// classes, so that reset_high_memory_stream can reset the streams holding the most.
// Everything here belongs to one event loop's thread, except MemoryTracker::total().
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"

namespace remora::buffer {

class MemoryTracker;

// What an account's stream does when the overload manager takes its memory back.
class ResetHandler {
 public:
  virtual ~ResetHandler() = default;
  virtual void resetForOverload() = 0;
};

// Shared by the stream and by each buffer charging it (intrusive, single-threaded count): a buffer
// may outlive its stream, such as an upstream connection closed on a later loop turn.
class MemoryAccount {
 public:
  MemoryAccount(const MemoryAccount&) = delete;
  MemoryAccount& operator=(const MemoryAccount&) = delete;

  // `delta` bytes were added (positive) or released (negative).
  void charge(int64_t delta);
  int64_t balance() const { return balance_; }
  // The stream is gone: the buffers still charging the account can no longer reset it.
  void clearResetHandler();

  MemoryTracker& tracker() const { return tracker_; }

  void ref() { ++refs_; }
  void unref() {
    if (--refs_ == 0) destroy();
  }

 private:
  friend class MemoryTracker;
  MemoryAccount(MemoryTracker& tracker, ResetHandler* handler)
      : tracker_(tracker), handler_(handler) {}
  ~MemoryAccount() = default;
  void destroy();

  MemoryTracker& tracker_;
  ResetHandler* handler_;
  int64_t balance_ = 0;
  uint32_t refs_ = 0;
  int8_t class_ = -1;  // Index in the tracker's classes, or -1 while untracked.
};

class AccountRef {
 public:
  AccountRef() = default;
  explicit AccountRef(MemoryAccount& account) : account_(&account) { account_->ref(); }
  AccountRef(const AccountRef& other) : account_(other.account_) {
    if (account_ != nullptr) account_->ref();
  }
  AccountRef(AccountRef&& other) noexcept : account_(std::exchange(other.account_, nullptr)) {}
  AccountRef& operator=(AccountRef other) noexcept {
    std::swap(account_, other.account_);
    return *this;
  }
  ~AccountRef() {
    if (account_ != nullptr) account_->unref();
  }
  MemoryAccount* get() const { return account_; }
  MemoryAccount* operator->() const { return account_; }
  MemoryAccount& operator*() const { return *account_; }
  explicit operator bool() const { return account_ != nullptr; }

 private:
  MemoryAccount* account_ = nullptr;
};

class MemoryTracker {
 public:
  static constexpr int kClasses = 8;
  // Envoy's bound per reset round: the rest wait for the next refresh if pressure stays.
  static constexpr uint64_t kMaxResetsPerRound = 50;

  MemoryTracker();
  ~MemoryTracker();
  MemoryTracker(const MemoryTracker&) = delete;
  MemoryTracker& operator=(const MemoryTracker&) = delete;

  // Accounting costs a few instructions per connection event, so it is off unless the overload
  // manager needs it (buffer_factory_config or the buffered_bytes monitor): then connections
  // charge their buffers and streams get accounts of their own. Set before any is created.
  void setEnabled(bool enabled) { enabled_ = enabled; }
  bool enabled() const { return enabled_; }
  // buffer_factory_config.minimum_account_to_track_power_of_two; without it (the default) no
  // account is ranked and nothing can be reset, as in Envoy. Set before accounts are charged.
  void setMinimumToTrack(std::optional<uint32_t> power_of_two);
  // A stream's account; `handler` is called if the stream is chosen for a reset. While accounting
  // is off, the unowned account, which nothing charges.
  AccountRef createAccount(ResetHandler& handler);
  // Charged by buffers that belong to no stream (an idle pooled upstream connection, health
  // checks, admin); never reset.
  MemoryAccount& unowned() { return *unowned_; }

  // A bound on total() checked as bytes are charged, not only when a monitor samples: `over` runs
  // when a charge adds bytes while the total is above `bytes`, once until rearm(). It runs inside
  // a buffer operation, so it must only schedule work (a reset round on a later turn).
  void setLimit(uint64_t bytes, std::function<void()> over);
  void rearm() { over_pending_ = false; }

  // Bytes held by every buffer of this loop. Any thread (relaxed: a monitor's sample).
  uint64_t total() const {
    const int64_t t = total_.load(std::memory_order_relaxed);
    return t > 0 ? static_cast<uint64_t>(t) : 0;
  }
  // reset_high_memory_stream at action value `pressure` in (0, 1]: resets streams in the top
  // floor(pressure * 8) + 1 classes, largest class first, at most kMaxResetsPerRound. Returns how
  // many were reset. Each account is reset once.
  uint64_t resetGivenPressure(double pressure);
  size_t trackedIn(int klass) const { return classes_[klass].size(); }

 private:
  friend class MemoryAccount;
  // Only the owner thread writes, so a load and a store need no read-modify-write.
  void add(int64_t delta) {
    const int64_t total = total_.load(std::memory_order_relaxed) + delta;
    total_.store(total, std::memory_order_relaxed);
    // Only growth triggers: bytes being released never call for a reset round.
    if (delta > 0 && total > limit_ && !over_pending_) {
      over_pending_ = true;
      over_();
    }
  }
  int classOf(int64_t balance) const;
  void reclass(MemoryAccount& account, int to);

  std::atomic<int64_t> total_{0};
  bool enabled_ = false;
  int shift_ = -1;  // The tracking minimum's power of two; -1: no tracking.
  int64_t limit_ = std::numeric_limits<int64_t>::max();
  bool over_pending_ = false;
  std::function<void()> over_;
  std::array<absl::flat_hash_set<MemoryAccount*>, kClasses> classes_;
  MemoryAccount* unowned_;
};

inline void MemoryAccount::charge(int64_t delta) {
  balance_ += delta;
  tracker_.add(delta);
  if (handler_ != nullptr && tracker_.shift_ >= 0) {
    const int klass = tracker_.classOf(balance_);
    if (klass != class_) tracker_.reclass(*this, klass);
  }
}

inline int MemoryTracker::classOf(int64_t balance) const {
  if (balance <= 0) return -1;
  const uint64_t units = static_cast<uint64_t>(balance) >> shift_;
  if (units == 0) return -1;
  const int log2 = 63 - __builtin_clzll(units);
  return log2 < kClasses ? log2 : kClasses - 1;
}

}  // namespace remora::buffer
