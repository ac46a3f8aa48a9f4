// "cooperative-sticky" (KIP-429): a balanced assignment that keeps each member's current
// partitions where balance allows, computed in four steps:
//   1. ownership: each partition a member says it owns stays with it, unless several members
//      claim it; then the claim of the highest generation wins, and a tie voids every claim
//      (two members cannot both own a partition in one generation, so neither is trusted);
//   2. fill: partitions nobody owns go one by one to the least loaded member subscribed to their
//      topic, the topics with the fewest subscribers first;
//   3. balance: while some member holds at least two partitions more than a member it can pass
//      work to, one partition's worth of load moves along the chain of members linking them (each
//      link a topic the giver holds and the taker subscribes to), to the least loaded such member.
//      No such chain left means the counts are as even as the subscriptions allow;
//   4. cooperation: a partition that another member still claims is left out of its new owner's
//      assignment. The claimant, seeing it missing from its own assignment, revokes it and
//      rejoins, and the follow-up rebalance hands it over.
// The algorithm is ours; it shares Java's rules (quotas, generations, revoke-then-assign), not its
// choices of which partition goes where, which no two implementations agree on anyway.
#include <algorithm>
#include <deque>
#include <limits>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "client_core/group/assignor_support.hpp"

namespace kafka::group::detail {
namespace {

// Members whose subscription predates v2 carry their generation in the assignor's user data:
// Java's cooperative-sticky writes the int32 alone, librdkafka's sticky assignors write the
// partitions the member held ([topic [partition]]) and then the int32.
int32_t generationOf(const MemberSubscription& subscription) {
  if (subscription.generation_id >= 0 || !subscription.user_data) {
    return subscription.generation_id;
  }
  protocol::Reader r(*subscription.user_data);
  if (r.remaining() != 4) {
    const size_t topics = r.arrayLength(false).value_or(0);
    for (size_t i = 0; i < topics && r.ok(); ++i) {
      r.string(false);
      const size_t partitions = r.arrayLength(false).value_or(0);
      for (size_t j = 0; j < partitions && r.ok(); ++j) r.int32();
    }
  }
  const int32_t generation = r.int32();
  return r.done() ? generation : -1;
}

constexpr size_t kNobody = std::numeric_limits<size_t>::max();

// One assignment computation. Members are numbered in assignor order.
class StickyPlan {
 public:
  StickyPlan(const std::vector<GroupMember>& members, const PartitionCounts& counts)
      : members_(orderedMembers(members)), held_(members_.size()), load_(members_.size(), 0) {
    for (size_t i = 0; i < members_.size(); ++i) {
      by_load_.insert({0, i});
      generations_.push_back(generationOf(members_[i]->subscription));
      for (const std::string& topic : members_[i]->subscription.topics) {
        if (partitionCount(counts, topic) == 0) continue;
        auto& subscribers = topics_[topic].subscribers;
        if (subscribers.empty() || subscribers.back() != i) subscribers.push_back(i);
        topics_[topic].partitions = partitionCount(counts, topic);
      }
    }
  }

  FlatAssignment run(const std::vector<GroupMember>& members) {
    resolveOwnership();
    fill();
    while (balanceOnce()) {
    }
    return cooperativeResult(members);
  }

 private:
  struct Topic {
    int32_t partitions = 0;
    std::vector<size_t> subscribers;  // ascending, so in member order
  };

  bool subscribed(size_t member, const std::string& topic) const {
    const auto& subscribers = topics_.at(topic).subscribers;
    return std::binary_search(subscribers.begin(), subscribers.end(), member);
  }

  void setLoad(size_t member, size_t load) {
    by_load_.erase({load_[member], member});
    load_[member] = load;
    by_load_.insert({load, member});
  }

  void give(size_t member, const TopicPartition& tp) {
    held_[member][tp.topic].insert(tp.partition);
    setLoad(member, load_[member] + 1);
  }

  void take(size_t member, const TopicPartition& tp) {
    auto it = held_[member].find(tp.topic);
    it->second.erase(tp.partition);
    if (it->second.empty()) held_[member].erase(it);
    setLoad(member, load_[member] - 1);
  }

  void resolveOwnership() {
    std::map<TopicPartition, std::vector<size_t>> candidates;
    for (size_t i = 0; i < members_.size(); ++i) {
      for (TopicPartition& tp : flatten(members_[i]->subscription.owned_partitions)) {
        auto topic = topics_.find(tp.topic);
        if (topic == topics_.end() || tp.partition < 0 ||
            tp.partition >= topic->second.partitions) {
          continue;
        }
        claimants_[tp].push_back(i);
        // A member keeps only what it still subscribes to.
        if (subscribed(i, tp.topic)) candidates[std::move(tp)].push_back(i);
      }
    }
    for (const auto& [tp, claimants] : candidates) {
      size_t winner = kNobody;
      int32_t best = std::numeric_limits<int32_t>::min();
      for (size_t i : claimants) {
        if (generations_[i] > best) {
          best = generations_[i];
          winner = i;
        } else if (generations_[i] == best) {
          winner = kNobody;
        }
      }
      if (winner != kNobody) {
        owner_[tp] = winner;
        give(winner, tp);
      }
    }
  }

