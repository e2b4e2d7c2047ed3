// LengthCharge keeps an account equal to the lengths its owner syncs, moves them with the owner
// to another account, and credits them at the end.
#include "source/buffer/length_charge.h"

#include <catch2/catch.hpp>

namespace remora::buffer {
namespace {

struct Stream : ResetHandler {
  void resetForOverload() override {}
};

TEST_CASE("a length charge follows the lengths it is told and credits them at the end",
          "[buffer]") {
  MemoryTracker tracker;
  tracker.setEnabled(true);
  Stream s;
  AccountRef a = tracker.createAccount(s);
  AccountRef b = tracker.createAccount(s);
  {
    LengthCharge c(*a);
    c.sync(4096);
    CHECK(a->balance() == 4096);
    c.sync(100);
    CHECK(a->balance() == 100);
    // What is charged moves with the owner (an upstream connection handed to another stream).
    c.setAccount(*b);
    CHECK(a->balance() == 0);
    CHECK(b->balance() == 100);
    c.sync(300);
    CHECK(b->balance() == 300);
    CHECK(tracker.total() == 300);
  }
  CHECK(b->balance() == 0);
  CHECK(tracker.total() == 0);
}

}  // namespace
}  // namespace remora::buffer
