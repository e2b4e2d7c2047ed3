// The admin endpoints Envoy serves and Remora supports: /, /help, /ready, /server_info, /stats,
// /stats/prometheus, /clusters, /config_dump, /listeners and POST /quitquitquit.
#pragma once

#include "source/admin/admin_context.h"
#include "source/admin/admin_server.h"

namespace remora::admin {

// Registers every default endpoint on server. context must outlive server.
void registerDefaultHandlers(AdminServer& server, AdminContext& context);

}  // namespace remora::admin
