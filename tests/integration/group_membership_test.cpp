// GroupMembership against the mock-cluster tool: joining, eager and cooperative rebalances,
// session expiry, commits and committed offsets, a stale generation, pattern subscriptions,
// coordinator errors, offset requests once the cluster stops, and a group shared with
// kafka-python.
//
// The mock's first join waits 3 s and later rebalances wait the session timeout less 1 s, so
// members use a 3 s session: each rebalance costs about 2 s.
#include "client_core/group/group_membership.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"
#include "tests/integration/python_group_member.hpp"

extern char** environ;

namespace kafka::group {
namespace {

using namespace std::chrono_literals;

// Built field by field: GCC 12 at -O3 warns falsely (maybe-uninitialized) about the strings of
// a braced OffsetToCommit inside an initializer list.
OffsetToCommit offsetAt(const std::string& topic, int32_t partition, int64_t offset,
                        const std::string& metadata) {
  OffsetToCommit out;
  out.partition.topic = topic;
  out.partition.partition = partition;
  out.offset = offset;
  out.metadata = metadata;
  return out;
}
using State = GroupMembership::State;
using Partitions = std::set<TopicPartition>;

constexpr auto kSession = 3000ms;
constexpr auto kHeartbeat = 200ms;
// A rebalance on the mock, with room for one lost SyncGroup race.
constexpr auto kRebalanceWait = 15s;

// Who owns which partition across the members of one test, to catch a partition owned twice.
class Ownership {
 public:
  void take(const std::string& member, const std::vector<TopicPartition>& partitions) {
    std::lock_guard lock(mutex_);
    for (const auto& p : partitions) {
      auto [it, added] = owners_.emplace(p, member);
      if (!added && it->second != member) {
        violations_.push_back(describePartition(p.topic, p.partition) + " given to " + member +
                              " while " + it->second + " owns it");
      }
    }
  }
  void give(const std::string& member, const std::vector<TopicPartition>& partitions) {
    std::lock_guard lock(mutex_);
    for (const auto& p : partitions) {
      auto it = owners_.find(p);
      if (it != owners_.end() && it->second == member) owners_.erase(it);
    }
  }
  // A member destroyed without leaving owns nothing any more.
  void forget(const std::string& member) {
    std::lock_guard lock(mutex_);
    std::erase_if(owners_, [&](const auto& entry) { return entry.second == member; });
  }
  std::vector<std::string> violations() const {
    std::lock_guard lock(mutex_);
    return violations_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<TopicPartition, std::string> owners_;
  std::vector<std::string> violations_;
};

class RecordingListener : public MembershipListener {
 public:
  using RevokeHook = std::function<void(const std::vector<TopicPartition>&, std::function<void()>)>;

  RecordingListener(std::string name, Ownership& ownership)
      : name_(std::move(name)), ownership_(ownership) {}

  void onPartitionsAssigned(const std::vector<TopicPartition>& added) override {
    ownership_.take(name_, added);
    std::lock_guard lock(mutex_);
    owned_.insert(added.begin(), added.end());
    ++assigned_calls_;
    if (!owned_.empty()) ever_owned_ = true;
  }
  void onPartitionsRevoked(const std::vector<TopicPartition>& revoked,
                           std::function<void()> done) override {
    RevokeHook hook;
    {
      std::lock_guard lock(mutex_);
      revocations_.push_back(revoked);
      if (ever_owned_ && revoked.size() == owned_.size()) revoked_everything_ = true;
      for (const auto& p : revoked) owned_.erase(p);
      hook = revoke_hook_;
    }
    ownership_.give(name_, revoked);
    if (hook) return hook(revoked, std::move(done));
    done();
  }
  void onPartitionsLost(const std::vector<TopicPartition>& lost) override {
    ownership_.give(name_, lost);
    std::lock_guard lock(mutex_);
    for (const auto& p : lost) owned_.erase(p);
    lost_.insert(lost_.end(), lost.begin(), lost.end());
  }
  void onFatalError(const Error& error) override {
    std::lock_guard lock(mutex_);
    fatal_ = error;
  }

