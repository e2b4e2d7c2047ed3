// Whether this test binary (and so the build/remora next to it) was built with ASan or TSan:
// memory-bound checks are meaningless there, since the sanitizers quarantine freed memory.
#pragma once

namespace remora::testing {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif
#else
inline constexpr bool kSanitized = false;
#endif

}  // namespace remora::testing
