#include "source/stats/store.h"

#include <algorithm>

namespace remora::stats {

Counter& Store::counter(const std::string& name) {
  std::lock_guard<std::mutex> lock(lock_);
  auto& slot = counters_[name];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Store::gauge(const std::string& name) {
  std::lock_guard<std::mutex> lock(lock_);
  auto& slot = gauges_[name];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

std::vector<Store::Entry> Store::snapshot() const {
  std::vector<Entry> out;
  {
    std::lock_guard<std::mutex> lock(lock_);
    out.reserve(counters_.size() + gauges_.size());
    for (const auto& [name, c] : counters_) {
      const auto value = static_cast<int64_t>(c->value());
      out.push_back({name, true, value, value != 0});
    }
    for (const auto& [name, g] : gauges_) out.push_back({name, false, g->value(), g->used()});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

}  // namespace remora::stats