  void setRevokeHook(RevokeHook hook) {
    std::lock_guard lock(mutex_);
    revoke_hook_ = std::move(hook);
  }
  Partitions owned() const {
    std::lock_guard lock(mutex_);
    return owned_;
  }
  std::vector<std::vector<TopicPartition>> revocations() const {
    std::lock_guard lock(mutex_);
    return revocations_;
  }
  std::vector<TopicPartition> lost() const {
    std::lock_guard lock(mutex_);
    return lost_;
  }
  std::optional<Error> fatal() const {
    std::lock_guard lock(mutex_);
    return fatal_;
  }
  // Whether a revocation ever took every partition the member owned.
  bool revokedEverything() const {
    std::lock_guard lock(mutex_);
    return revoked_everything_;
  }

 private:
  const std::string name_;
  Ownership& ownership_;
  mutable std::mutex mutex_;
  Partitions owned_;
  bool ever_owned_ = false;
  bool revoked_everything_ = false;
  int assigned_calls_ = 0;
  std::vector<std::vector<TopicPartition>> revocations_;
  std::vector<TopicPartition> lost_;
  std::optional<Error> fatal_;
  RevokeHook revoke_hook_;
};

// One GroupMembership with its strand and listener; every call goes through the strand.
class Member {
 public:
  Member(const boost::asio::any_io_executor& executor, std::shared_ptr<Cluster> cluster,
         GroupConfig config, const std::string& name, Ownership& ownership)
      : strand_(boost::asio::make_strand(executor)),
        listener_(std::make_shared<RecordingListener>(name, ownership)) {
    EXPECT_TRUE(validate(config).ok()) << validate(config).error().toString();
    membership_ =
        GroupMembership::create(strand_, std::move(cluster), std::move(config), listener_);
  }
  ~Member() {
    onStrand([this] { membership_.reset(); });
  }

  template <class F>
  std::invoke_result_t<F> onStrand(F f) {
    std::packaged_task<std::invoke_result_t<F>()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(strand_, [&task] { task(); });
    return result.get();
  }

  void subscribe(TopicSubscription subscription) {
    onStrand([&] { membership_->subscribe(std::move(subscription)); });
  }
  void leave() {
    std::promise<void> left;
    onStrand([&] { membership_->leave([&left] { left.set_value(); }); });
    ASSERT_EQ(left.get_future().wait_for(20s), std::future_status::ready);
  }
  // Posts the commit (it may queue behind whatever holds the strand) and returns its future.
  std::future<Result<std::vector<PartitionResult>>> commitAsync(
      std::vector<OffsetToCommit> offsets) {
    auto promise = std::make_shared<std::promise<Result<std::vector<PartitionResult>>>>();
    boost::asio::post(strand_, [this, promise, offsets = std::move(offsets)]() mutable {
      membership_->commitOffsets(std::move(offsets),
                                 [promise](auto result) { promise->set_value(std::move(result)); });
    });
    return promise->get_future();
  }
  Result<std::vector<PartitionResult>> commit(std::vector<OffsetToCommit> offsets) {
    auto future = commitAsync(std::move(offsets));
    EXPECT_EQ(future.wait_for(20s), std::future_status::ready);
    return future.get();
  }
  Result<std::vector<CommittedOffset>> fetch(std::vector<TopicPartition> partitions) {
    std::promise<Result<std::vector<CommittedOffset>>> fetched;
    onStrand([&] {
      membership_->fetchCommittedOffsets(
          std::move(partitions), [&fetched](auto result) { fetched.set_value(std::move(result)); });
    });
    auto future = fetched.get_future();
    EXPECT_EQ(future.wait_for(20s), std::future_status::ready);
    return future.get();
  }

  State state() {
    return onStrand([this] { return membership_->state(); });
  }
  int32_t generation() {
    return onStrand([this] { return membership_->generation(); });
  }
  std::string memberId() {
    return onStrand([this] { return membership_->memberId(); });
  }
  std::string protocolName() {
    return onStrand([this] { return membership_->protocolName(); });
  }
  Partitions assignment() {
    return onStrand([this] {
      const auto& a = membership_->assignment();
      return Partitions(a.begin(), a.end());
    });
  }
  bool stableWith(const Partitions& partitions) {
    return onStrand([&] {
      const auto& a = membership_->assignment();
      return membership_->state() == State::kStable && Partitions(a.begin(), a.end()) == partitions;
    });
  }
  GroupMembership::Strand& strand() { return strand_; }
  RecordingListener& listener() { return *listener_; }

