// gRPC statuses and KafkaErrors that more than one kafka.sidecar.v1 service answers with, so that
// they read the same whichever service an application calls. Free functions, any thread.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

#include "client_core/cluster/cluster.hpp"
#include "kafka/sidecar/v1/common.pb.h"

namespace kafka::sidecar {

// NOT_FOUND naming `name` and the clusters that are configured.
grpc::Status unknownCluster(const ClusterRegistry& clusters, std::string_view name);

// The status of a call that a Kafka error failed as a whole: UNAVAILABLE for what may pass on a
// retry, ABORTED for a rebalance, INVALID_ARGUMENT, PERMISSION_DENIED, UNIMPLEMENTED for an API
// the brokers do not support, else FAILED_PRECONDITION. The message is "CONTEXT: " and the
// error.
grpc::Status statusOf(const Error& error, const std::string& context);

// The API's KafkaError for `error`: its code, the code's name, and its message (or, when it has
// none, the code's description).
void fillKafkaError(const Error& error, v1::KafkaError& out);

}  // namespace kafka::sidecar
