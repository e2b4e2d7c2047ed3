#include "source/network/original_dst.h"

#include <netinet/in.h>
#include <sys/socket.h>

namespace remora::network {

namespace {

// SO_ORIGINAL_DST (linux/netfilter_ipv4.h) and IP6T_SO_ORIGINAL_DST (ip6_tables.h): both 80. The
// kernel headers that name them clash with the C library's netinet/in.h.
constexpr int kOriginalDst = 80;

}  // namespace

Address localAddressOf(int fd, bool original_dst) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return Address();
  if (original_dst && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
    sockaddr_storage original{};
    socklen_t original_len = sizeof(original);
    const int rc = ss.ss_family == AF_INET
                       ? ::getsockopt(fd, SOL_IP, kOriginalDst, &original, &original_len)
                       : ::getsockopt(fd, SOL_IPV6, kOriginalDst, &original, &original_len);
    // Without a redirection the kernel has no entry (ENOENT): the local address is the original.
    if (rc == 0) return Address::fromSockaddr(reinterpret_cast<sockaddr*>(&original), original_len);
  }
  return Address::fromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

}  // namespace remora::network
