// Partition assignors: how a consumer group's leader divides the subscribed partitions among the
// members. The names are the ones every Kafka client puts in JoinGroup, so that a sidecar
// session can lead, or follow, a group of Java, librdkafka or kafka-python consumers:
//   "range"               per topic, consecutive ranges of partitions to members in order
//   "roundrobin"          all partitions, one by one, to the members in turn
//   "cooperative-sticky"  balanced, keeping each member's current partitions where it can, and
//                         incremental: a partition that changes owner is only revoked in this
//                         rebalance and assigned in the next one (KIP-429)
// Members are ordered by group instance id where they have one, else by member id, so that a
// static member keeps its partitions across restarts. Pure functions of their input: no
// executor, no state.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/group/consumer_protocol.hpp"

namespace kafka::group {

// Eager: every member gives up everything before each rebalance. Cooperative: members keep what
// they are not asked to give up.
enum class RebalanceProtocol { kEager, kCooperative };

struct GroupMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  MemberSubscription subscription;
};

// topic -> number of partitions, from metadata. A subscribed topic missing here is assigned to
// nobody (it does not exist, or its metadata is not known yet).
using PartitionCounts = std::map<std::string, int32_t, std::less<>>;

class Assignor {
 public:
  virtual ~Assignor() = default;
  virtual std::string_view name() const = 0;
  virtual RebalanceProtocol protocol() const = 0;
  // Every member gets an entry, empty when it gets nothing. Each partition of a subscribed topic
  // goes to exactly one member subscribed to that topic (cooperative-sticky may leave a
  // partition unassigned for one round while it moves).
  virtual std::map<std::string, MemberAssignment> assign(
      const std::vector<GroupMember>& members, const PartitionCounts& partition_counts) const = 0;
};

// nullptr for a name that is not one of the assignors above.
std::unique_ptr<Assignor> makeAssignor(std::string_view name);

}  // namespace kafka::group
