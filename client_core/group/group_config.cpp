#include "client_core/group/group_config.hpp"

#include <algorithm>
#include <limits>

#include "client_core/group/assignor.hpp"

namespace kafka::group {

namespace {

constexpr std::chrono::milliseconds kMaxWireTimeout{std::numeric_limits<int32_t>::max()};

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

// JoinGroup carries the session and rebalance timeouts as int32 milliseconds.
Result<void> checkWireTimeout(std::string_view name, std::chrono::milliseconds value) {
  if (value.count() < 1 || value > kMaxWireTimeout) {
    return invalid(std::string(name) + " (" + std::to_string(value.count()) +
                   ") must be between 1 and " + std::to_string(kMaxWireTimeout.count()));
  }
  return {};
}

}  // namespace

Result<void> validate(const GroupConfig& config) {
  if (config.group_id.empty()) return invalid("group.id must not be empty");
  if (config.group_instance_id && config.group_instance_id->empty()) {
    return invalid("group.instance.id must not be empty when it is set");
  }
  if (auto r = checkWireTimeout("session.timeout.ms", config.session_timeout); !r.ok()) return r;
  if (auto r = checkWireTimeout("max.poll.interval.ms", config.rebalance_timeout); !r.ok()) {
    return r;
  }
  if (config.heartbeat_interval.count() < 1 ||
      config.heartbeat_interval >= config.session_timeout) {
    return invalid("heartbeat.interval.ms (" + std::to_string(config.heartbeat_interval.count()) +
                   ") must be positive and below session.timeout.ms (" +
                   std::to_string(config.session_timeout.count()) + ")");
  }
  if (config.assignors.empty()) {
    return invalid("partition.assignment.strategy must name at least one assignor");
  }
  for (auto it = config.assignors.begin(); it != config.assignors.end(); ++it) {
    if (!makeAssignor(*it)) {
      return invalid("partition.assignment.strategy: unknown assignor '" + *it +
                     "' (known: range, roundrobin, cooperative-sticky)");
    }
    if (std::find(config.assignors.begin(), it, *it) != it) {
      return invalid("partition.assignment.strategy names '" + *it + "' twice");
    }
  }
  if (config.retry_backoff.count() < 1 || config.retry_backoff_max < config.retry_backoff) {
    return invalid("retry.backoff.ms must be positive and at most retry.backoff.max.ms");
  }
  if (config.request_deadline.count() < 1) {
    return invalid("the request deadline must be positive");
  }
  return {};
}

}  // namespace kafka::group
