// Settings of one consumer-group member. Names follow Kafka's consumer configuration where they
// mean the same thing (group.id, group.instance.id, session.timeout.ms, ...); defaults follow
// Kafka's Java client.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client_core/protocol/result.hpp"

namespace kafka::group {

struct GroupConfig {
  std::string group_id;
  // group.instance.id: a static member (KIP-345). Rejoining under the same instance id after a
  // restart takes the old member's place, and its partitions, without a rebalance. A static
  // member does not send LeaveGroup when it stops: its partitions wait for it until the session
  // timeout.
  std::optional<std::string> group_instance_id;
  // session.timeout.ms: without a heartbeat for this long, the coordinator drops the member.
  std::chrono::milliseconds session_timeout{45'000};
  // max.poll.interval.ms: how long the coordinator waits for members to rejoin in a rebalance.
  std::chrono::milliseconds rebalance_timeout{300'000};
  // heartbeat.interval.ms
  std::chrono::milliseconds heartbeat_interval{3'000};
  // partition.assignment.strategy, in order of preference; the coordinator picks the first that
  // every member lists. Range first, as in Kafka's own clients.
  std::vector<std::string> assignors{"range", "cooperative-sticky"};
  // client.rack, sent in the subscription.
  std::optional<std::string> rack_id;
  // retry.backoff.ms and retry.backoff.max.ms: before rediscovering a coordinator or retrying.
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1'000};
  // How long commits and committed-offset lookups keep retrying retriable errors.
  std::chrono::milliseconds request_deadline{30'000};
};

// A reason naming the setting at fault, for a config no group member could use: an empty group
// id or instance id, an unknown or repeated assignor, an empty assignor list, a heartbeat
// interval not below the session timeout, or a timeout or backoff that is not positive (or, for
// the session and rebalance timeouts, does not fit JoinGroup's int32 milliseconds).
Result<void> validate(const GroupConfig& config);

}  // namespace kafka::group