 private:
  GroupMembership::Strand strand_;
  std::shared_ptr<RecordingListener> listener_;
  std::shared_ptr<GroupMembership> membership_;
};

Partitions partitionsOf(const std::string& topic, int count) {
  Partitions out;
  for (int i = 0; i < count; ++i) out.insert({topic, i});
  return out;
}

Partitions unite(const Partitions& a, const Partitions& b) {
  Partitions out = a;
  out.insert(b.begin(), b.end());
  return out;
}

bool disjoint(const Partitions& a, const Partitions& b) {
  return std::none_of(a.begin(), a.end(), [&](const auto& p) { return b.contains(p); });
}

// `a` and `b`, both stable, share out `all` between them, each with some.
bool splitBetween(Member& a, Member& b, const Partitions& all) {
  if (a.state() != State::kStable || b.state() != State::kStable) return false;
  const Partitions pa = a.assignment();
  const Partitions pb = b.assignment();
  return !pa.empty() && !pb.empty() && disjoint(pa, pb) && unite(pa, pb) == all;
}

const TopicSubscription kBothTopics{{"orders", "payments"}, ""};

class GroupMembershipTest : public integration::MockClusterTest {
 protected:
  GroupMembershipTest()
      : MockClusterTest({.brokers = 3, .topics = {{"orders", 4}, {"payments", 2}}}) {}
  ~GroupMembershipTest() override {
    if (cluster_) cluster_->stop();
  }

  void SetUp() override {
    MockClusterTest::SetUp();
    ClusterConfig config = clusterConfig();
    // Pattern members and leaders poll metadata this often.
    config.metadata_refresh_interval = 1s;
    cluster_ = startCluster(io_.executor(), config);
    ASSERT_TRUE(cluster_->ready());
  }

  static GroupConfig groupConfig(std::string group, std::vector<std::string> assignors) {
    GroupConfig config;
    config.group_id = std::move(group);
    config.session_timeout = kSession;
    config.heartbeat_interval = kHeartbeat;
    config.rebalance_timeout = 10s;
    config.assignors = std::move(assignors);
    config.retry_backoff = 50ms;
    config.retry_backoff_max = 500ms;
    config.request_deadline = 10s;
    return config;
  }

  std::unique_ptr<Member> member(const std::string& name, GroupConfig config) {
    return std::make_unique<Member>(io_.executor(), cluster_, std::move(config), name, ownership_);
  }

  // Members "a" and "b" of `group`, with the range assignor, once they share out every partition.
  void joinTwo(const std::string& group, std::unique_ptr<Member>& a, std::unique_ptr<Member>& b) {
    a = member("a", groupConfig(group, {"range"}));
    b = member("b", groupConfig(group, {"range"}));
    a->subscribe(kBothTopics);
    b->subscribe(kBothTopics);
    ASSERT_TRUE(integration::waitUntil([&] { return splitBetween(*a, *b, all_); }, kRebalanceWait));
  }

