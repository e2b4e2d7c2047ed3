// Where an accepted connection was going. Redirected by iptables (REDIRECT), it reached this
// listener's port, but the kernel remembers the address the client connected to; sidecars route
// by that (ORIGINAL_DST clusters).
#pragma once

#include "source/network/address.h"

namespace remora::network {

// The accepted socket's local address, or, with `original_dst`, the address before redirection
// when the kernel has one (SO_ORIGINAL_DST); otherwise the local address.
Address localAddressOf(int fd, bool original_dst);

}  // namespace remora::network
