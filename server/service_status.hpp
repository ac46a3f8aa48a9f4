// gRPC statuses that more than one kafka.sidecar.v1 service answers with, so that they read the
// same whichever service an application calls. Free functions, any thread.
#pragma once

#include <grpcpp/support/status.h>

#include <string_view>

#include "client_core/cluster/cluster.hpp"

namespace kafka::sidecar {

// NOT_FOUND naming `name` and the clusters that are configured.
grpc::Status unknownCluster(const ClusterRegistry& clusters, std::string_view name);

}  // namespace kafka::sidecar
