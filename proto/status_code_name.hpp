// The names of gRPC status codes as the API documents them and clients print them
// ("INVALID_ARGUMENT", ...): ksctl's error lines and the REST gateway's JSON errors.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

namespace kafka::sidecar {

std::string_view statusCodeName(grpc::StatusCode code);

}  // namespace kafka::sidecar
