#include "source/network/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <memory>

namespace remora::network {

namespace {
// Large reads keep syscalls per byte low on bulk transfers; libevent's own evbuffer_read caps at
// 4 KiB, which is why reads go through reserve/commit here.
constexpr size_t kReadSize = 64 * 1024;

static_assert(sizeof(evbuffer_iovec) == sizeof(iovec) &&
                  offsetof(evbuffer_iovec, iov_base) == offsetof(iovec, iov_base) &&
                  offsetof(evbuffer_iovec, iov_len) == offsetof(iovec, iov_len),
              "flush() hands evbuffer_iovec arrays to sendmsg as iovec");

void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}
}  // namespace

Connection::Connection(event::Dispatcher& dispatcher, ConnectionCallbacks& callbacks)
    : dispatcher_(dispatcher),
      callbacks_(callbacks),
      input_(evbuffer_new()),
      output_(evbuffer_new()),
      charge_(dispatcher.bufferTracker().unowned()) {}

Connection::Connection(event::Dispatcher& dispatcher, SocketFd fd, ConnectionCallbacks& callbacks)
    : Connection(dispatcher, callbacks) {
  attach(std::move(fd));
}

void Connection::attach(SocketFd fd) {
  fd_ = std::move(fd);
  setNoDelay(fd_.get());
  read_ev_ = event_new(dispatcher_.base(), fd_.get(), EV_READ | EV_PERSIST, &onReadable, this);
  write_ev_ = event_new(dispatcher_.base(), fd_.get(), EV_WRITE | EV_PERSIST, &onWritable, this);
  flush_ev_ = event_new(dispatcher_.base(), -1, 0, &onFlush, this);
}