  void fill() {
    std::vector<std::tuple<size_t, std::string, int32_t>> unowned;
    for (const auto& [topic, info] : topics_) {
      for (int32_t p = 0; p < info.partitions; ++p) {
        if (!owner_.contains({topic, p})) unowned.emplace_back(info.subscribers.size(), topic, p);
      }
    }
    std::sort(unowned.begin(), unowned.end());
    for (const auto& [subscriber_count, topic, partition] : unowned) {
      const auto& subscribers = topics_.at(topic).subscribers;
      const size_t least = *std::min_element(
          subscribers.begin(), subscribers.end(),
          [&](size_t a, size_t b) { return std::tie(load_[a], a) < std::tie(load_[b], b); });
      give(least, {topic, partition});
    }
  }

  // Moves one partition's worth of load from a member to one at least two below it, along a
  // chain; false when no member has such a chain.
  bool balanceOnce() {
    if (by_load_.empty()) return false;
    const size_t least = by_load_.begin()->first;
    // The most loaded first; among equals, the later member first.
    for (auto it = by_load_.rbegin(); it != by_load_.rend() && it->first >= least + 2; ++it) {
      if (shiftFrom(it->second, least)) return true;
    }
    return false;
  }

  // The member and topic a member reached in a search takes a partition from.
  struct Link {
    size_t giver = kNobody;
    const std::string* topic = nullptr;
  };

  // Searches breadth first from `source` for the least loaded member it can reach, the nearest
  // among equals; a member at `least`, the lowest load of all, ends the search.
  bool shiftFrom(size_t source, size_t least) {
    std::vector<Link> via(members_.size());
    std::vector<bool> seen(members_.size(), false);
    std::set<std::string_view> expanded;  // topics whose subscribers are all seen already
    std::deque<size_t> queue{source};
    seen[source] = true;
    size_t target = kNobody;
    auto found = [&] { return target != kNobody && load_[target] == least; };
    while (!queue.empty() && !found()) {
      const size_t giver = queue.front();
      queue.pop_front();
      for (auto held = held_[giver].begin(); held != held_[giver].end() && !found(); ++held) {
        const std::string& topic = held->first;
        if (!expanded.insert(topic).second) continue;
        for (size_t taker : topics_.at(topic).subscribers) {
          if (seen[taker]) continue;
          seen[taker] = true;
          via[taker] = {giver, &topic};
          queue.push_back(taker);
          if (load_[taker] + 2 <= load_[source] &&
              (target == kNobody || load_[taker] < load_[target])) {
            target = taker;
            if (found()) break;
          }
        }
      }
    }
    if (target == kNobody) return false;
    // Walking back from the target, each giver passes a partition on before the chain brings it
    // one, so it chooses among what it held rather than what it was just given.
    for (size_t taker = target; taker != source;) {
      const Link link = via[taker];
      const std::string topic = *link.topic;  // the giver's entry may go with its last partition
      const TopicPartition tp{topic, pickPartition(link.giver, taker, topic)};
      take(link.giver, tp);
      give(taker, tp);
      taker = link.giver;
    }
    return true;
  }

  // Of the partitions of `topic` that `giver` holds, the one whose move costs least: one the
  // taker owns already, then one the giver was only handed in this computation, then any; the
  // highest numbered among equals.
  int32_t pickPartition(size_t giver, size_t taker, const std::string& topic) const {
    const std::set<int32_t>& partitions = held_[giver].at(topic);
    auto cost = [&](int32_t p) {
      auto owner = owner_.find({topic, p});
      if (owner == owner_.end()) return 1;
      return owner->second == taker ? 0 : owner->second == giver ? 2 : 1;
    };
    return *std::min_element(partitions.begin(), partitions.end(), [&](int32_t a, int32_t b) {
      return std::pair(cost(a), -a) < std::pair(cost(b), -b);
    });
  }

  // A partition goes to its new owner only when no other member claims it any more.
  bool handOver(size_t member, const TopicPartition& tp) const {
    auto owner = owner_.find(tp);
    if (owner != owner_.end() && owner->second == member) return true;
    auto claims = claimants_.find(tp);
    return claims == claimants_.end() ||
           std::all_of(claims->second.begin(), claims->second.end(),
                       [&](size_t claimant) { return claimant == member; });
  }

  FlatAssignment cooperativeResult(const std::vector<GroupMember>& members) const {
    FlatAssignment flat = emptyAssignment(members);
    for (size_t i = 0; i < members_.size(); ++i) {
      auto& list = flat[members_[i]->member_id];
      for (const auto& [topic, partitions] : held_[i]) {
        for (int32_t p : partitions) {
          TopicPartition tp{topic, p};
          if (handOver(i, tp)) list.push_back(std::move(tp));
        }
      }
    }
    return flat;
  }

  std::vector<const GroupMember*> members_;
  std::vector<int32_t> generations_;
  std::map<std::string, Topic, std::less<>> topics_;  // subscribed topics that have partitions
  std::map<TopicPartition, std::vector<size_t>> claimants_;
  std::map<TopicPartition, size_t> owner_;
  std::vector<std::map<std::string, std::set<int32_t>>> held_;
  std::vector<size_t> load_;
  std::set<std::pair<size_t, size_t>> by_load_;  // (load, member)
};

class CooperativeStickyAssignor final : public Assignor {
 public:
  std::string_view name() const override { return "cooperative-sticky"; }
  RebalanceProtocol protocol() const override { return RebalanceProtocol::kCooperative; }

  std::map<std::string, MemberAssignment> assign(
      const std::vector<GroupMember>& members,
      const PartitionCounts& partition_counts) const override {
    return toMemberAssignments(StickyPlan(members, partition_counts).run(members));
  }
};

}  // namespace

std::unique_ptr<Assignor> makeCooperativeStickyAssignor() {
  return std::make_unique<CooperativeStickyAssignor>();
}

}  // namespace kafka::group::detail
