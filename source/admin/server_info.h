// The /server_info and /ready bodies: Envoy's ServerInfo JSON (envoy.admin.v3.ServerInfo, proto
// field names) and the upper-case state names Envoy reports.
#pragma once

#include <string>
#include <string_view>

#include "source/admin/admin_context.h"

namespace remora::admin {

// "PRE_INITIALIZING", "INITIALIZING", "LIVE" or "DRAINING".
std::string_view serverStateName(ServerState state);

// envoy.admin.v3.CommandLineOptions as JSON, holding the options that appear on the command line
// (argv joined by spaces, argv[0] first). Options left at their defaults are omitted: only the
// server knows the values it chose. Flags we do not know are ignored.
std::string commandLineOptionsJson(std::string_view command_line);

// envoy.admin.v3.ServerInfo as JSON.
std::string serverInfoJson(const AdminContext& context);

}  // namespace remora::admin
