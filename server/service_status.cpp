#include "server/service_status.hpp"

#include <sstream>

namespace kafka::sidecar {

grpc::Status unknownCluster(const ClusterRegistry& clusters, std::string_view name) {
  std::ostringstream message;
  message << "unknown cluster '" << name << "'; configured:";
  for (const auto& cluster : clusters.all()) message << " '" << cluster->name() << "'";
  return {grpc::StatusCode::NOT_FOUND, message.str()};
}

grpc::Status statusOf(const Error& error, const std::string& context) {
  grpc::StatusCode code = grpc::StatusCode::FAILED_PRECONDITION;
  switch (error.action()) {
    case ErrorAction::kRetry:
    case ErrorAction::kRefreshMetadata:
    case ErrorAction::kFindCoordinator:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case ErrorAction::kRejoinGroup:
      code = grpc::StatusCode::ABORTED;
      break;
    default:
      break;
  }
  switch (error.code) {
    case ErrorCode::kShuttingDown:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case ErrorCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case ErrorCode::kUnsupportedApi:
      code = grpc::StatusCode::UNIMPLEMENTED;
      break;
    case ErrorCode::kTopicAuthorizationFailed:
    case ErrorCode::kGroupAuthorizationFailed:
    case ErrorCode::kClusterAuthorizationFailed:
      code = grpc::StatusCode::PERMISSION_DENIED;
      break;
    default:
      break;
  }
  return {code, context + ": " + error.toString()};
}

void fillKafkaError(const Error& error, v1::KafkaError& out) {
  out.set_code(static_cast<int32_t>(error.code));
  out.set_name(errorName(error.code));
  out.set_message(error.message.empty() ? std::string(errorDescription(error.code))
                                        : error.message);
}

}  // namespace kafka::sidecar
