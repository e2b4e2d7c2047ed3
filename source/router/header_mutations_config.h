// Compiles one level's request_headers_to_add / _remove (or the response pair) from route config
// protos into HeaderMutations, rejecting what Envoy rejects, with field paths.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "envoy/config/core/v3/base.pb.h"
#include "google/protobuf/repeated_field.h"
#include "source/router/header_mutations.h"

namespace remora::router {

// `parent` is the path of the message holding both fields; `add_field` / `remove_field` name them
// (e.g. "request_headers_to_add", "request_headers_to_remove").
absl::StatusOr<HeaderMutations> compileHeaderMutations(
    const google::protobuf::RepeatedPtrField<envoy::config::core::v3::HeaderValueOption>& adds,
    const google::protobuf::RepeatedPtrField<std::string>& removes, const std::string& parent,
    absl::string_view add_field, absl::string_view remove_field);

}  // namespace remora::router