std::unique_ptr<Connection> Connection::connect(event::Dispatcher& dispatcher, const Address& to,
                                                ConnectionCallbacks& callbacks,
                                                std::chrono::milliseconds timeout) {
  std::unique_ptr<Connection> conn(new Connection(dispatcher, callbacks));
  SocketFd fd(::socket(to.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int err = 0;
  if (fd.get() < 0) {
    err = errno;
  } else if (::connect(fd.get(), to.sockAddr(), to.sockLen()) != 0 && errno != EINPROGRESS) {
    err = errno;
  }
  if (fd.get() < 0) fd = SocketFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  conn->attach(std::move(fd));
  conn->connecting_ = true;
  if (err != 0) {
    // Report from the loop, never re-entrantly from inside the caller.
    conn->pending_error_ = err;
    event_active(conn->write_ev_, EV_WRITE, 0);
    return conn;
  }
  conn->updateWriteInterest();
  if (timeout.count() > 0) {
    Connection* raw = conn.get();
    conn->connect_timer_ = dispatcher.createTimer([raw] {
      if (!raw->connecting_) return;
      raw->close();
      raw->callbacks_.onEvent(*raw, ConnectionEvent::kConnectTimeout);
    });
    conn->connect_timer_->enable(timeout);
  }
  return conn;
}

Connection::~Connection() {
  close();
  evbuffer_free(input_);
  evbuffer_free(output_);
}

void Connection::close() {
  // What was written during this callback would have gone out before writes were deferred:
  // send what the socket takes now, and drop only the rest, as before.
  if (flush_scheduled_ && !connecting_ && fd_.get() >= 0) flush();
  flush_scheduled_ = false;
  if (read_ev_ != nullptr) {
    event_free(read_ev_);
    event_free(write_ev_);
    event_free(flush_ev_);
    read_ev_ = write_ev_ = flush_ev_ = nullptr;
  }
  if (connect_timer_) connect_timer_->disable();
  connecting_ = false;
  fd_.reset();
  // Never sent now; released at once rather than when the owner gets round to destroying us,
  // which may be a loop turn later (and after an overload reset, that memory is the point).
  evbuffer_drain(output_, evbuffer_get_length(output_));
  syncCharge();
}

void Connection::readEnable(bool enabled) {
  if (closed() || read_eof_ || enabled == read_enabled_) return;
  read_enabled_ = enabled;
  if (connecting_) return;  // Applied once connected.
  if (enabled) {
    event_add(read_ev_, nullptr);
  } else {
    event_del(read_ev_);
  }
}

void Connection::write(evbuffer* data) {
  if (closed() || write_shut_) {
    evbuffer_drain(data, evbuffer_get_length(data));
    return;
  }
  const bool was_empty = evbuffer_get_length(output_) == 0;
  evbuffer_add_buffer(output_, data);
  syncCharge();
  // The write happens once the current callback returns, still in this loop turn: a response's
  // head and body, or several pipelined responses, then leave in one sendmsg instead of one each,
  // and a socket that takes it all is never polled for writability.
  if (was_empty && !connecting_ && !flush_scheduled_) {
    flush_scheduled_ = true;
    event_active(flush_ev_, EV_WRITE, 0);
  }
  // With a flush pending, the limit is checked after it: a read larger than the limit that the
  // socket takes at once then costs no pause and resume of the peer.
  if (!flush_scheduled_) {
    checkHighWatermark();
    updateWriteInterest();
  }
}

void Connection::checkHighWatermark() {
  if (!above_high_watermark_ && evbuffer_get_length(output_) > buffer_limit_) {
    above_high_watermark_ = true;
    callbacks_.onAboveWriteBufferHighWatermark(*this);
  }
}

void Connection::shutdownWrite() {
  if (closed() || write_shut_ || shutdown_pending_) return;
  // Always finished from the loop, so the caller never sees a callback re-entrantly.
  shutdown_pending_ = true;
  updateWriteInterest();
}

void Connection::discardPendingInput() {
  if (closed()) return;
  char scratch[16 * 1024];
  for (int i = 0; i < 64; ++i) {
    if (::recv(fd_.get(), scratch, sizeof(scratch), MSG_DONTWAIT) <= 0) break;
  }
}

void Connection::flush() {
  while (evbuffer_get_length(output_) > 0) {
    // sendmsg rather than libevent's writev: the socket call skips the file-position locking of
    // the generic write path, and MSG_NOSIGNAL keeps a reset peer from raising SIGPIPE.
    evbuffer_iovec vec[16];
    const int nvec = evbuffer_peek(output_, -1, nullptr, vec, 16);
    msghdr msg{};
    msg.msg_iov = reinterpret_cast<iovec*>(vec);  // evbuffer_iovec is iovec's layout on Unix.
    msg.msg_iovlen = static_cast<size_t>(std::min(nvec, 16));
    const ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      evbuffer_drain(output_, static_cast<size_t>(n));
      bytes_written_ += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
    pending_error_ = n < 0 ? errno : EPIPE;
    event_active(write_ev_, EV_WRITE, 0);
    break;
  }
  syncCharge();
}

void Connection::updateWriteInterest() {
  if (closed()) return;
  const bool want =
      connecting_ || pending_error_ != 0 || shutdown_pending_ || evbuffer_get_length(output_) > 0;
  if (want == write_interest_) return;
  write_interest_ = want;
  if (want) {
    event_add(write_ev_, nullptr);
  } else {
    event_del(write_ev_);
  }
}

void Connection::raise(ConnectionEvent event) { callbacks_.onEvent(*this, event); }

void Connection::onReadable(evutil_socket_t, short, void* arg) {
  static_cast<Connection*>(arg)->handleRead();
}

void Connection::onWritable(evutil_socket_t, short, void* arg) {
  static_cast<Connection*>(arg)->handleWrite();
}

void Connection::onFlush(evutil_socket_t, short, void* arg) {
  auto* conn = static_cast<Connection*>(arg);
  conn->flush_scheduled_ = false;
  conn->handleWrite();
}

// A read into input_'s own free space would make libevent allocate (and free, once parsed) a
// chain of 64 KiB or more for every small request. Small reads therefore land in this thread's
// scratch buffer and only their bytes are copied in; a read that fills most of the buffer
// switches the connection to direct reads, so bulk transfers are never copied twice.
namespace {
char* readScratch() {
  thread_local std::unique_ptr<char[]> scratch;
  if (!scratch) scratch.reset(new char[kReadSize]);
  return scratch.get();
}
}  // namespace

void Connection::handleRead() {
  ssize_t n;
  if (bulk_reads_) {
    evbuffer_iovec vec[2];
    int nvec = evbuffer_reserve_space(input_, kReadSize, vec, 2);
    if (nvec <= 0) return;
    iovec iov[2];
    for (int i = 0; i < nvec; ++i) iov[i] = {vec[i].iov_base, vec[i].iov_len};
    n = ::readv(fd_.get(), iov, nvec);
    size_t left = n > 0 ? static_cast<size_t>(n) : 0;
    for (int i = 0; i < nvec; ++i) {
      vec[i].iov_len = std::min(left, vec[i].iov_len);
      left -= vec[i].iov_len;
    }
    evbuffer_commit_space(input_, vec, n > 0 ? nvec : 0);
  } else {
    char* scratch = readScratch();
    n = ::recv(fd_.get(), scratch, kReadSize, 0);
    if (n > 0) evbuffer_add(input_, scratch, static_cast<size_t>(n));
  }
  if (n > 0) {
    bulk_reads_ = static_cast<size_t>(n) > kReadSize / 2;
    bytes_read_ += n;
    callbacks_.onData(*this);
    // What the callback consumed (or left, when the reader is paused) is what stays charged.
    syncCharge();
    return;
  }
  if (n == 0) {
    event_del(read_ev_);
    read_enabled_ = false;
    read_eof_ = true;
    raise(ConnectionEvent::kRemoteEof);
    syncCharge();
    return;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
  close();
  raise(ConnectionEvent::kError);
}

void Connection::handleWrite() {
  if (pending_error_ != 0) {
    const bool was_connecting = connecting_;
    pending_error_ = 0;
    close();
    raise(was_connecting ? ConnectionEvent::kConnectFailed : ConnectionEvent::kError);
    return;
  }
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err == EINPROGRESS) return;
    if (err != 0) {
      close();
      raise(ConnectionEvent::kConnectFailed);
      return;
    }
    connecting_ = false;
    if (connect_timer_) connect_timer_->disable();
    if (read_enabled_) event_add(read_ev_, nullptr);
    raise(ConnectionEvent::kConnected);
    if (closed()) return;
  }
  flush();
  if (closed()) return;
  if (pending_error_ != 0) return;  // Reported on the next loop turn.
  checkHighWatermark();
  if (closed()) return;
  if (above_high_watermark_ && evbuffer_get_length(output_) <= buffer_limit_ / 2) {
    above_high_watermark_ = false;
    callbacks_.onBelowWriteBufferLowWatermark(*this);
    if (closed()) return;
  }
  if (shutdown_pending_ && evbuffer_get_length(output_) == 0) {
    ::shutdown(fd_.get(), SHUT_WR);
    shutdown_pending_ = false;
    write_shut_ = true;
    updateWriteInterest();
    raise(ConnectionEvent::kWriteShutdown);
    return;
  }
  updateWriteInterest();
}

}  // namespace remora::network
