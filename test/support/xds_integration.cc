#include "test/support/xds_integration.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

#include "test/support/sockets.h"

namespace remora::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const google::protobuf::Value* valueAt(const google::protobuf::Struct& s,
                                       const std::string& dotted_path) {
  const google::protobuf::Struct* current = &s;
  const google::protobuf::Value* value = nullptr;
  size_t start = 0;
  while (true) {
    const size_t dot = dotted_path.find('.', start);
    const std::string key = dotted_path.substr(start, dot - start);
    auto it = current->fields().find(key);
    if (it == current->fields().end()) return nullptr;
    value = &it->second;
    if (dot == std::string::npos) return value;
    if (!value->has_struct_value()) return nullptr;
    current = &value->struct_value();
    start = dot + 1;
  }
}

}  // namespace

void startControlPlaneBinary(MockControlPlane& cp, const std::string& binary, const TempDir& dir,
                             const std::string& initial) {
  dir.write("initial.yaml", initial);
  if (!cp.start(binary, dir.path())) FAIL(cp.error());
}

std::unique_ptr<RemoraProcess> launchRemoraBinary(const std::string& binary,
                                                  const std::string& bootstrap,
                                                  std::vector<std::string> extra_args) {
  std::vector<std::string> args = {"--concurrency", "1"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  return std::make_unique<RemoraProcess>(binary, bootstrap, std::move(args));
}

std::string ingressResources(const XdsBootstrapSpec& spec, const std::string& route_to,
                             const std::vector<EdsClusterSpec>& clusters) {
  const std::string source = configSource(spec);
  std::vector<std::string> items = {rdsListener("ingress", "ingress-routes", source),
                                    routeTo("ingress-routes", route_to)};
  for (const auto& c : clusters) {
    items.push_back(edsCluster(c.name, source));
    items.push_back(endpoints(c.name, c.ports));
  }
  return resourcesYaml(items);
}

void startXdsProxyBinaries(XdsProxy& p, const std::string& mock_cp, const std::string& remora,
                           const std::string& resources, std::vector<std::string> extra_args) {
  startControlPlaneBinary(p.cp, mock_cp, p.dir, resources);
  p.spec.xds_port = p.cp.xdsPort();
  p.remora = launchRemoraBinary(remora, xdsBootstrap(p.spec), std::move(extra_args));
  if (!p.remora->waitReady()) {
    FAIL(p.remora->error() << "\n" << p.cp.describe());
  }
  // Listeners open once the initial configuration is in place, just before /ready turns 200.
  waitFor([&] { return (p.port = p.remora->listenerPort("ingress")) != 0; }, 5s, 10ms);
  INFO(p.remora->describe());
  REQUIRE(p.port != 0);
}

int firstReadyStatus(RemoraProcess& remora) {
  int status = 0;
  waitFor(
      [&] {
        status = remora.readyStatus();
        return status != 0 || !remora.process().running();
      },
      10s, 10ms);
  return status;
}

int64_t lastRequestSeq(MockControlPlane& cp) {
  int64_t last = 0;
  for (const auto& r : cp.requests()) last = std::max(last, r.seq);
  return last;
}

std::optional<MockCpRequest> waitForReply(MockControlPlane& cp, const std::string& type_url,
                                          int64_t after_seq, int64_t version,
                                          std::chrono::milliseconds timeout) {
  const std::string v = std::to_string(version);
  return cp.waitForRequest(
      [&](const MockCpRequest& r) {
        if (r.seq <= after_seq || r.type_url != type_url || !r.ack.has_value()) return false;
        return !*r.ack || r.delta || r.version_info == v;
      },
      timeout);
}

bool pushAndAwaitAcks(MockControlPlane& cp, const std::string& yaml,
                      const std::vector<std::string>& types, std::string* error) {
  const int64_t before = lastRequestSeq(cp);
  const int64_t version = cp.setResources(yaml);
  if (version == 0) {
    *error = cp.error();
    return false;
  }
  for (const auto& type : types) {
    auto reply = waitForReply(cp, type, before, version);
    if (!reply) {
      *error = "no ACK of " + type + " version " + std::to_string(version);
      return false;
    }
    if (!*reply->ack) {
      *error = "NACK of " + type + " version " + std::to_string(version) + ": " +
               reply->error_detail.value_or("");
      return false;
    }
  }
  return true;
}

google::protobuf::Struct configDump(RemoraProcess& remora, bool include_eds) {
  google::protobuf::Struct dump;
  HttpResponse response =
      remora.admin("GET", include_eds ? "/config_dump?include_eds" : "/config_dump");
  if (response.status != 200 ||
      !google::protobuf::util::JsonStringToMessage(response.body, &dump).ok()) {
    dump.Clear();
  }
  return dump;
}

std::vector<google::protobuf::Struct> dumpEntries(const google::protobuf::Struct& dump,
                                                  const std::string& type,
                                                  const std::string& field) {
  std::vector<google::protobuf::Struct> out;
  const auto* configs = valueAt(dump, "configs");
  if (configs == nullptr) return out;
  for (const auto& config : configs->list_value().values()) {
    if (stringAt(config.struct_value(), "@type") != type) continue;
    const auto* list = valueAt(config.struct_value(), field);
    if (list == nullptr) continue;
    for (const auto& item : list->list_value().values()) out.push_back(item.struct_value());
  }
  return out;
}

std::string stringAt(const google::protobuf::Struct& s, const std::string& dotted_path) {
  const auto* value = valueAt(s, dotted_path);
  return value == nullptr ? "" : value->string_value();
}

bool hasField(const google::protobuf::Struct& s, const std::string& dotted_path) {
  return valueAt(s, dotted_path) != nullptr;
}

std::map<std::string, int> clusterHosts(RemoraProcess& remora) {
  std::map<std::string, int> out;
  HttpResponse response = remora.admin("GET", "/clusters");
  if (response.status != 200) return out;
  // "<cluster>::added_via_api::<bool>" once per cluster, "<cluster>::<host>::health_flags::..."
  // once per host.
  std::istringstream lines(response.body);
  std::string line;
  while (std::getline(lines, line)) {
    const size_t sep = line.find("::");
    if (sep == std::string::npos) continue;
    const std::string cluster = line.substr(0, sep);
    if (line.compare(sep, 16, "::added_via_api:") == 0) {
      out.try_emplace(cluster, 0);
    } else if (line.find("::health_flags::", sep) != std::string::npos) {
      ++out[cluster];
    }
  }
  return out;
}

}  // namespace remora::testing
