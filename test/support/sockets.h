// Loopback TCP helpers for integration tests: connect, write and read with deadlines, half-close,
// and waiting on a condition with a deadline instead of sleeping a fixed time (and timing it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace remora::testing {

using Millis = std::chrono::milliseconds;

// An owned file descriptor, closed on destruction. Move-only.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release();
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Seconds since `start`, for the figures tests print.
double secondsSince(std::chrono::steady_clock::time_point start);

// Polls cond() every `interval` until it returns true or `timeout` passes. Returns the last value.
bool waitFor(const std::function<bool()>& cond, Millis timeout, Millis interval = Millis(5));

// Connects to ip:port (non-blocking socket afterwards). Returns an invalid Fd on failure; when
// `error` is given it receives the errno (ECONNREFUSED, ETIMEDOUT, ...).
Fd connectTcp(uint16_t port, Millis timeout, int* error = nullptr,
              const std::string& ip = "127.0.0.1");

// Listening socket on 127.0.0.1:0 (non-blocking, close-on-exec).
Fd listenTcp(int backlog = 128);

// The local port a socket is bound to.
uint16_t localPort(int fd);

// Writes all of `data` before the deadline. Returns false on error or timeout.
bool writeAll(int fd, std::string_view data, Millis timeout);

// What a read saw: the bytes, and whether it ended at a clean EOF, a reset, or the deadline.
struct ReadResult {
  std::string data;
  bool eof = false;
  bool reset = false;
  bool timed_out = false;
};

// Reads until `n` bytes arrived, EOF, an error, or the deadline.
ReadResult readExactly(int fd, size_t n, Millis timeout);
// Reads until EOF, an error, or the deadline.
ReadResult readUntilEof(int fd, Millis timeout);
// Reads whatever arrives first (at most max bytes), waiting up to the deadline for something.
ReadResult readSome(int fd, size_t max, Millis timeout);

// Writes `payload` while reading the same number of bytes back (so a large echo cannot deadlock
// on full socket buffers). Returns what was read; short on error or timeout.
std::string roundTrip(int fd, std::string_view payload, Millis timeout);

// shutdown(SHUT_WR): sends FIN while keeping the read side open.
void shutdownWrite(int fd);
// Closes with a reset (SO_LINGER 0) instead of a FIN: the peer sees ECONNRESET, and no TIME_WAIT
// is left behind to use up loopback ports.
void closeWithReset(Fd& fd);

// A port on 127.0.0.1 that is bound but never listened on: connecting to it is refused, and no
// other process can take it while this object lives.
class ReservedPort {
 public:
  ReservedPort();
  uint16_t port() const { return port_; }

 private:
  Fd fd_;
  uint16_t port_ = 0;
};

// Deterministic pseudo-random payloads and a streaming checksum (FNV-1a 64) to verify transfers.
std::string patternBytes(size_t offset, size_t n);
class Checksum {
 public:
  void update(std::string_view data);
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 1469598103934665603ull;
};

}  // namespace remora::testing
