#include "server/service_status.hpp"

#include <sstream>

namespace kafka::sidecar {

grpc::Status unknownCluster(const ClusterRegistry& clusters, std::string_view name) {
  std::ostringstream message;
  message << "unknown cluster '" << name << "'; configured:";
  for (const auto& cluster : clusters.all()) message << " '" << cluster->name() << "'";
  return {grpc::StatusCode::NOT_FOUND, message.str()};
}

}  // namespace kafka::sidecar
