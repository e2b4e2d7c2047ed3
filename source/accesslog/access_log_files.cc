// Per-thread line buffers drained by one flush thread: workers append under their own buffer's
// lock; the flush thread swaps each buffer out and writes it, every interval or when woken.
#include "source/accesslog/access_log_files.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace remora::accesslog {

struct FlushWakeup {
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> requested{false};

  // Called by workers without the mutex: a wakeup lost to a race only delays the write to the end
  // of the current interval, and workers never wait for the flush thread.
  void notify() {
    requested.store(true, std::memory_order_relaxed);
    cv.notify_one();
  }
};

struct LogFile::ThreadBuffer {
  std::mutex mu;  // Contended only while the drainer swaps the string out.
  std::string data;
  // Set when the file is gone, so threads can forget the buffer.
  std::atomic<bool> file_closed{false};
};

namespace {

std::atomic<uint64_t> next_file_id{1};

// A pipe on stdout that nobody reads must not hold shutdown forever.
constexpr int kStalledWriteTimeoutMs = 5000;

size_t countLines(std::string_view data) { return std::count(data.begin(), data.end(), '\n'); }

}  // namespace

LogFile::LogFile(std::string path, int fd, bool owns_fd, size_t flush_threshold,
                 size_t max_buffered_bytes, std::shared_ptr<FlushWakeup> wakeup)
    : path_(std::move(path)),
      fd_(fd),
      owns_fd_(owns_fd),
      id_(next_file_id.fetch_add(1)),
      flush_threshold_(flush_threshold),
      max_buffered_bytes_(max_buffered_bytes),
      wakeup_(std::move(wakeup)) {}

LogFile::~LogFile() {
  drain();
  for (const auto& b : buffers_) b->file_closed.store(true, std::memory_order_relaxed);
  if (owns_fd_) ::close(fd_);
}

LogFile::ThreadBuffer& LogFile::threadBuffer() {
  // Keyed by file id rather than pointer so a new file at a freed address never finds a stale
  // buffer; holding shared_ptrs lets the buffer outlive either the thread or the file.
  thread_local absl::flat_hash_map<uint64_t, std::shared_ptr<ThreadBuffer>> mine;
  thread_local uint64_t last_id = 0;
  thread_local ThreadBuffer* last = nullptr;
  if (last_id == id_) return *last;
  auto it = mine.find(id_);
  if (it == mine.end()) {
    absl::erase_if(mine, [](const auto& entry) {
      return entry.second->file_closed.load(std::memory_order_relaxed);
    });
    auto buffer = std::make_shared<ThreadBuffer>();
    {
      std::lock_guard<std::mutex> lock(buffers_mu_);
      buffers_.push_back(buffer);
    }
    it = mine.emplace(id_, std::move(buffer)).first;
  }
  last_id = id_;
  last = it->second.get();
  return *last;
}

void LogFile::write(std::string_view line) {
  const size_t n = line.size();
  const size_t before = pending_bytes_.fetch_add(n, std::memory_order_relaxed);
  if (before + n > max_buffered_bytes_) {
    pending_bytes_.fetch_sub(n, std::memory_order_relaxed);
    dropped_lines_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  ThreadBuffer& buffer = threadBuffer();
  {
    std::lock_guard<std::mutex> lock(buffer.mu);
    buffer.data.append(line);
  }
  if (before < flush_threshold_ && before + n >= flush_threshold_) wakeup_->notify();
}

void LogFile::drain() {
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  {
    std::lock_guard<std::mutex> lock(buffers_mu_);
    buffers = buffers_;
  }
  for (const auto& b : buffers) {
    {
      std::lock_guard<std::mutex> lock(b->mu);
      b->data.swap(batch_);
    }
    if (batch_.empty()) continue;
    writeOut(batch_);
    pending_bytes_.fetch_sub(batch_.size(), std::memory_order_relaxed);
    batch_.clear();
  }
  buffers.clear();
  // Buffers of exited threads: only buffers_ still holds them, so no thread can refill them.
  std::lock_guard<std::mutex> lock(buffers_mu_);
  buffers_.erase(std::remove_if(buffers_.begin(), buffers_.end(),
                                [](const std::shared_ptr<ThreadBuffer>& b) {
                                  if (b.use_count() != 1) return false;
                                  std::lock_guard<std::mutex> buffer_lock(b->mu);
                                  return b->data.empty();
                                }),
                 buffers_.end());
}

void LogFile::writeOut(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, kStalledWriteTimeoutMs) > 0) continue;
    }
    // Disk full, a closed pipe, or a reader that stopped reading: the rest is lost; say how much.
    dropped_lines_.fetch_add(countLines(std::string_view(data).substr(done)),
                             std::memory_order_relaxed);
    return;
  }
}

