#include "test/support/backends.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace remora::testing {

bool ServerConnection::wait(short events) {
  while (true) {
    pollfd fds[2] = {{fd_, events, 0}, {server_.stopFd(), POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

ReadResult ServerConnection::read(size_t max) {
  ReadResult result;
  std::string buf(max, '\0');
  while (true) {
    if (!wait(POLLIN)) {
      result.reset = true;
      return result;
    }
    ssize_t n = ::recv(fd_, buf.data(), max, 0);
    if (n > 0) {
      result.data = buf.substr(0, static_cast<size_t>(n));
      return result;
    }
    if (n == 0) {
      result.eof = true;
      return result;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      result.reset = true;
      return result;
    }
  }
}

bool ServerConnection::readUntilEof(std::string* out) {
  while (true) {
    ReadResult r = read();
    out->append(r.data);
    if (r.eof) return true;
    if (r.reset) return false;
  }
}

bool ServerConnection::write(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (!wait(POLLOUT)) return false;
  }
  return true;
}

void ServerConnection::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

TcpServer::TcpServer(Handler handler) : handler_(std::move(handler)), listener_(listenTcp()) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) == 0) {
    wake_read_.reset(fds[0]);
    wake_write_.reset(fds[1]);
  }
  port_ = listener_ ? localPort(listener_.get()) : 0;
  accept_thread_ = std::thread([this] { acceptLoop(); });
}

TcpServer::~TcpServer() { stop(); }

void TcpServer::stop() {
  if (stopped_.exchange(true)) return;
  char byte = 1;
  (void)!::write(wake_write_.get(), &byte, 1);
  if (accept_thread_.joinable()) accept_thread_.join();
  listener_.reset();
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    threads.swap(connection_threads_);
  }
  for (auto& t : threads) t.join();
}

void TcpServer::acceptLoop() {
  while (true) {
    pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    int rc = ::poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || fds[1].revents != 0) return;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    accepted_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    connection_threads_.emplace_back([this, fd] {
      Fd owned(fd);
      ServerConnection conn(fd, *this);
      handler_(conn);
    });
  }
}

EchoServer::EchoServer()
    : server_([](ServerConnection& conn) {
        while (true) {
          ReadResult r = conn.read();
          if (!r.data.empty() && !conn.write(r.data)) return;
          if (r.eof) {
            conn.shutdownWrite();
            return;
          }
          if (r.reset) return;
        }
      }) {}

GreetingServer::GreetingServer(std::string id)
    : id_(std::move(id)), server_([this](ServerConnection& conn) {
        if (!conn.write(id_)) return;
        std::string ignored;
        conn.readUntilEof(&ignored);
      }) {}

HalfCloseServer::HalfCloseServer(Mode mode, std::string greeting)
    : mode_(mode), greeting_(std::move(greeting)), server_([this](ServerConnection& conn) {
        if (mode_ == Mode::kCloseFirst) {
          if (!conn.write(greeting_)) return;
          conn.shutdownWrite();
        }
        std::string received;
        if (!conn.readUntilEof(&received)) return;
        {
          std::lock_guard<std::mutex> lock(mu_);
          completed_.push_back(received);
        }
        if (mode_ == Mode::kReplyAfterEof) {
          conn.write("received:" + received);
          conn.shutdownWrite();
        }
      }) {}

std::vector<std::string> HalfCloseServer::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

namespace {
constexpr size_t kBlastChunk = 64 * 1024;

uint64_t patternChecksum(size_t bytes) {
  Checksum sum;
  for (size_t off = 0; off < bytes; off += kBlastChunk) {
    sum.update(patternBytes(off, std::min(kBlastChunk, bytes - off)));
  }
  return sum.value();
}
}  // namespace

BlastServer::BlastServer(size_t bytes)
    : bytes_(bytes), checksum_(patternChecksum(bytes)), server_([this](ServerConnection& conn) {
        for (size_t off = 0; off < bytes_; off += kBlastChunk) {
          std::string chunk = patternBytes(off, std::min(kBlastChunk, bytes_ - off));
          if (!conn.write(chunk)) return;
          written_.fetch_add(chunk.size());
        }
        conn.shutdownWrite();
        std::string ignored;
        conn.readUntilEof(&ignored);
      }) {}

SlowSinkServer::SlowSinkServer(size_t chunk, std::chrono::milliseconds pause)
    : chunk_(chunk), pause_(pause), server_([this](ServerConnection& conn) {
        Checksum sum;
        while (true) {
          ReadResult r = conn.read(chunk_);
          sum.update(r.data);
          received_.fetch_add(r.data.size());
          if (r.eof) {
            checksum_.store(sum.value());
            done_.store(true);
            return;
          }
          if (r.reset) return;
          std::this_thread::sleep_for(pause_);  // the slow reader
        }
      }) {}

}  // namespace remora::testing
