// Finds a child of the test process by its command line, for helpers that own their Process
// privately (the mock control plane) when a test must signal it directly, e.g. SIGKILL it to
// model a crash rather than the graceful stop the helper offers.
#pragma once

#include <sys/types.h>

#include <string>

namespace remora::testing {

// The pid of a direct child of this process whose argv holds `flag` immediately followed by
// `value`; -1 when there is none.
pid_t findChildWithArg(const std::string& flag, const std::string& value);

}  // namespace remora::testing