AccessLogFiles::AccessLogFiles() : AccessLogFiles(Options{}) {}

AccessLogFiles::AccessLogFiles(const Options& options)
    : options_(options), wakeup_(std::make_shared<FlushWakeup>()) {
  thread_ = std::thread([this] { run(); });
}

AccessLogFiles::~AccessLogFiles() { shutdown(); }

std::shared_ptr<LogFile> AccessLogFiles::makeFile(const std::string& path, int fd, bool owns_fd) {
  return std::shared_ptr<LogFile>(new LogFile(path, fd, owns_fd, options_.flush_threshold_bytes,
                                              options_.max_buffered_bytes, wakeup_));
}

absl::StatusOr<std::shared_ptr<LogFile>> AccessLogFiles::open(const std::string& path) {
  if (path == "/dev/stdout") return stdoutFile();
  if (path == "/dev/stderr") return stderrFile();
  std::lock_guard<std::mutex> lock(files_mu_);
  auto it = files_.find(path);
  if (it != files_.end()) return it->second;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  }
  auto file = makeFile(path, fd, true);
  files_.emplace(path, file);
  return file;
}

std::shared_ptr<LogFile> AccessLogFiles::stdoutFile() {
  std::lock_guard<std::mutex> lock(files_mu_);
  auto& file = files_["/dev/stdout"];
  if (file == nullptr) file = makeFile("/dev/stdout", options_.stdout_fd, false);
  return file;
}

std::shared_ptr<LogFile> AccessLogFiles::stderrFile() {
  std::lock_guard<std::mutex> lock(files_mu_);
  auto& file = files_["/dev/stderr"];
  if (file == nullptr) file = makeFile("/dev/stderr", options_.stderr_fd, false);
  return file;
}

void AccessLogFiles::flush() {
  std::vector<std::shared_ptr<LogFile>> files;
  {
    std::lock_guard<std::mutex> lock(files_mu_);
    for (const auto& [path, file] : files_) files.push_back(file);
  }
  std::lock_guard<std::mutex> io_lock(io_mu_);
  for (const auto& file : files) file->drain();
}

void AccessLogFiles::run() {
  std::unique_lock<std::mutex> lock(wakeup_->mu);
  while (!stopping_) {
    wakeup_->cv.wait_for(lock, options_.flush_interval, [this] {
      return stopping_ || wakeup_->requested.load(std::memory_order_relaxed);
    });
    wakeup_->requested.store(false, std::memory_order_relaxed);
    lock.unlock();
    flush();
    lock.lock();
  }
}

void AccessLogFiles::shutdown() {
  {
    std::lock_guard<std::mutex> lock(wakeup_->mu);
    stopping_ = true;
  }
  wakeup_->cv.notify_one();
  if (thread_.joinable()) thread_.join();
  flush();
}

uint64_t AccessLogFiles::droppedLines() const {
  std::lock_guard<std::mutex> lock(files_mu_);
  uint64_t total = 0;
  for (const auto& [path, file] : files_) total += file->droppedLines();
  return total;
}

}  // namespace remora::accesslog
