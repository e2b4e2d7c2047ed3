// Bytes of heap the process is using, as the fixed_heap resource monitor measures it.
#pragma once

#include <cstdint>

namespace remora::server {

// From jemalloc's stats when it is the allocator (build/remora), from the sanitizer's allocator
// under ASan, and from glibc's mallinfo2 otherwise. Main thread only: it may take allocator locks.
uint64_t currentHeapBytes();

}  // namespace remora::server
