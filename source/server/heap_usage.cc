#include "source/server/heap_usage.h"

#include <malloc.h>

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define REMORA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REMORA_ASAN 1
#endif
#endif

#ifdef REMORA_ASAN
#include <sanitizer/allocator_interface.h>
#endif

// jemalloc is linked into the remora binary only, not into the tests that share this library:
// a weak reference tells at run time whether it is there.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace remora::server {

uint64_t currentHeapBytes() {
#ifdef REMORA_ASAN
  return __sanitizer_get_current_allocated_bytes();
#else
  if (mallctl != nullptr) {
    // jemalloc's statistics are a snapshot refreshed by writing the epoch.
    uint64_t epoch = 1;
    size_t len = sizeof(epoch);
    mallctl("epoch", &epoch, &len, &epoch, len);
    size_t allocated = 0;
    len = sizeof(allocated);
    if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) == 0) return allocated;
  }
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#endif
}

}  // namespace remora::server
