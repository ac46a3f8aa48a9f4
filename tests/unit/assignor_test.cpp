// The partition assignors: range and roundrobin against the examples Kafka documents for its Java
// assignors (a mixed group must get the same answer whoever leads), and cooperative-sticky against
// its promises: valid, balanced, sticky, and never handing a partition over before its previous
// owner has revoked it. Random scenarios are seeded, so failures reproduce.
#include "client_core/group/assignor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <set>

namespace kafka::group {
namespace {

using Flat = std::map<std::string, std::vector<TopicPartition>>;

GroupMember member(std::string id, std::vector<std::string> topics,
                   std::optional<std::string> instance = std::nullopt) {
  GroupMember m;
  m.member_id = std::move(id);
  m.group_instance_id = std::move(instance);
  m.subscription.topics = std::move(topics);
  return m;
}

// A member that owned `owned` in `generation` (subscription v2+).
GroupMember owner(std::string id, std::vector<std::string> topics,
                  const std::vector<TopicPartition>& owned, int32_t generation) {
  GroupMember m = member(std::move(id), std::move(topics));
  m.subscription.owned_partitions = groupByTopic(owned);
  m.subscription.generation_id = generation;
  return m;
}

Flat run(std::string_view assignor, const std::vector<GroupMember>& members,
         const PartitionCounts& counts) {
  auto a = makeAssignor(assignor);
  EXPECT_NE(a, nullptr) << assignor;
  if (!a) return {};
  Flat flat;
  for (const auto& [id, assignment] : a->assign(members, counts)) {
    EXPECT_FALSE(assignment.user_data.has_value()) << id;
    EXPECT_EQ(groupByTopic(flatten(assignment.partitions)), assignment.partitions)
        << id << ": not grouped by topic in order";
    flat[id] = flatten(assignment.partitions);
  }
  EXPECT_EQ(flat.size(), members.size()) << assignor << ": every member gets an entry";
  return flat;
}

std::vector<TopicPartition> parts(const std::string& topic, std::initializer_list<int32_t> ps) {
  std::vector<TopicPartition> out;
  for (int32_t p : ps) out.push_back({topic, p});
  return out;
}

std::vector<TopicPartition> join(std::vector<TopicPartition> a,
                                 const std::vector<TopicPartition>& b) {
  a.insert(a.end(), b.begin(), b.end());
  std::sort(a.begin(), a.end());
  return a;
}

TEST(AssignorTest, FactoryKnowsTheThreeNames) {
  for (auto [name, protocol] : {std::pair{"range", RebalanceProtocol::kEager},
                                std::pair{"roundrobin", RebalanceProtocol::kEager},
                                std::pair{"cooperative-sticky", RebalanceProtocol::kCooperative}}) {
    auto a = makeAssignor(name);
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->name(), name);
    EXPECT_EQ(a->protocol(), protocol) << name;
  }
  EXPECT_EQ(makeAssignor("sticky"), nullptr);
  EXPECT_EQ(makeAssignor(""), nullptr);
}

const PartitionCounts kTwoTopicsOfThree = {{"t0", 3}, {"t1", 3}};

TEST(AssignorTest, RangeMatchesJavasExample) {
  Flat flat =
      run("range", {member("C1", {"t0", "t1"}), member("C0", {"t0", "t1"})}, kTwoTopicsOfThree);
  EXPECT_EQ(flat["C0"], join(parts("t0", {0, 1}), parts("t1", {0, 1})));
  EXPECT_EQ(flat["C1"], join(parts("t0", {2}), parts("t1", {2})));
}

TEST(AssignorTest, RoundRobinMatchesJavasExamples) {
  Flat flat = run("roundrobin", {member("C1", {"t0", "t1"}), member("C0", {"t0", "t1"})},
                  kTwoTopicsOfThree);
  EXPECT_EQ(flat["C0"], join(parts("t0", {0, 2}), parts("t1", {1})));
  EXPECT_EQ(flat["C1"], join(parts("t0", {1}), parts("t1", {0, 2})));

  // Members not subscribed to a topic are passed over for its partitions.
  flat = run("roundrobin",
             {member("C0", {"t0"}), member("C1", {"t0", "t1"}), member("C2", {"t0", "t1", "t2"})},
             {{"t0", 1}, {"t1", 2}, {"t2", 3}});
  EXPECT_EQ(flat["C0"], parts("t0", {0}));
  EXPECT_EQ(flat["C1"], parts("t1", {0}));
  EXPECT_EQ(flat["C2"], join(parts("t1", {1}), parts("t2", {0, 1, 2})));
}

// Java orders static members by instance id, ahead of dynamic members ordered by member id, so a
// restarted static member with a new member id keeps its place.
TEST(AssignorTest, StaticMembersAreOrderedByInstanceId) {
  const std::vector<GroupMember> members = {
      member("a-dynamic", {"t0", "t1"}), member("z-member", {"t0", "t1"}, "I0"),
      member("b-member", {"t0", "t1"}, "I2"), member("m-member", {"t0", "t1"}, "I1")};
  const PartitionCounts counts = {{"t0", 4}, {"t1", 4}};
  Flat range = run("range", members, counts);
  EXPECT_EQ(range["z-member"], join(parts("t0", {0}), parts("t1", {0})));
  EXPECT_EQ(range["m-member"], join(parts("t0", {1}), parts("t1", {1})));
  EXPECT_EQ(range["b-member"], join(parts("t0", {2}), parts("t1", {2})));
  EXPECT_EQ(range["a-dynamic"], join(parts("t0", {3}), parts("t1", {3})));
  Flat roundrobin = run("roundrobin", members, counts);
  EXPECT_EQ(roundrobin["z-member"], join(parts("t0", {0}), parts("t1", {0})));
  EXPECT_EQ(roundrobin["m-member"], join(parts("t0", {1}), parts("t1", {1})));
  EXPECT_EQ(roundrobin["a-dynamic"], join(parts("t0", {3}), parts("t1", {3})));
}

TEST(AssignorTest, RangeSplitsEachTopicAmongItsOwnSubscribers) {
  Flat flat =
      run("range",
          {member("A", {"t0"}), member("B", {"t0", "t1"}), member("C", {"t1"}), member("D", {})},
          {{"t0", 5}, {"t1", 2}});
  EXPECT_EQ(flat["A"], parts("t0", {0, 1, 2}));
  EXPECT_EQ(flat["B"], join(parts("t0", {3, 4}), parts("t1", {0})));
  EXPECT_EQ(flat["C"], parts("t1", {1}));
  EXPECT_TRUE(flat["D"].empty());
}

TEST(AssignorTest, TopicsWithoutMetadataAreAssignedToNobody) {
  for (const char* name : {"range", "roundrobin", "cooperative-sticky"}) {
    SCOPED_TRACE(name);
    Flat flat = run(name, {member("A", {"gone", "t0"}), member("B", {"gone"})},
                    {{"t0", 1}, {"empty", 0}, {"unsubscribed", 4}});
    EXPECT_EQ(flat["A"], parts("t0", {0}));
    EXPECT_TRUE(flat["B"].empty());
  }
}

TEST(AssignorTest, MoreMembersThanPartitions) {
  const std::vector<GroupMember> members = {member("A", {"t"}), member("B", {"t"}),
                                            member("C", {"t"})};
  for (const char* name : {"range", "roundrobin", "cooperative-sticky"}) {
    SCOPED_TRACE(name);
    Flat flat = run(name, members, {{"t", 2}});
    EXPECT_EQ(flat["A"], parts("t", {0}));
    EXPECT_EQ(flat["B"], parts("t", {1}));
    EXPECT_TRUE(flat["C"].empty());
  }
}

TEST(AssignorTest, NoMembersNoAssignments) {
  for (const char* name : {"range", "roundrobin", "cooperative-sticky"}) {
    EXPECT_TRUE(makeAssignor(name)->assign({}, {{"t", 3}}).empty()) << name;
  }
}

// --- cooperative-sticky -------------------------------------------------------------------------

TEST(CooperativeStickyTest, FirstAssignmentIsBalanced) {
  Flat flat = run("cooperative-sticky",
                  {member("A", {"t0", "t1"}), member("B", {"t0", "t1"}), member("C", {"t0", "t1"})},
                  {{"t0", 4}, {"t1", 3}});
  std::set<TopicPartition> seen;
  for (const auto& [id, ps] : flat) {
    EXPECT_GE(ps.size(), 2u) << id;
    EXPECT_LE(ps.size(), 3u) << id;
    seen.insert(ps.begin(), ps.end());
  }
  EXPECT_EQ(seen.size(), 7u);
}

// A member joins: the others give up what it needs, but it receives those partitions only in the
// follow-up rebalance, after they were revoked.
TEST(CooperativeStickyTest, AJoiningMemberGetsItsShareInTheFollowUpRound) {
  const auto a_owned = parts("t", {0, 1, 2});
  const auto b_owned = parts("t", {3, 4, 5});
  Flat first =
      run("cooperative-sticky",
          {owner("A", {"t"}, a_owned, 4), owner("B", {"t"}, b_owned, 4), member("C", {"t"})},
          {{"t", 6}});
  ASSERT_EQ(first["A"].size(), 2u);
  ASSERT_EQ(first["B"].size(), 2u);
  EXPECT_TRUE(std::includes(a_owned.begin(), a_owned.end(), first["A"].begin(), first["A"].end()));
  EXPECT_TRUE(std::includes(b_owned.begin(), b_owned.end(), first["B"].begin(), first["B"].end()));
  EXPECT_TRUE(first["C"].empty()) << "withheld until A and B have revoked";

  Flat second =
      run("cooperative-sticky",
          {owner("A", {"t"}, first["A"], 5), owner("B", {"t"}, first["B"], 5), member("C", {"t"})},
          {{"t", 6}});
  EXPECT_EQ(second["A"], first["A"]);
  EXPECT_EQ(second["B"], first["B"]);
  std::vector<TopicPartition> revoked;
  std::set_difference(a_owned.begin(), a_owned.end(), first["A"].begin(), first["A"].end(),
                      std::back_inserter(revoked));
  std::set_difference(b_owned.begin(), b_owned.end(), first["B"].begin(), first["B"].end(),
                      std::back_inserter(revoked));
  std::sort(revoked.begin(), revoked.end());
  EXPECT_EQ(second["C"], revoked);
}

// A member leaves: its partitions are free at once, and the others keep theirs.
TEST(CooperativeStickyTest, ALeavingMembersPartitionsAreSharedAtOnce) {
  Flat flat =
      run("cooperative-sticky",
          {owner("A", {"t"}, parts("t", {0, 3}), 7), owner("B", {"t"}, parts("t", {1, 4}), 7)},
          {{"t", 6}});
  EXPECT_EQ(flat["A"].size(), 3u);
  EXPECT_EQ(flat["B"].size(), 3u);
  for (const auto& tp : {TopicPartition{"t", 0}, TopicPartition{"t", 3}}) {
    EXPECT_NE(std::find(flat["A"].begin(), flat["A"].end(), tp), flat["A"].end());
  }
  for (const auto& tp : {TopicPartition{"t", 1}, TopicPartition{"t", 4}}) {
    EXPECT_NE(std::find(flat["B"].begin(), flat["B"].end(), tp), flat["B"].end());
  }
}

TEST(CooperativeStickyTest, TheHighestGenerationsClaimWins) {
  // B missed a rebalance and still claims t-0 from generation 3; A got it in generation 4.
  Flat flat = run("cooperative-sticky",
                  {owner("A", {"t"}, parts("t", {0}), 4), owner("B", {"t"}, parts("t", {0, 1}), 3)},
                  {{"t", 2}});
  EXPECT_EQ(flat["A"], parts("t", {0}));
  EXPECT_EQ(flat["B"], parts("t", {1}));
}

TEST(CooperativeStickyTest, ClaimsTiedInOneGenerationAreVoided) {
  // Neither claim can be trusted, so whoever gets t-0 waits until both have revoked it.
  Flat flat = run("cooperative-sticky",
                  {owner("A", {"t"}, parts("t", {0}), 4), owner("B", {"t"}, parts("t", {0}), 4)},
                  {{"t", 2}});
  std::vector<TopicPartition> all = join(flat["A"], flat["B"]);
  EXPECT_EQ(all, parts("t", {1}));
}

TEST(CooperativeStickyTest, OldSubscriptionsCarryTheGenerationInUserData) {
  // v1 subscriptions: Java writes the int32 generation alone, librdkafka its sticky user data
  // (the partitions it held, then the generation).
  GroupMember java = owner("A", {"t"}, parts("t", {0}), -1);
  java.subscription.user_data = protocol::Bytes{0, 0, 0, 9};
  GroupMember librdkafka = owner("B", {"t"}, parts("t", {0}), -1);
  librdkafka.subscription.user_data =
      protocol::Bytes{0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 8};
  Flat flat = run("cooperative-sticky", {java, librdkafka}, {{"t", 2}});
  EXPECT_EQ(flat["A"], parts("t", {0}));  // generation 9 beats 8
  EXPECT_EQ(flat["B"], parts("t", {1}));

  librdkafka.subscription.user_data = protocol::Bytes{0, 0, 0, 0, 0, 0, 0, 10};
  flat = run("cooperative-sticky", {java, librdkafka}, {{"t", 2}});
  EXPECT_EQ(flat["A"], parts("t", {1}));
  EXPECT_EQ(flat["B"], parts("t", {0}));
}

TEST(CooperativeStickyTest, AnUnsubscribedTopicIsTakenAway) {
  // A dropped t1 from its subscription but still holds t1-0: B gets it once A has let go.
  Flat first = run("cooperative-sticky",
                   {owner("A", {"t0"}, join(parts("t0", {0}), parts("t1", {0})), 2),
                    owner("B", {"t0", "t1"}, parts("t0", {1}), 2)},
                   {{"t0", 2}, {"t1", 1}});
  EXPECT_EQ(first["A"], parts("t0", {0}));
  EXPECT_EQ(first["B"], parts("t0", {1}));
  Flat second = run("cooperative-sticky",
                    {owner("A", {"t0"}, first["A"], 3), owner("B", {"t0", "t1"}, first["B"], 3)},
                    {{"t0", 2}, {"t1", 1}});
  EXPECT_EQ(second["A"], parts("t0", {0}));
  EXPECT_EQ(second["B"], join(parts("t0", {1}), parts("t1", {0})));
}

// Balance needs chains: A can only give to B (t1), and B only to C (t2). Even counts then force
// A to keep t0, B to take t1 and C to take t2.
TEST(CooperativeStickyTest, BalancesAlongChainsOfSubscriptions) {
  const PartitionCounts counts = {{"t0", 2}, {"t1", 2}, {"t2", 2}};
  Flat first = run("cooperative-sticky",
                   {owner("A", {"t0", "t1"}, join(parts("t0", {0, 1}), parts("t1", {0, 1})), 1),
                    owner("B", {"t1", "t2"}, parts("t2", {0, 1}), 1), member("C", {"t2"})},
                   counts);
  EXPECT_EQ(first["A"], parts("t0", {0, 1}));
  EXPECT_TRUE(first["B"].empty()) << "t1 waits for A to revoke it";
  EXPECT_TRUE(first["C"].empty()) << "t2 waits for B to revoke it";
  Flat second = run("cooperative-sticky",
                    {owner("A", {"t0", "t1"}, first["A"], 2),
                     owner("B", {"t1", "t2"}, first["B"], 2), member("C", {"t2"})},
                    counts);
  EXPECT_EQ(second["A"], parts("t0", {0, 1}));
  EXPECT_EQ(second["B"], parts("t1", {0, 1}));
  EXPECT_EQ(second["C"], parts("t2", {0, 1}));
}

// --- cooperative-sticky over random groups
// --------------------------------------------------------

struct Scenario {
  std::vector<GroupMember> members;
  PartitionCounts counts;
  bool same_subscriptions = true;
};

bool subscribed(const GroupMember& m, const std::string& topic) {
  const auto& topics = m.subscription.topics;
  return std::find(topics.begin(), topics.end(), topic) != topics.end();
}

// Checks one round's result and returns the members' next subscriptions: each owns what it got.
void checkRound(const Scenario& s, const Flat& flat, int32_t generation, std::string_view where,
                std::vector<GroupMember>& next) {
  std::map<TopicPartition, std::string> holder;
  std::map<TopicPartition, std::set<std::string>> claims;
  for (const GroupMember& m : s.members) {
    for (const TopicPartition& tp : flatten(m.subscription.owned_partitions)) {
      claims[tp].insert(m.member_id);
    }
  }
  next.clear();
  for (const GroupMember& m : s.members) {
    for (const TopicPartition& tp : flat.at(m.member_id)) {
      ASSERT_TRUE(holder.emplace(tp, m.member_id).second) << where << ": assigned twice";
      auto count = s.counts.find(tp.topic);
      ASSERT_NE(count, s.counts.end()) << where;
      ASSERT_LT(tp.partition, count->second) << where;
      ASSERT_TRUE(subscribed(m, tp.topic))
          << where << ": " << m.member_id << " is not subscribed to " << tp.topic;
      // A member keeps what it claimed; what it did not, nobody else may still claim.
      if (!claims[tp].contains(m.member_id)) {
        ASSERT_TRUE(claims[tp].empty())
            << where << ": " << tp.topic << "-" << tp.partition << " handed to " << m.member_id
            << " while " << *claims[tp].begin() << " still claims it";
      }
    }
    next.push_back(owner(m.member_id, m.subscription.topics, flat.at(m.member_id), generation));
  }
}

size_t totalPartitions(const Scenario& s) {
  size_t total = 0;
  for (const auto& [topic, count] : s.counts) {
    if (std::any_of(s.members.begin(), s.members.end(),
                    [&](const GroupMember& m) { return subscribed(m, topic); })) {
      total += static_cast<size_t>(count);
    }
  }
  return total;
}

// The members `from` can pass load to: subscribers of a topic it holds, and theirs in turn.
std::set<std::string> reachableFrom(const Scenario& s, const Flat& flat, const std::string& from) {
  std::set<std::string> reached{from};
  std::vector<std::string> pending{from};
  while (!pending.empty()) {
    const std::string giver = pending.back();
    pending.pop_back();
    for (const TopicPartition& tp : flat.at(giver)) {
      for (const GroupMember& taker : s.members) {
        if (subscribed(taker, tp.topic) && reached.insert(taker.member_id).second) {
          pending.push_back(taker.member_id);
        }
      }
    }
  }
  return reached;
}

// Everything assigned, and no member could pass load, directly or along a chain, to a member
// holding two fewer: the counts are as even as the subscriptions allow (with equal subscriptions,
// within one of each other).
void expectSettled(const Scenario& s, const Flat& flat, std::string_view where) {
  size_t assigned = 0;
  size_t least = SIZE_MAX, most = 0;
  for (const auto& [id, ps] : flat) {
    assigned += ps.size();
    least = std::min(least, ps.size());
    most = std::max(most, ps.size());
  }
  EXPECT_EQ(assigned, totalPartitions(s)) << where;
  if (s.same_subscriptions) {
    EXPECT_LE(most - least, 1u) << where;
  }
  for (const GroupMember& giver : s.members) {
    for (const std::string& taker : reachableFrom(s, flat, giver.member_id)) {
      EXPECT_LT(flat.at(giver.member_id).size(), flat.at(taker).size() + 2)
          << where << ": " << giver.member_id << " could pass load to " << taker;
    }
  }
}

Scenario randomScenario(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Scenario s;
  const int topics = pick(1, 4);
  std::vector<std::string> names;
  for (int t = 0; t < topics; ++t) {
    names.push_back("topic-" + std::to_string(t));
    s.counts[names.back()] = pick(1, 12);
  }
  s.same_subscriptions = pick(0, 1) == 0;
  const int members = pick(1, 8);
  for (int m = 0; m < members; ++m) {
    std::vector<std::string> subscribed;
    for (const std::string& name : names) {
      if (s.same_subscriptions || pick(0, 2) > 0) subscribed.push_back(name);
    }
    if (subscribed.empty()) subscribed.push_back(names[static_cast<size_t>(pick(0, topics - 1))]);
    std::optional<std::string> instance;
    if (pick(0, 3) == 0) instance = "instance-" + std::to_string(pick(0, 99));
    s.members.push_back(member("member-" + std::to_string(m), subscribed, instance));
  }
  return s;
}

TEST(CooperativeStickyTest, RandomGroupsStayValidAndSettleBalanced) {
  std::mt19937 rng(20240611);
  for (int scenario = 0; scenario < 300; ++scenario) {
    Scenario s = randomScenario(rng);
    int32_t generation = 1;
    // Settle, then change membership three times: a member leaves, one joins, and a stale
    // member claims partitions from an old generation.
    for (int event = 0; event < 4; ++event) {
      Flat previous;
      for (int round = 0; round < 6; ++round) {
        const std::string where = "scenario " + std::to_string(scenario) + " event " +
                                  std::to_string(event) + " round " + std::to_string(round);
        Flat flat = run("cooperative-sticky", s.members, s.counts);
        std::vector<GroupMember> next;
        checkRound(s, flat, ++generation, where, next);
        if (::testing::Test::HasFatalFailure()) return;
        if (flat == previous) {
          expectSettled(s, flat, where);
          break;
        }
        ASSERT_LT(round, 5) << where << ": still moving after 5 rounds";
        previous = flat;
        s.members = next;
      }
      if (event == 0 && s.members.size() > 1) {
        s.members.erase(s.members.begin() + static_cast<std::ptrdiff_t>(rng() % s.members.size()));
      } else if (event == 1) {
        GroupMember joined = s.members.front();
        joined.member_id = "joined-" + std::to_string(event);
        joined.group_instance_id.reset();
        joined.subscription.owned_partitions.clear();
        s.members.push_back(joined);
      } else if (event == 2) {
        s.members.back().subscription.owned_partitions =
            s.members.front().subscription.owned_partitions;
        s.members.back().subscription.generation_id = 1;
      }
    }
  }
}

// With equal subscriptions and no conflicting claims, a member either keeps all it owned (and may
// gain), or only gives up partitions: nobody loses some and gains others.
TEST(CooperativeStickyTest, NobodyTradesPartitionsNeedlessly) {
  std::mt19937 rng(77);
  for (int scenario = 0; scenario < 200; ++scenario) {
    const int members = std::uniform_int_distribution<int>(2, 7)(rng);
    const int32_t partitions = std::uniform_int_distribution<int32_t>(1, 30)(rng);
    // A random previous owner (or none) for every partition.
    std::vector<std::vector<TopicPartition>> owned(static_cast<size_t>(members));
    for (int32_t p = 0; p < partitions; ++p) {
      const int who = std::uniform_int_distribution<int>(-1, members - 1)(rng);
      if (who >= 0) owned[static_cast<size_t>(who)].push_back({"t", p});
    }
    std::vector<GroupMember> group;
    for (int m = 0; m < members; ++m) {
      group.push_back(owner("m" + std::to_string(m), {"t"}, owned[static_cast<size_t>(m)], 3));
    }
    Flat flat = run("cooperative-sticky", group, {{"t", partitions}});
    for (int m = 0; m < members; ++m) {
      const auto& before = owned[static_cast<size_t>(m)];
      const auto& after = flat["m" + std::to_string(m)];
      const bool kept_all = std::includes(after.begin(), after.end(), before.begin(), before.end());
      const bool only_lost =
          std::includes(before.begin(), before.end(), after.begin(), after.end());
      EXPECT_TRUE(kept_all || only_lost) << "scenario " << scenario << " member " << m;
      // Kept down to at most the larger quota.
      const size_t ceiling = static_cast<size_t>((partitions + members - 1) / members);
      EXPECT_GE(after.size(), std::min(before.size(), static_cast<size_t>(partitions / members)))
          << "scenario " << scenario << " member " << m;
      EXPECT_LE(after.size(), ceiling) << "scenario " << scenario << " member " << m;
    }
  }
}

}  // namespace
}  // namespace kafka::group