  const Partitions all_ = unite(partitionsOf("orders", 4), partitionsOf("payments", 2));
  // Two threads: one test holds a member's strand while the others go on.
  integration::IoThreads io_{2};
  std::shared_ptr<Cluster> cluster_;
  Ownership ownership_;
};

TEST(TopicSubscriptionTest, ValidatesNamesAndPatterns) {
  EXPECT_TRUE(validate(TopicSubscription{{"orders"}, ""}).ok());
  EXPECT_TRUE(validate(TopicSubscription{{}, "ev-.*"}).ok());
  EXPECT_EQ(validate(TopicSubscription{}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(validate(TopicSubscription{{"bad name"}, ""}).error().message.find("bad name"),
            std::string::npos);
  EXPECT_NE(validate(TopicSubscription{{}, "ev-(["}).error().message.find("ECMAScript"),
            std::string::npos);
}

TEST(GroupConfigTest, NamesTheSettingAtFault) {
  GroupConfig config;
  config.group_id = "g";
  EXPECT_TRUE(validate(config).ok());
  auto fault = [](GroupConfig c) { return validate(c).error().message; };
  GroupConfig c = config;
  c.group_id.clear();
  EXPECT_NE(fault(c).find("group.id"), std::string::npos);
  c = config;
  c.group_instance_id = "";
  EXPECT_NE(fault(c).find("group.instance.id"), std::string::npos);
  c = config;
  c.assignors = {"range", "sticky"};
  EXPECT_NE(fault(c).find("'sticky'"), std::string::npos);
  c.assignors = {"range", "range"};
  EXPECT_NE(fault(c).find("twice"), std::string::npos);
  c.assignors = {};
  EXPECT_NE(fault(c).find("partition.assignment.strategy"), std::string::npos);
  c = config;
  c.heartbeat_interval = c.session_timeout;
  EXPECT_NE(fault(c).find("heartbeat.interval.ms"), std::string::npos);
}

TEST_F(GroupMembershipTest, ALoneMemberGetsEverythingCommitsAndLeaves) {
  auto solo = member("solo", groupConfig("solo", {"range"}));
  solo->subscribe(kBothTopics);
  ASSERT_TRUE(integration::waitUntil([&] { return solo->stableWith(all_); }, kRebalanceWait));
  EXPECT_EQ(solo->listener().owned(), all_);
  EXPECT_GE(solo->generation(), 1);
  EXPECT_FALSE(solo->memberId().empty());
  EXPECT_EQ(solo->protocolName(), "range");

  auto committed =
      solo->commit({offsetAt("orders", 0, 42, "after order 41"), offsetAt("payments", 1, 7, "")});
  ASSERT_TRUE(committed.ok()) << committed.error().toString();
  ASSERT_EQ(committed->size(), 2u);
  for (const auto& r : *committed) EXPECT_EQ(r.error.code, ErrorCode::kNone) << r.error.toString();

  auto fetched = solo->fetch({{"orders", 0}, {"payments", 1}, {"orders", 3}});
  ASSERT_TRUE(fetched.ok()) << fetched.error().toString();
  ASSERT_EQ(fetched->size(), 3u);
  EXPECT_EQ((*fetched)[0].partition, (TopicPartition{"orders", 0}));
  EXPECT_EQ((*fetched)[0].offset, 42);
  EXPECT_EQ((*fetched)[0].metadata, "after order 41");
  EXPECT_EQ((*fetched)[1].offset, 7);
  EXPECT_EQ((*fetched)[1].metadata, "");
  EXPECT_EQ((*fetched)[2].error.code, ErrorCode::kNone);
  EXPECT_EQ((*fetched)[2].offset, -1);

  // Leaving revokes everything, and the listener commits while it still may.
  std::promise<Result<std::vector<PartitionResult>>> revoke_commit;
  solo->listener().setRevokeHook(
      [&](const std::vector<TopicPartition>&, std::function<void()> done) {
        // Called on the membership's strand, as commits must be.
        auto future = solo->commitAsync({offsetAt("orders", 1, 5, "on revoke")});
        std::thread([&revoke_commit, future = std::move(future), done]() mutable {
          revoke_commit.set_value(future.get());
          done();
        }).detach();
      });
  solo->leave();
  EXPECT_EQ(solo->state(), State::kLeft);
  EXPECT_TRUE(solo->assignment().empty());
  EXPECT_TRUE(solo->listener().owned().empty());
  ASSERT_EQ(solo->listener().revocations().size(), 1u);
  EXPECT_EQ(solo->listener().revocations()[0].size(), all_.size());
  auto on_revoke = revoke_commit.get_future().get();
  ASSERT_TRUE(on_revoke.ok());
  EXPECT_EQ((*on_revoke)[0].error.code, ErrorCode::kNone) << (*on_revoke)[0].error.toString();
  auto after = solo->fetch({{"orders", 1}});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)[0].offset, 5);
  EXPECT_EQ((*after)[0].metadata, "on revoke");
}

TEST_F(GroupMembershipTest, EagerMembersSplitAndTheOneThatStaysTakesAll) {
  std::unique_ptr<Member> a;
  std::unique_ptr<Member> b;
  ASSERT_NO_FATAL_FAILURE(joinTwo("eager", a, b));
  // Range: two of the four orders partitions and one of the two payments partitions each.
  EXPECT_EQ(a->assignment().size(), 3u);
  EXPECT_EQ(a->generation(), b->generation());
  const int32_t split_generation = b->generation();
  const Partitions b_before = b->assignment();

  a->leave();
  EXPECT_EQ(a->state(), State::kLeft);
  ASSERT_TRUE(integration::waitUntil([&] { return b->stableWith(all_); }, kRebalanceWait));
  EXPECT_GT(b->generation(), split_generation);
  // Eager: b gave up all it had before the rebalance and got everything back after it.
  const auto revocations = b->listener().revocations();
  ASSERT_FALSE(revocations.empty());
  EXPECT_EQ(Partitions(revocations.back().begin(), revocations.back().end()), b_before);
  EXPECT_EQ(b->listener().owned(), all_);
  EXPECT_TRUE(ownership_.violations().empty()) << ownership_.violations().front();
}

TEST_F(GroupMembershipTest, CooperativeRebalancesRevokeOnlyWhatMoves) {
  auto a = member("a", groupConfig("cooperative", {"cooperative-sticky"}));
  a->subscribe(kBothTopics);
  ASSERT_TRUE(integration::waitUntil([&] { return a->stableWith(all_); }, kRebalanceWait));
  const int32_t alone = a->generation();

  auto b = member("b", groupConfig("cooperative", {"cooperative-sticky"}));
  b->subscribe(kBothTopics);
  // One rebalance to take partitions from a, one more to give them to b.
  ASSERT_TRUE(
      integration::waitUntil([&] { return splitBetween(*a, *b, all_); }, 2 * kRebalanceWait));
  EXPECT_GE(a->generation(), alone + 2);
  EXPECT_EQ(a->assignment().size(), 3u);
  EXPECT_EQ(b->assignment().size(), 3u);
  EXPECT_FALSE(a->listener().revokedEverything());
  EXPECT_FALSE(a->listener().revocations().empty());
  for (const auto& revoked : a->listener().revocations()) EXPECT_LT(revoked.size(), all_.size());
  EXPECT_TRUE(a->listener().lost().empty());
  EXPECT_TRUE(ownership_.violations().empty()) << ownership_.violations().front();
}

TEST_F(GroupMembershipTest, AMemberThatStopsHeartbeatingLosesItsPartitions) {
  std::unique_ptr<Member> a;
  std::unique_ptr<Member> b;
  ASSERT_NO_FATAL_FAILURE(joinTwo("silent", a, b));
  const int32_t split_generation = a->generation();

  b.reset();  // no LeaveGroup: the coordinator notices after the session timeout
  ownership_.forget("b");
  const auto gone = std::chrono::steady_clock::now();
  ASSERT_TRUE(integration::waitUntil([&] { return a->stableWith(all_); }, kRebalanceWait));
  EXPECT_GE(std::chrono::steady_clock::now() - gone, kSession - 500ms);
  EXPECT_GT(a->generation(), split_generation);
  EXPECT_TRUE(ownership_.violations().empty()) << ownership_.violations().front();
}

TEST_F(GroupMembershipTest, ACommitWithAStaleGenerationFails) {
  auto a = member("a", groupConfig("stale", {"range"}));
  a->subscribe(kBothTopics);
  ASSERT_TRUE(integration::waitUntil([&] { return a->stableWith(all_); }, kRebalanceWait));
  const int32_t old_generation = a->generation();

  // Hold a's strand: it neither heartbeats nor hears of the rebalance b starts, which completes
  // without it. The mock drops a after its session timeout, a second after b's JoinGroup is
  // answered, so a's commit goes out right after that answer.
  std::promise<void> release;
  std::promise<void> held;
  boost::asio::post(a->strand(), [&] {
    held.set_value();
    release.get_future().wait_for(10s);
  });
  held.get_future().wait();
  auto b = member("b", groupConfig("stale", {"range"}));
  b->subscribe(kBothTopics);
  const bool b_joined =
      integration::waitUntil([&] { return b->generation() > old_generation; }, kRebalanceWait);
  auto commit = a->commitAsync({offsetAt("orders", 0, 1, "")});
  release.set_value();
  ASSERT_TRUE(b_joined);
  ASSERT_EQ(commit.wait_for(20s), std::future_status::ready);
  auto result = commit.get();
  ASSERT_TRUE(result.ok()) << result.error().toString();
  EXPECT_EQ((*result)[0].error.code, ErrorCode::kIllegalGeneration)
      << (*result)[0].error.toString();

  // a learns that its generation is gone, reports its partitions lost and rejoins.
  ASSERT_TRUE(integration::waitUntil([&] { return splitBetween(*a, *b, all_); }, kRebalanceWait));
  const auto lost = a->listener().lost();
  EXPECT_EQ(Partitions(lost.begin(), lost.end()), all_);
  EXPECT_TRUE(ownership_.violations().empty()) << ownership_.violations().front();
}

TEST_F(GroupMembershipTest, APatternSubscriptionPicksUpANewTopic) {
  command("topic create ev-a 2");
  auto a = member("a", groupConfig("pattern", {"range"}));
  a->subscribe({{}, "ev-.*"});
  ASSERT_TRUE(integration::waitUntil([&] { return a->stableWith(partitionsOf("ev-a", 2)); },
                                     kRebalanceWait));
  const int32_t before = a->generation();

  command("topic create ev-b 3");
  ASSERT_TRUE(integration::waitUntil(
      [&] { return a->stableWith(unite(partitionsOf("ev-a", 2), partitionsOf("ev-b", 3))); },
      kRebalanceWait));
  EXPECT_GT(a->generation(), before);
  EXPECT_EQ(a->listener().owned(), unite(partitionsOf("ev-a", 2), partitionsOf("ev-b", 3)));
}

TEST_F(GroupMembershipTest, CoordinatorErrorsAreSurvived) {
  // Error answers to JoinGroup come from the mock with null strings that do not decode; they
  // are retried all the same.
  command("errors JoinGroup NOT_COORDINATOR COORDINATOR_LOAD_IN_PROGRESS");
  command("errors FindCoordinator COORDINATOR_NOT_AVAILABLE");
  auto a = member("a", groupConfig("errors", {"range"}));
  a->subscribe(kBothTopics);
  ASSERT_TRUE(integration::waitUntil([&] { return a->stableWith(all_); }, kRebalanceWait));
  const int32_t generation = a->generation();

  // Heartbeats that find no coordinator, or one still loading, rediscover or retry without
  // leaving the generation.
  command("errors FindCoordinator COORDINATOR_NOT_AVAILABLE");
  command("errors Heartbeat NOT_COORDINATOR COORDINATOR_LOAD_IN_PROGRESS NOT_COORDINATOR");
  std::this_thread::sleep_for(1500ms);
  EXPECT_TRUE(a->stableWith(all_));
  EXPECT_EQ(a->generation(), generation);

  command("errors OffsetCommit NOT_COORDINATOR COORDINATOR_LOAD_IN_PROGRESS");
  auto committed = a->commit({offsetAt("orders", 2, 12, "twelve")});
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ((*committed)[0].error.code, ErrorCode::kNone) << (*committed)[0].error.toString();

  command("errors OffsetFetch COORDINATOR_LOAD_IN_PROGRESS NOT_COORDINATOR");
  auto fetched = a->fetch({{"orders", 2}});
  ASSERT_TRUE(fetched.ok()) << fetched.error().toString();
  EXPECT_EQ((*fetched)[0].error.code, ErrorCode::kNone) << (*fetched)[0].error.toString();
  EXPECT_EQ((*fetched)[0].offset, 12);
  EXPECT_EQ((*fetched)[0].metadata, "twelve");

  EXPECT_TRUE(a->stableWith(all_));
  EXPECT_EQ(a->generation(), generation);
  EXPECT_TRUE(a->listener().lost().empty());
  EXPECT_FALSE(a->listener().fatal().has_value());
}

TEST_F(GroupMembershipTest, OffsetRequestsGiveUpOnceTheClusterStops) {
  GroupConfig config = groupConfig("stopping", {"range"});
  config.request_deadline = 60s;  // far longer than fetch() waits
  auto a = member("a", config);
  auto before = a->fetch({{"orders", 0}});
  ASSERT_TRUE(before.ok()) << before.error().toString();
  EXPECT_EQ((*before)[0].error.code, ErrorCode::kNone) << (*before)[0].error.toString();

  cluster_->stop();
  EXPECT_EQ(cluster_->connection(1, ConnectionPurpose::kControl), nullptr);
  // The coordinator cannot be reached again: the fetch ends now, not at its deadline.
  auto after = a->fetch({{"orders", 0}});
  ASSERT_TRUE(after.ok()) << after.error().toString();
  EXPECT_EQ((*after)[0].error.code, ErrorCode::kShuttingDown) << (*after)[0].error.toString();
  EXPECT_NE((*after)[0].error.message.find("stopped"), std::string::npos)
      << (*after)[0].error.toString();
}

// "assigned orders:0,orders:2" -> {orders-0, orders-2}; "revoked" alone -> {}
Partitions parsePartitions(const std::string& line) {
  Partitions out;
  std::istringstream words(line);
  std::string keyword;
  std::string list;
  words >> keyword >> list;
  std::istringstream items(list);
  for (std::string item; std::getline(items, item, ',');) {
    const auto colon = item.rfind(':');
    out.insert({item.substr(0, colon), std::stoi(item.substr(colon + 1))});
  }
  return out;
}

TEST_F(GroupMembershipTest, SharesAGroupWithKafkaPython) {
  const Partitions orders = partitionsOf("orders", 4);
  // Both list "range" first, as the mock requires of every member. Ours joins first, so it leads:
  // on the mock a follower's SyncGroup that comes after the leader's fails, and a follower
  // kafka-python, when it loses that race, rejoins from its next poll; our follower lost it to a
  // leading kafka-python in every round.
  auto ours = member("ours", groupConfig("mixed", {"range", "cooperative-sticky"}));
  ours->subscribe({{"orders"}, ""});
  std::this_thread::sleep_for(500ms);
  integration::PythonGroupMember peer({bootstrap(), "mixed", "orders",
                                       std::to_string(kSession.count()),
                                       std::to_string(kHeartbeat.count())});
  ASSERT_TRUE(peer.started());

  // kafka-python reports what it owns. It says it gives partitions up before it rejoins, so before
  // ours can have them: read after its reports, what ours owns must never overlap them.
  Partitions theirs;
  bool overlapped = false;
  auto readPeer = [&] {
    while (auto text = peer.line(1ms)) {
      if (text->starts_with("assigned")) theirs = parsePartitions(*text);
      if (text->starts_with("revoked")) {
        for (const auto& p : parsePartitions(*text)) theirs.erase(p);
      }
    }
    overlapped = overlapped || !disjoint(ours->listener().owned(), theirs);
  };
  const bool settled = integration::waitUntil(
      [&] {
        readPeer();
        const Partitions mine = ours->assignment();
        return ours->state() == State::kStable && !mine.empty() && !theirs.empty() &&
               disjoint(mine, theirs) && unite(mine, theirs) == orders;
      },
      2 * kRebalanceWait);
  ASSERT_TRUE(settled) << "ours: " << ours->assignment().size()
                       << " partitions, kafka-python: " << theirs.size();
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(ours->protocolName(), "range");

  // Our commit, read by kafka-python's committed().
  const TopicPartition mine = *ours->assignment().begin();
  auto committed = ours->commit({offsetAt(mine.topic, mine.partition, 31, "from-the-sidecar")});
  ASSERT_TRUE(committed.ok());
  ASSERT_EQ((*committed)[0].error.code, ErrorCode::kNone) << (*committed)[0].error.toString();
  ASSERT_TRUE(peer.send("committed orders " + std::to_string(mine.partition)));
  EXPECT_EQ(peer.lineStarting("offset", 20s),
            "offset orders " + std::to_string(mine.partition) + " 31 from-the-sidecar");

  // kafka-python's commit, read by ours.
  const TopicPartition peers = *theirs.begin();
  ASSERT_TRUE(
      peer.send("commit orders " + std::to_string(peers.partition) + " 17 from-kafka-python"));
  ASSERT_EQ(peer.lineStarting("committed", 20s), "committed");
  auto fetched = ours->fetch({peers});
  ASSERT_TRUE(fetched.ok());
  EXPECT_EQ((*fetched)[0].offset, 17);
  EXPECT_EQ((*fetched)[0].metadata, "from-kafka-python");

  // kafka-python leaves; ours takes everything.
  ASSERT_TRUE(peer.send("quit"));
  EXPECT_EQ(peer.lineStarting("closed", 20s), "closed");
  EXPECT_TRUE(integration::waitUntil([&] { return ours->stableWith(orders); }, kRebalanceWait));
  EXPECT_EQ(ours->listener().owned(), orders);
}

}  // namespace
}  // namespace kafka::group
