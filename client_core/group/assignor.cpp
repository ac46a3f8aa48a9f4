// The eager assignors, "range" and "roundrobin", and what all assignors share. Both reproduce
// Kafka's Java assignors partition for partition (without rack awareness), so that a group
// gets the same answer whichever client leads it.
#include "client_core/group/assignor.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>
#include <utility>

#include "client_core/group/assignor_support.hpp"

namespace kafka::group {
namespace detail {

std::vector<const GroupMember*> orderedMembers(const std::vector<GroupMember>& members) {
  std::vector<const GroupMember*> ordered;
  ordered.reserve(members.size());
  for (const GroupMember& m : members) ordered.push_back(&m);
  std::sort(ordered.begin(), ordered.end(), [](const GroupMember* a, const GroupMember* b) {
    // Static members first; the member id breaks ties only to keep the order total.
    return std::tuple(!a->group_instance_id.has_value(), a->group_instance_id, a->member_id) <
           std::tuple(!b->group_instance_id.has_value(), b->group_instance_id, b->member_id);
  });
  return ordered;
}

bool subscribesTo(const GroupMember& member, std::string_view topic) {
  const auto& topics = member.subscription.topics;
  return std::find(topics.begin(), topics.end(), topic) != topics.end();
}

int32_t partitionCount(const PartitionCounts& counts, std::string_view topic) {
  auto it = counts.find(topic);
  return it == counts.end() ? 0 : std::max(it->second, 0);
}

FlatAssignment emptyAssignment(const std::vector<GroupMember>& members) {
  FlatAssignment flat;
  for (const GroupMember& m : members) flat[m.member_id];
  return flat;
}

std::map<std::string, MemberAssignment> toMemberAssignments(FlatAssignment flat) {
  std::map<std::string, MemberAssignment> result;
  for (auto& [member_id, partitions] : flat) {
    result[member_id].partitions = groupByTopic(std::move(partitions));
  }
  return result;
}

}  // namespace detail
namespace {

// Per topic, the members subscribed to it in order split its partitions into consecutive
// ranges; the first (count % members) of them get one more.
class RangeAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "range"; }
  RebalanceProtocol protocol() const override { return RebalanceProtocol::kEager; }

  std::map<std::string, MemberAssignment> assign(
      const std::vector<GroupMember>& members,
      const PartitionCounts& partition_counts) const override {
    std::map<std::string, std::vector<const GroupMember*>, std::less<>> subscribers;
    for (const GroupMember* m : detail::orderedMembers(members)) {
      for (const std::string& topic : m->subscription.topics) {
        auto& list = subscribers[topic];
        if (std::find(list.begin(), list.end(), m) == list.end()) list.push_back(m);
      }
    }
    detail::FlatAssignment flat = detail::emptyAssignment(members);
    for (const auto& [topic, list] : subscribers) {
      const int32_t count = detail::partitionCount(partition_counts, topic);
      const auto n = static_cast<int32_t>(list.size());
      int32_t next = 0;
      for (int32_t i = 0; i < n; ++i) {
        const int32_t take = count / n + (i < count % n ? 1 : 0);
        for (int32_t k = 0; k < take; ++k) flat[list[i]->member_id].push_back({topic, next++});
      }
    }
    return detail::toMemberAssignments(std::move(flat));
  }
};

// Every partition of every subscribed topic, in topic then partition order, dealt to the
// members in turn; a member not subscribed to a partition's topic is passed over for it.
class RoundRobinAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "roundrobin"; }
  RebalanceProtocol protocol() const override { return RebalanceProtocol::kEager; }

  std::map<std::string, MemberAssignment> assign(
      const std::vector<GroupMember>& members,
      const PartitionCounts& partition_counts) const override {
    const std::vector<const GroupMember*> ordered = detail::orderedMembers(members);
    std::set<std::string, std::less<>> topics;
    for (const GroupMember& m : members) {
      topics.insert(m.subscription.topics.begin(), m.subscription.topics.end());
    }
    detail::FlatAssignment flat = detail::emptyAssignment(members);
    size_t turn = 0;
    for (const std::string& topic : topics) {
      const int32_t count = detail::partitionCount(partition_counts, topic);
      for (int32_t partition = 0; partition < count; ++partition) {
        // Ends: the topic came from some member's subscription.
        while (!detail::subscribesTo(*ordered[turn], topic)) turn = (turn + 1) % ordered.size();
        flat[ordered[turn]->member_id].push_back({topic, partition});
        turn = (turn + 1) % ordered.size();
      }
    }
    return detail::toMemberAssignments(std::move(flat));
  }
};

}  // namespace

std::unique_ptr<Assignor> makeAssignor(std::string_view name) {
  if (name == "range") return std::make_unique<RangeAssignor>();
  if (name == "roundrobin") return std::make_unique<RoundRobinAssignor>();
  if (name == "cooperative-sticky") return detail::makeCooperativeStickyAssignor();
  return nullptr;
}

}  // namespace kafka::group
