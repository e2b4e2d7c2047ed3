#include "source/buffer/memory_account.h"

#include <algorithm>
#include <cmath>

namespace remora::buffer {

void MemoryAccount::clearResetHandler() {
  if (class_ >= 0) tracker_.reclass(*this, -1);
  handler_ = nullptr;
}

void MemoryAccount::destroy() {
  if (class_ >= 0) tracker_.reclass(*this, -1);
  delete this;
}

MemoryTracker::MemoryTracker() : unowned_(new MemoryAccount(*this, nullptr)) { unowned_->ref(); }

MemoryTracker::~MemoryTracker() { unowned_->unref(); }

void MemoryTracker::setMinimumToTrack(std::optional<uint32_t> power_of_two) {
  shift_ = power_of_two ? static_cast<int>(*power_of_two) : -1;
}

void MemoryTracker::setLimit(uint64_t bytes, std::function<void()> over) {
  limit_ = static_cast<int64_t>(std::min<uint64_t>(bytes, std::numeric_limits<int64_t>::max()));
  over_ = std::move(over);
  over_pending_ = false;
}

AccountRef MemoryTracker::createAccount(ResetHandler& handler) {
  if (!enabled_) return AccountRef(*unowned_);
  return AccountRef(*new MemoryAccount(*this, &handler));
}

void MemoryTracker::reclass(MemoryAccount& account, int to) {
  if (account.class_ >= 0) classes_[account.class_].erase(&account);
  if (to >= 0) classes_[to].insert(&account);
  account.class_ = static_cast<int8_t>(to);
}

uint64_t MemoryTracker::resetGivenPressure(double pressure) {
  if (shift_ < 0 || !(pressure > 0)) return 0;
  const int to_clear =
      std::min(kClasses, static_cast<int>(std::floor(std::min(pressure, 1.0) * kClasses)) + 1);
  uint64_t reset = 0;
  for (int c = kClasses - 1; c >= kClasses - to_clear && reset < kMaxResetsPerRound; --c) {
    while (!classes_[c].empty() && reset < kMaxResetsPerRound) {
      MemoryAccount* account = *classes_[c].begin();
      // Held across the handler: the reset may release the stream's own reference.
      AccountRef hold(*account);
      ResetHandler* handler = account->handler_;
      account->clearResetHandler();
      handler->resetForOverload();
      ++reset;
    }
  }
  return reset;
}

}  // namespace remora::buffer
