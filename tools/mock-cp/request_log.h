// Every xDS request the mock control plane received, in order, for GET /requests: tests assert on
// what a client asked, ACKed and NACKed.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace remora::mockcp {

struct RequestRecord {
  int64_t seq = 0;  // 1, 2, ... in arrival order; not reset by clear()
  int64_t stream = 0;
  std::string api;  // "ads", "lds", "rds", "cds", "eds"
  bool delta = false;
  std::string type_url;
  std::string version_info;  // SotW only
  std::string response_nonce;
  std::vector<std::string> resource_names;                       // SotW
  std::vector<std::string> subscribe;                            // delta
  std::vector<std::string> unsubscribe;                          // delta
  std::map<std::string, std::string> initial_resource_versions;  // delta
  // This request's node id, else the first one the stream sent (clients may send it once).
  std::string node_id;
  // nullopt without a nonce (a first request or a subscription change); false with error_detail.
  std::optional<bool> ack;
  std::optional<std::string> error_detail;
};

class RequestLog {
 public:
  // Assigns the record's seq.
  void add(RequestRecord record);
  void clear();
  size_t size() const;
  // A JSON array of every record as an object with the fields above, named as they are except
  // for delta's "resource_names_subscribe" and "resource_names_unsubscribe"; SotW records have no
  // delta fields and delta records no version_info or resource_names. ack and error_detail may be
  // null.
  std::string json() const;

 private:
  mutable std::mutex mu_;
  int64_t next_seq_ = 1;
  std::vector<RequestRecord> records_;
};

}  // namespace remora::mockcp
