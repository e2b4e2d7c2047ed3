// The EDF queue behind weighted round robin and weighted least request.
#include <catch2/catch.hpp>

#include "source/upstream/edf_scheduler.h"

namespace remora::upstream {
namespace {

TEST_CASE("an empty schedule has nothing due", "[upstream]") {
  EdfScheduler s;
  CHECK(s.empty());
  CHECK_FALSE(s.pop().has_value());
}

TEST_CASE("the earliest deadline comes due first", "[upstream]") {
  EdfScheduler s;
  s.add(0, 3.0);
  s.add(1, 1.0);
  s.add(2, 2.0);
  CHECK(s.pop()->item == 1);
  CHECK(s.pop()->item == 2);
  auto last = s.pop();
  CHECK(last->item == 0);
  CHECK(last->deadline == 3.0);
}

TEST_CASE("equal deadlines come due in the order they were added", "[upstream]") {
  EdfScheduler s;
  s.add(2, 1.0);
  s.add(0, 1.0);
  s.add(1, 1.0);
  CHECK(s.pop()->item == 2);
  CHECK(s.pop()->item == 0);
  CHECK(s.pop()->item == 1);
}

}  // namespace
}  // namespace remora::upstream
