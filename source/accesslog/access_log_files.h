// The files access logs write to, opened once per process and shared by every config version,
// with the writing done by one background thread so workers never wait for a disk.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace remora::accesslog {

struct FlushWakeup;

// One destination of access log lines: a file opened for appending, or stdout / stderr.
class LogFile {
 public:
  ~LogFile();  // Writes what is still buffered; closes the file unless it is stdout / stderr.
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // Queues one line (the caller includes the newline) in the calling thread's buffer. Takes no
  // lock but that thread's own, never does I/O, and drops (and counts) the line when the file
  // already has its limit of bytes waiting because the disk is slower than the traffic.
  void write(std::string_view line);

  const std::string& path() const { return path_; }
  uint64_t droppedLines() const { return dropped_lines_.load(std::memory_order_relaxed); }
  // Bytes queued and not yet written.
  size_t bufferedBytes() const { return pending_bytes_.load(std::memory_order_relaxed); }

 private:
  friend class AccessLogFiles;
  struct ThreadBuffer;
  LogFile(std::string path, int fd, bool owns_fd, size_t flush_threshold, size_t max_buffered_bytes,
          std::shared_ptr<FlushWakeup> wakeup);

  ThreadBuffer& threadBuffer();
  // Writes every thread's queued lines to the fd. Called by one thread at a time (the flush
  // thread or flush(), under AccessLogFiles::io_mu_) or by the destructor.
  void drain();
  void writeOut(const std::string& data);

  const std::string path_;
  const int fd_;
  const bool owns_fd_;
  const uint64_t id_;  // Keys this file in the per-thread buffer maps; never reused.
  const size_t flush_threshold_;
  const size_t max_buffered_bytes_;
  const std::shared_ptr<FlushWakeup> wakeup_;

  std::atomic<size_t> pending_bytes_{0};
  std::atomic<uint64_t> dropped_lines_{0};

  std::mutex buffers_mu_;  // Workers take it once, to register their buffer.
  std::vector<std::shared_ptr<ThreadBuffer>> buffers_;
  std::string batch_;  // The drainer's swap partner, so buffers keep their capacity.
};

// Owned by the server, created on the main thread before the first config and destroyed after the
// last worker stops.
class AccessLogFiles {
 public:
  struct Options {
    std::chrono::milliseconds flush_interval{100};
    // Queued bytes in one file that wake the flush thread before the interval ends.
    size_t flush_threshold_bytes = 64 * 1024;
    // Queued bytes in one file beyond which lines are dropped.
    size_t max_buffered_bytes = 4 * 1024 * 1024;
    int stdout_fd = 1;  // Tests point these at files.
    int stderr_fd = 2;
  };

  AccessLogFiles();
  explicit AccessLogFiles(const Options& options);
  ~AccessLogFiles();  // shutdown()
  AccessLogFiles(const AccessLogFiles&) = delete;
  AccessLogFiles& operator=(const AccessLogFiles&) = delete;

  // The file at `path`, opened (append, created 0644 if missing) the first time it is asked for
  // and shared after that. "/dev/stdout" and "/dev/stderr" are the stdout()/stderr() files.
  // Main thread only. The error is strerror's text, e.g. "cannot open '/x/y': No such file...".
  absl::StatusOr<std::shared_ptr<LogFile>> open(const std::string& path);
  std::shared_ptr<LogFile> stdoutFile();
  std::shared_ptr<LogFile> stderrFile();

  // Writes everything queued before the call, waiting for the disk; for tests and shutdown.
  void flush();
  // Stops the flush thread after a last flush. Lines queued later are written when their file is
  // destroyed. Safe to call twice.
  void shutdown();

  // Lines dropped because a file's queue was full or a write failed, over all files.
  uint64_t droppedLines() const;

 private:
  void run();
  std::shared_ptr<LogFile> makeFile(const std::string& path, int fd, bool owns_fd);

  const Options options_;
  const std::shared_ptr<FlushWakeup> wakeup_;
  bool stopping_ = false;  // Guarded by wakeup_->mu.

  mutable std::mutex files_mu_;  // Held briefly; never across I/O.
  absl::flat_hash_map<std::string, std::shared_ptr<LogFile>> files_;
  std::mutex io_mu_;  // One drainer at a time: the flush thread or flush().
  std::thread thread_;
};

}  // namespace remora::accesslog
