#include "source/stats/store.h"

#include <algorithm>
#include <cassert>

namespace remora::stats {

namespace detail {

ThreadCells::~ThreadCells() {
  for (auto& chunk : chunks_) delete chunk.load(std::memory_order_relaxed);
}

ThreadCells::Chunk* ThreadCells::makeChunk(uint32_t chunk_index) {
  auto* chunk = new Chunk();
  chunks_[chunk_index].store(chunk, std::memory_order_release);
  return chunk;
}

uint64_t ShardedValue::total() const {
  if (store_ == nullptr) return shared_.load(std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(store_->lock_);
  return store_->totalLocked(*this);
}

void ShardedValue::setTotal(uint64_t value) {
  if (store_ == nullptr) {
    shared_.store(value, std::memory_order_relaxed);
    return;
  }
  // The thread parts cannot be reset from here (their owners write them without RMW), so the
  // shared part absorbs them. An add racing with this lands either before the set (and is
  // overwritten) or after it (and counts), as with a single atomic.
  std::lock_guard<std::mutex> lock(store_->lock_);
  shared_.store(value - store_->threadPartsLocked(index_), std::memory_order_relaxed);
}

}  // namespace detail

Store::~Store() { assert(threads_.empty() && "a stats::ThreadShard outlived its Store"); }

uint64_t Store::threadPartsLocked(uint32_t index) const {
  uint64_t sum = 0;
  for (const detail::ThreadCells* cells : threads_) sum += cells->read(index);
  return sum;
}

uint64_t Store::totalLocked(const detail::ShardedValue& value) const {
  return value.shared_.load(std::memory_order_relaxed) + threadPartsLocked(value.index_);
}

Counter& Store::counter(const std::string& name) {
  std::lock_guard<std::mutex> lock(lock_);
  auto& slot = counters_[name];
  if (!slot) {
    if (values_.size() < detail::ThreadCells::kCapacity) {
      slot.reset(new Counter(this, static_cast<uint32_t>(values_.size())));
      values_.push_back(&slot->value_);
    } else {
      slot = std::make_unique<Counter>();  // Past capacity: shared cell only, still correct.
    }
  }
  return *slot;
}

Gauge& Store::gauge(const std::string& name) {
  std::lock_guard<std::mutex> lock(lock_);
  auto& slot = gauges_[name];
  if (!slot) {
    if (values_.size() < detail::ThreadCells::kCapacity) {
      slot.reset(new Gauge(this, static_cast<uint32_t>(values_.size())));
      values_.push_back(&slot->value_);
    } else {
      slot = std::make_unique<Gauge>();
    }
  }
  return *slot;
}

Histogram& Store::histogram(const std::string& name) {
  std::lock_guard<std::mutex> lock(lock_);
  auto& slot = histograms_[name];
  if (!slot) slot = std::make_unique<Histogram>();
  return *slot;
}

std::vector<HistogramSnapshot> Store::histogramSnapshot() const {
  std::vector<HistogramSnapshot> out;
  std::lock_guard<std::mutex> lock(lock_);
  out.reserve(histograms_.size());
  // The map is ordered by name already.
  for (const auto& [name, h] : histograms_) {
    out.push_back(h->snapshot());
    out.back().name = name;
  }
  return out;
}

std::vector<Store::Entry> Store::snapshot() const {
  std::vector<Entry> out;
  {
    std::lock_guard<std::mutex> lock(lock_);
    out.reserve(counters_.size() + gauges_.size());
    for (const auto& [name, c] : counters_) {
      const auto value = static_cast<int64_t>(totalLocked(c->value_));
      out.push_back({name, true, value, value != 0});
    }
    for (const auto& [name, g] : gauges_) {
      out.push_back({name, false, static_cast<int64_t>(totalLocked(g->value_)), g->used()});
    }
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

void Store::addThread(detail::ThreadCells* cells) {
  std::lock_guard<std::mutex> lock(lock_);
  threads_.push_back(cells);
}

void Store::removeThread(detail::ThreadCells* cells) {
  std::lock_guard<std::mutex> lock(lock_);
  // Folding and unlisting under one hold of the lock: a reader counts these parts exactly once.
  for (uint32_t i = 0; i < values_.size(); ++i) {
    const uint64_t part = cells->read(i);
    if (part != 0) values_[i]->shared_.fetch_add(part, std::memory_order_relaxed);
  }
  std::erase(threads_, cells);
}

ThreadShard::ThreadShard(Store& store)
    : store_(store),
      cells_(std::make_unique<detail::ThreadCells>(&store)),
      previous_(detail::t_thread_cells) {
  store_.addThread(cells_.get());
  detail::t_thread_cells = cells_.get();
}

ThreadShard::~ThreadShard() {
  detail::t_thread_cells = previous_;
  store_.removeThread(cells_.get());
}

}  // namespace remora::stats
