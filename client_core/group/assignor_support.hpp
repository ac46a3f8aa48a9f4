// What the built-in assignors share (assignor.cpp, cooperative_sticky_assignor.cpp); not for use
// outside them. Pure functions, no executor.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/group/assignor.hpp"

namespace kafka::group::detail {

// Partitions per member id, before they are grouped into the wire form.
using FlatAssignment = std::map<std::string, std::vector<TopicPartition>>;

// The members in the order Kafka's assignors use: those with a group instance id first, by
// instance id, then the others by member id.
std::vector<const GroupMember*> orderedMembers(const std::vector<GroupMember>& members);

bool subscribesTo(const GroupMember& member, std::string_view topic);

// The number of partitions of `topic`, 0 when metadata does not know it.
int32_t partitionCount(const PartitionCounts& counts, std::string_view topic);

// An empty list for every member, so that each one gets an entry in the result.
FlatAssignment emptyAssignment(const std::vector<GroupMember>& members);

std::map<std::string, MemberAssignment> toMemberAssignments(FlatAssignment flat);

std::unique_ptr<Assignor> makeCooperativeStickyAssignor();

}  // namespace kafka::group::detail
