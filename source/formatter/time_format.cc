// Splits a START_TIME format into civil, epoch-second and fractional-second segments, and renders
// them with a small per-thread cache of the whole-second text.
#include "source/formatter/time_format.h"

#include <array>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace remora::formatter {
namespace {

constexpr char kDefaultFormat[] = "%Y-%m-%dT%H:%M:%S.%3fZ";

std::atomic<uint64_t> next_id{1};

// A few formats per worker (one per access log, usually the default) fit without thrashing.
struct CacheEntry {
  uint64_t id = 0;
  int64_t seconds = 0;
  std::vector<std::string> parts;
};
constexpr size_t kCacheEntries = 4;

}  // namespace

TimeFormat::TimeFormat(const std::string& format) : id_(next_id.fetch_add(1)) {
  const std::string& f = format.empty() ? std::string(kDefaultFormat) : format;
  std::string civil;
  auto flush_civil = [&] {
    if (civil.empty()) return;
    segments_.push_back({Kind::kCivil, std::move(civil), 0});
    civil.clear();
  };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      civil.push_back(f[i]);
      continue;
    }
    const char next = f[i + 1];
    if (next == 's') {
      flush_civil();
      segments_.push_back({Kind::kEpochSeconds, "", 0});
      ++i;
    } else if (next == 'f') {
      flush_civil();
      segments_.push_back({Kind::kFraction, "", 9});
      ++i;
    } else if (next >= '1' && next <= '9' && i + 2 < f.size() && f[i + 2] == 'f') {
      flush_civil();
      segments_.push_back({Kind::kFraction, "", next - '0'});
      i += 2;
    } else {
      // Copied as a pair so "%%s" stays a literal "%s" and never becomes epoch seconds.
      if (next == 'E' && i + 2 < f.size() &&
          (f[i + 2] == '*' || (f[i + 2] >= '0' && f[i + 2] <= '9'))) {
        cacheable_ = false;
      }
      civil.push_back('%');
      civil.push_back(next);
      ++i;
    }
  }
  flush_civil();
}

void TimeFormat::renderWholeSeconds(int64_t seconds, std::vector<std::string>& parts) const {
  parts.resize(segments_.size());
  const absl::Time t = absl::FromUnixSeconds(seconds);
  for (size_t i = 0; i < segments_.size(); ++i) {
    switch (segments_[i].kind) {
      case Kind::kCivil:
        parts[i] = absl::FormatTime(segments_[i].civil, t, absl::UTCTimeZone());
        break;
      case Kind::kEpochSeconds:
        parts[i] = absl::StrCat(seconds);
        break;
      case Kind::kFraction:
        parts[i].clear();
        break;
    }
  }
}

void TimeFormat::format(std::chrono::system_clock::time_point t, std::string& out) const {
  const int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  int64_t seconds = ns / 1000000000;
  int64_t nanos = ns % 1000000000;
  if (nanos < 0) {  // Before 1970: the fraction counts up from the earlier whole second.
    nanos += 1000000000;
    --seconds;
  }

  thread_local std::array<CacheEntry, kCacheEntries> cache;
  thread_local size_t next_victim = 0;
  thread_local std::vector<std::string> uncached;
  const std::vector<std::string>* parts = nullptr;
  if (cacheable_) {
    for (CacheEntry& e : cache) {
      if (e.id == id_ && e.seconds == seconds) parts = &e.parts;
    }
    if (parts == nullptr) {
      CacheEntry* slot = nullptr;
      for (CacheEntry& e : cache) {
        if (e.id == id_) slot = &e;
      }
      if (slot == nullptr) {
        slot = &cache[next_victim];
        next_victim = (next_victim + 1) % kCacheEntries;
      }
      slot->id = id_;
      slot->seconds = seconds;
      renderWholeSeconds(seconds, slot->parts);
      parts = &slot->parts;
    }
  } else {
    // absl's own sub-second conversions need the exact time, not the whole second.
    uncached.resize(segments_.size());
    const absl::Time exact = absl::FromChrono(t);
    for (size_t i = 0; i < segments_.size(); ++i) {
      if (segments_[i].kind == Kind::kCivil) {
        uncached[i] = absl::FormatTime(segments_[i].civil, exact, absl::UTCTimeZone());
      } else if (segments_[i].kind == Kind::kEpochSeconds) {
        uncached[i] = absl::StrCat(seconds);
      }
    }
    parts = &uncached;
  }

  for (size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i].kind != Kind::kFraction) {
      out.append((*parts)[i]);
      continue;
    }
    // Truncated, not rounded, so a time never reads as later than it was.
    int64_t value = nanos;
    for (int d = segments_[i].digits; d < 9; ++d) value /= 10;
    char digits[9];
    for (int d = segments_[i].digits - 1; d >= 0; --d) {
      digits[d] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    out.append(digits, segments_[i].digits);
  }
}

}  // namespace remora::formatter
