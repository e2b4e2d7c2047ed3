// Buffer accounting: the tracker's total, the power-of-two classes accounts are ranked in, and
// which streams reset_high_memory_stream resets at a given pressure.
#include "source/buffer/memory_account.h"

#include <catch2/catch.hpp>
#include <vector>

namespace remora::buffer {
namespace {

struct Stream : ResetHandler {
  void resetForOverload() override { ++resets; }
  int resets = 0;
};

TEST_CASE("the tracker's total follows every charge and credit", "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  Stream s;
  AccountRef a = tracker.createAccount(s);
  a->charge(1000);
  tracker.unowned().charge(24);
  CHECK(tracker.total() == 1024);
  CHECK(a->balance() == 1000);
  a->charge(-1000);
  tracker.unowned().charge(-24);
  CHECK(tracker.total() == 0);
}

TEST_CASE("accounts are ranked in eight power-of-two classes from the minimum", "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  tracker.setMinimumToTrack(10);  // 1 KiB
  Stream s;
  AccountRef a = tracker.createAccount(s);
  a->charge(1023);
  for (int c = 0; c < MemoryTracker::kClasses; ++c) CHECK(tracker.trackedIn(c) == 0);
  a->charge(1);  // [1 KiB, 2 KiB)
  CHECK(tracker.trackedIn(0) == 1);
  a->charge(2048);  // 3 KiB: [2 KiB, 4 KiB)
  CHECK(tracker.trackedIn(0) == 0);
  CHECK(tracker.trackedIn(1) == 1);
  a->charge(1 << 20);  // Everything from 128 KiB up is the last class.
  CHECK(tracker.trackedIn(7) == 1);
  a->charge(-a->balance());
  CHECK(tracker.trackedIn(7) == 0);
  // Without buffer_factory_config nothing is ranked, as in Envoy.
  MemoryTracker untracked;
  untracked.setEnabled(true);
  AccountRef b = untracked.createAccount(s);
  b->charge(1 << 30);
  for (int c = 0; c < MemoryTracker::kClasses; ++c) CHECK(untracked.trackedIn(c) == 0);
  CHECK(untracked.resetGivenPressure(1.0) == 0);
  b->charge(-(1 << 30));
}

TEST_CASE("pressure resets the top floor(p * 8) + 1 classes, largest first", "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  tracker.setMinimumToTrack(10);
  std::vector<Stream> streams(8);
  std::vector<AccountRef> accounts;
  for (int c = 0; c < 8; ++c) {
    accounts.push_back(tracker.createAccount(streams[c]));
    accounts.back()->charge(int64_t{1024} << c);  // One account in each class.
    CHECK(tracker.trackedIn(c) == 1);
  }
  // 0.1 -> one class: only the largest stream.
  CHECK(tracker.resetGivenPressure(0.1) == 1);
  CHECK(streams[7].resets == 1);
  CHECK(streams[6].resets == 0);
  // A reset account leaves the classes: it is never reset twice.
  CHECK(tracker.trackedIn(7) == 0);
  CHECK(tracker.resetGivenPressure(0.1) == 0);
  // 0.5 -> five classes: 7..3; 7 is gone, so 6, 5, 4 and 3.
  CHECK(tracker.resetGivenPressure(0.5) == 4);
  for (int c = 3; c < 7; ++c) CHECK(streams[c].resets == 1);
  CHECK(streams[2].resets == 0);
  // Saturated (a threshold trigger): every tracked class.
  CHECK(tracker.resetGivenPressure(1.0) == 3);
  for (const auto& s : streams) CHECK(s.resets == 1);
  for (auto& a : accounts) a->charge(-a->balance());
  CHECK(tracker.total() == 0);
}

TEST_CASE("one round resets at most 50 streams", "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  tracker.setMinimumToTrack(10);
  std::vector<Stream> streams(70);
  std::vector<AccountRef> accounts;
  for (auto& s : streams) {
    accounts.push_back(tracker.createAccount(s));
    accounts.back()->charge(4096);
  }
  CHECK(tracker.resetGivenPressure(1.0) == MemoryTracker::kMaxResetsPerRound);
  CHECK(tracker.resetGivenPressure(1.0) == 20);
  for (auto& a : accounts) a->charge(-a->balance());
}

TEST_CASE("an account outlives its stream while buffers still charge it", "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  tracker.setMinimumToTrack(10);
  AccountRef held;
  {
    Stream s;
    AccountRef a = tracker.createAccount(s);
    a->charge(8192);
    held = a;  // An upstream connection closed a loop turn later than its stream.
    a->clearResetHandler();
  }
  // The stream is gone: nothing may call it, and it is no longer a candidate.
  CHECK(tracker.trackedIn(3) == 0);
  CHECK(tracker.resetGivenPressure(1.0) == 0);
  held->charge(-8192);
  CHECK(tracker.total() == 0);
  held = AccountRef();
}

TEST_CASE("a reset that releases the stream's own reference is safe", "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  tracker.setMinimumToTrack(10);
  struct SelfReleasing : ResetHandler {
    void resetForOverload() override {
      account->charge(-account->balance());
      account = AccountRef();
    }
    AccountRef account;
  } s;
  s.account = tracker.createAccount(s);
  s.account->charge(1 << 20);
  CHECK(tracker.resetGivenPressure(1.0) == 1);
  CHECK_FALSE(s.account);
  CHECK(tracker.total() == 0);
}

TEST_CASE("a limit calls back once when a charge crosses it, and again after rearm", "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  int over = 0;
  tracker.setLimit(1000, [&] { ++over; });
  Stream s;
  AccountRef a = tracker.createAccount(s);
  a->charge(1000);  // At the limit is not over it.
  CHECK(over == 0);
  a->charge(1);
  CHECK(over == 1);
  a->charge(5000);  // Still over, still pending: no second call before the first is handled.
  CHECK(over == 1);
  tracker.rearm();
  a->charge(-1);  // Still over, but releasing bytes never calls for a round.
  CHECK(over == 1);
  a->charge(-5000);
  CHECK(over == 1);
  tracker.unowned().charge(2000);  // Any account's bytes count towards the loop's limit.
  CHECK(over == 2);
  tracker.unowned().charge(-2000);
  a->charge(-1000);
}

TEST_CASE("with accounting off streams share the unowned account and nothing is tracked",
          "[buffer]") {
  MemoryTracker tracker;
  tracker.setMinimumToTrack(10);
  Stream s;
  AccountRef a = tracker.createAccount(s);
  CHECK(a.get() == &tracker.unowned());
  CHECK(tracker.resetGivenPressure(1.0) == 0);
}

}  // namespace
}  // namespace remora::buffer
