// Consumer group inspection for the Admin API: listing every group of a cluster (ListGroups,
// which each broker answers for the groups it coordinates, so every broker is asked) and
// describing one group (DescribeGroups, asked of the group's coordinator, found with
// FindCoordinator).
//
// Both fail as a whole when the cluster's metadata cannot be fetched and when the broker does
// not support the API (kUnsupportedApi, "the broker does not support ListGroups ...").
//
// Free functions; each operation runs on a strand of its own on `executor`, keeps itself alive
// until it is done, and calls `done` once, on that strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::admin {

struct ListedGroup {
  std::string group;
  // "consumer" for Kafka consumers, "connect" for Kafka Connect workers..., empty for groups
  // that only store offsets (simple consumers, or reset offsets).
  std::string protocol_type;
  // Empty, Stable, PreparingRebalance, CompletingRebalance, Dead...; empty when the broker's
  // ListGroups version predates group states (v3 and below, before Kafka 2.6).
  std::string state;
  NodeId coordinator = kNoNode;  // the broker that listed it
};

struct BrokerFailure {
  NodeId node = kNoNode;
  Error error;
};

struct GroupListing {
  std::vector<ListedGroup> groups;      // ordered by group id
  std::vector<BrokerFailure> failures;  // brokers that could not say, ordered by node id
};

// Every broker is asked (failures that the table calls passing are retried, up to three
// attempts); a broker that cannot answer is reported in `failures` and its groups are missing.
// Fails as a whole when every broker failed, with the first broker's error.
void listGroups(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                std::chrono::milliseconds timeout, std::function<void(Result<GroupListing>)> done);

struct DescribedMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;  // static members only
  std::string client_id;
  std::string host;
  // For protocol type "consumer": the partitions assigned to the member, sorted. A member whose
  // assignment does not decode has `assignment_error` (MALFORMED_MESSAGE) set instead.
  std::vector<TopicPartition> assignment;
  Error assignment_error;
};

struct GroupDescription {
  std::string group;
  // As in ListedGroup. A group the coordinator does not know is Dead, with no members, whatever
  // the broker's version (from Kafka 4.0 brokers answer GROUP_ID_NOT_FOUND instead).
  std::string state;
  std::string protocol_type;
  std::string protocol;  // the assignor in use ("range", "cooperative-sticky"...), when Stable
  NodeId coordinator = kNoNode;
  std::vector<DescribedMember> members;
};

// Describes `group` as its coordinator sees it. Fails as a whole for an empty group id
// (kInvalidArgument), when no coordinator can be found before the timeout, and for errors the
// coordinator answers about the group (GROUP_AUTHORIZATION_FAILED, INVALID_GROUP_ID...).
void describeGroup(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                   std::string group, std::chrono::milliseconds timeout,
                   std::function<void(Result<GroupDescription>)> done);

}  // namespace kafka::admin
