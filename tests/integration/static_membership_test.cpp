// Static membership (KIP-345) and members that share no assignor, against FakeGroupCoordinator
// (librdkafka's mock cluster has no static membership, and aborts on mismatched assignors):
//   - GroupMembership: a static member that leaves and comes back under the same instance id
//     gets exactly its old partitions, in the same generation, and the other member sees
//     nothing; a dynamic member doing the same causes rebalances (the control case); a static
//     member that stays away loses its partitions once its session expires; a member whose
//     assignors the group does not share fails with INCONSISTENT_GROUP_PROTOCOL and the group
//     goes on.
//   - Daemons in this process: a daemon restarted with the same group_instance_id gets its
//     session's partitions back while the other daemon's Subscribe call sees no revoke or
//     assign; a session whose assignors the group does not share gets a fatal error event
//     naming the problem, while another session of the same daemon goes on.
//
// Members use a 2-3 s session and heartbeat often; the coordinator's first rebalance waits
// 300 ms for more members. Every wait is bounded.
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "client_core/group/group_membership.hpp"
#include "kafka/sidecar/v1/consumer.grpc.pb.h"
#include "server/daemon.hpp"
#include "tests/integration/fake_group_coordinator.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka {
namespace {

using namespace std::chrono_literals;
using group::GroupConfig;
using group::GroupMembership;
using group::TopicSubscription;
using testing::FakeGroupCoordinator;
using Partitions = std::set<TopicPartition>;
using State = GroupMembership::State;
namespace v1 = kafka::sidecar::v1;

constexpr auto kWait = 10s;
const TopicSubscription kOrders{{"orders"}, ""};

Partitions allOrders() {
  return {{"orders", 0}, {"orders", 1}, {"orders", 2}, {"orders", 3}};
}

// ---------------------------------------------------------------------------------------------
// GroupMembership.

// Everything the membership told its listener, in order.
class Recorder : public group::MembershipListener {
 public:
  void onPartitionsAssigned(const std::vector<TopicPartition>& added) override {
    std::lock_guard lock(mutex_);
    owned_.insert(added.begin(), added.end());
    events_.push_back("assigned " + std::to_string(added.size()));
  }
  void onPartitionsRevoked(const std::vector<TopicPartition>& revoked,
                           std::function<void()> done) override {
    {
      std::lock_guard lock(mutex_);
      for (const auto& p : revoked) owned_.erase(p);
      events_.push_back("revoked " + std::to_string(revoked.size()));
    }
    done();
  }
  void onPartitionsLost(const std::vector<TopicPartition>& lost) override {
    std::lock_guard lock(mutex_);
    for (const auto& p : lost) owned_.erase(p);
    events_.push_back("lost " + std::to_string(lost.size()));
  }
  void onFatalError(const Error& error) override {
    std::lock_guard lock(mutex_);
    fatal_ = error;
    events_.push_back("fatal");
  }

  Partitions owned() const {
    std::lock_guard lock(mutex_);
    return owned_;
  }
  std::vector<std::string> events() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  std::optional<Error> fatal() const {
    std::lock_guard lock(mutex_);
    return fatal_;
  }

 private:
  mutable std::mutex mutex_;
  Partitions owned_;
  std::vector<std::string> events_;
  std::optional<Error> fatal_;
};

// One GroupMembership with its strand and listener; every call goes through the strand.
class Member {
 public:
  Member(const boost::asio::any_io_executor& executor, std::shared_ptr<Cluster> cluster,
         GroupConfig config)
      : strand_(boost::asio::make_strand(executor)), recorder_(std::make_shared<Recorder>()) {
    EXPECT_TRUE(group::validate(config).ok());
    membership_ =
        GroupMembership::create(strand_, std::move(cluster), std::move(config), recorder_);
  }
  ~Member() {
    onStrand([this] { membership_.reset(); });
  }
  Member(const Member&) = delete;
  Member& operator=(const Member&) = delete;

  template <class F>
  std::invoke_result_t<F> onStrand(F f) {
    std::packaged_task<std::invoke_result_t<F>()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(strand_, [&task] { task(); });
    return result.get();
  }

  void subscribe(const TopicSubscription& subscription) {
    onStrand([&] { membership_->subscribe(subscription); });
  }
  // Leaves as a consumer that is shut down does (static members send no LeaveGroup).
  void leave() {
    std::promise<void> left;
    onStrand([&] { membership_->leave([&left] { left.set_value(); }); });
    ASSERT_EQ(left.get_future().wait_for(kWait), std::future_status::ready);
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
  bool stable() { return state() == State::kStable; }
  const Recorder& recorder() const { return *recorder_; }

 private:
  GroupMembership::Strand strand_;
  std::shared_ptr<Recorder> recorder_;
  std::shared_ptr<GroupMembership> membership_;
};

uint64_t heartbeatsOf(const FakeGroupCoordinator& coordinator, const std::string& group,
                      const std::string& member_id) {
  for (const auto& member : coordinator.members(group)) {
    if (member.member_id == member_id) return member.heartbeats;
  }
  return 0;
}

// One broker that coordinates, and one Cluster for every member of a test, as in a daemon.
class StaticMembershipTest : public ::testing::Test {
 protected:
  void SetUp() override { cluster_ = startCluster({}); }
  ~StaticMembershipTest() override {
    members_.clear();
    if (cluster_) cluster_->stop();
  }

  std::shared_ptr<Cluster> startCluster(std::map<protocol::ApiKey, int16_t> caps) {
    ClusterConfig config;
    config.bootstrap_servers = {coordinator_.bootstrap()};
    config.connection.version_caps = std::move(caps);
    auto cluster = std::make_shared<Cluster>(io_.executor(), config);
    cluster->start();
    EXPECT_TRUE(integration::waitUntil([&] { return cluster->ready(); }, kWait));
    return cluster;
  }

  static GroupConfig groupConfig(std::optional<std::string> instance_id,
                                 std::vector<std::string> assignors = {"range"}) {
    GroupConfig config;
    config.group_id = "g";
    config.group_instance_id = std::move(instance_id);
    config.session_timeout = 2000ms;
    config.heartbeat_interval = 100ms;
    config.rebalance_timeout = 3000ms;
    config.assignors = std::move(assignors);
    config.retry_backoff = 50ms;
    config.retry_backoff_max = 500ms;
    config.request_deadline = 5s;
    return config;
  }

  Member& join(std::optional<std::string> instance_id,
               std::vector<std::string> assignors = {"range"}) {
    members_.push_back(std::make_unique<Member>(
        io_.executor(), cluster_, groupConfig(std::move(instance_id), std::move(assignors))));
    members_.back()->subscribe(kOrders);
    return *members_.back();
  }

  // Destroys `member` (after leave(), as a restarted process would be gone).
  void drop(Member& member) {
    std::erase_if(members_, [&](const auto& m) { return m.get() == &member; });
  }

  // Both stable, splitting the topic's partitions between them.
  bool split(Member& a, Member& b) {
    const Partitions pa = a.recorder().owned();
    const Partitions pb = b.recorder().owned();
    Partitions both = pa;
    both.insert(pb.begin(), pb.end());
    return a.stable() && b.stable() && pa.size() == 2 && pb.size() == 2 && both == allOrders() &&
           coordinator_.state("g") == "Stable";
  }

  // Members "a" (static) and "b" (dynamic) in one generation, `a_leads` choosing which joins
  // first and so leads.
  void joinTwo(bool a_leads, Member*& a, Member*& b) {
    Member*& first = a_leads ? a : b;
    first = a_leads ? &join("a") : &join(std::nullopt);
    ASSERT_TRUE(coordinator_.waitUntil([&] { return first->stable(); }, kWait));
    Member*& second = a_leads ? b : a;
    second = a_leads ? &join(std::nullopt) : &join("a");
    ASSERT_TRUE(coordinator_.waitUntil([&] { return split(*a, *b); }, kWait))
        << "a owns " << a->recorder().owned().size() << ", b owns " << b->recorder().owned().size();
    const auto rebalances = coordinator_.rebalances("g");
    ASSERT_FALSE(rebalances.empty());
    EXPECT_EQ(rebalances.back().leader, a_leads ? a->memberId() : b->memberId());
  }

  FakeGroupCoordinator coordinator_;
  integration::IoThreads io_{2};
  std::shared_ptr<Cluster> cluster_;
  std::vector<std::unique_ptr<Member>> members_;
};

struct RestartCase {
  bool static_member_leads;
  int16_t join_group_version;  // 9: KIP-814's skip_assignment; 5: the first with instance ids
};

class StaticRestartTest : public StaticMembershipTest,
                          public ::testing::WithParamInterface<RestartCase> {
 protected:
  void SetUp() override {
    cluster_ = startCluster({{protocol::ApiKey::kJoinGroup, GetParam().join_group_version}});
  }
};

TEST_P(StaticRestartTest, StaticMemberComesBackToItsPartitionsWithoutARebalance) {
  Member* a = nullptr;
  Member* b = nullptr;
  ASSERT_NO_FATAL_FAILURE(joinTwo(GetParam().static_member_leads, a, b));
  const Partitions a_owned = a->recorder().owned();
  const Partitions b_owned = b->recorder().owned();
  const std::string a_old_id = a->memberId();
  const std::string b_id = b->memberId();
  const int32_t generation = coordinator_.generation("g");
  const size_t rebalances = coordinator_.rebalances("g").size();
  const size_t b_events = b->recorder().events().size();
  const auto heartbeat_errors = coordinator_.heartbeatErrors("g");
  EXPECT_EQ(b->generation(), generation);

  a->leave();
  drop(*a);
  EXPECT_EQ(coordinator_.leaveGroupRequests("g"), 0) << "a static member sent LeaveGroup";

  Member& back = join("a");
  ASSERT_TRUE(coordinator_.waitUntil([&] { return back.stable(); }, kWait));
  EXPECT_EQ(back.recorder().owned(), a_owned);
  EXPECT_EQ(back.generation(), generation);
  EXPECT_NE(back.memberId(), a_old_id);
  EXPECT_EQ(coordinator_.memberIdOf("g", "a"), back.memberId());

  // Long enough for several heartbeats of b, which would have met a rebalance by now.
  const uint64_t b_heartbeats = heartbeatsOf(coordinator_, "g", b_id);
  ASSERT_TRUE(coordinator_.waitUntil(
      [&] { return heartbeatsOf(coordinator_, "g", b_id) >= b_heartbeats + 5; }, kWait));
  EXPECT_TRUE(back.stable());
  EXPECT_EQ(back.recorder().owned(), a_owned);
  EXPECT_EQ(coordinator_.rebalances("g").size(), rebalances);
  EXPECT_EQ(coordinator_.generation("g"), generation);
  EXPECT_EQ(coordinator_.heartbeatErrors("g"), heartbeat_errors);
  const auto rejoins = coordinator_.staticRejoins("g");
  ASSERT_EQ(rejoins.size(), 1u);
  EXPECT_EQ(rejoins[0].old_member_id, a_old_id);
  EXPECT_EQ(rejoins[0].new_member_id, back.memberId());
  EXPECT_EQ(rejoins[0].generation, generation);
  // A returning leader told to skip the assignment (v9) sent none for the coordinator to ignore.
  EXPECT_EQ(coordinator_.ignoredAssignments("g"), 0);
  // b saw nothing at all.
  EXPECT_TRUE(b->stable());
  EXPECT_EQ(b->generation(), generation);
  EXPECT_EQ(b->memberId(), b_id);
  EXPECT_EQ(b->recorder().owned(), b_owned);
  EXPECT_EQ(b->recorder().events().size(), b_events)
      << "b was told: " << b->recorder().events().back();
}

std::string restartCaseName(const ::testing::TestParamInfo<RestartCase>& param) {
  return std::string(param.param.static_member_leads ? "Leader" : "Follower") + "JoinGroupV" +
         std::to_string(param.param.join_group_version);
}

INSTANTIATE_TEST_SUITE_P(Cases, StaticRestartTest,
                         ::testing::Values(RestartCase{true, 9}, RestartCase{false, 9},
                                           RestartCase{true, 5}),
                         restartCaseName);

// The control case: without an instance id, leaving and coming back moves partitions twice.
TEST_F(StaticMembershipTest, DynamicMemberComingBackCausesRebalances) {
  Member& a = join(std::nullopt);
  ASSERT_TRUE(coordinator_.waitUntil([&] { return a.stable(); }, kWait));
  Member& b = join(std::nullopt);
  ASSERT_TRUE(coordinator_.waitUntil([&] { return split(a, b); }, kWait));
  const int32_t generation = coordinator_.generation("g");
  const size_t rebalances = coordinator_.rebalances("g").size();
  const size_t b_events = b.recorder().events().size();

  a.leave();
  drop(a);
  EXPECT_EQ(coordinator_.leaveGroupRequests("g"), 1);
  // b takes everything, then gives half back to the newcomer.
  ASSERT_TRUE(coordinator_.waitUntil([&] { return b.recorder().owned() == allOrders(); }, kWait));
  Member& back = join(std::nullopt);
  ASSERT_TRUE(coordinator_.waitUntil([&] { return split(back, b); }, kWait));

  EXPECT_GE(coordinator_.rebalances("g").size(), rebalances + 2);
  EXPECT_GE(coordinator_.generation("g"), generation + 2);
  EXPECT_GT(b.recorder().events().size(), b_events);
  EXPECT_NE(b.generation(), generation);
  EXPECT_TRUE(coordinator_.staticRejoins("g").empty());
  const auto errors = coordinator_.heartbeatErrors("g");
  EXPECT_TRUE(std::any_of(errors.begin(), errors.end(), [](const std::string& e) {
    return e.find("REBALANCE_IN_PROGRESS") != std::string::npos;
  })) << "b's heartbeats never met the rebalances";
}

// A static member's partitions wait for it for a session timeout, no longer.
TEST_F(StaticMembershipTest, StaticMemberThatStaysAwayLosesItsPartitionsAfterItsSession) {
  Member* a = nullptr;
  Member* b = nullptr;
  ASSERT_NO_FATAL_FAILURE(joinTwo(true, a, b));
  const size_t rebalances = coordinator_.rebalances("g").size();
  a->leave();
  drop(*a);
  const auto gone = std::chrono::steady_clock::now();
  ASSERT_TRUE(coordinator_.waitUntil([&] { return b->recorder().owned() == allOrders(); }, kWait));
  const auto waited = std::chrono::steady_clock::now() - gone;
  // The session is 2 s: the partitions were not moved before it ran out.
  EXPECT_GE(waited, 1500ms);
  EXPECT_EQ(coordinator_.leaveGroupRequests("g"), 0);
  EXPECT_EQ(coordinator_.rebalances("g").size(), rebalances + 1);
  EXPECT_EQ(coordinator_.memberIdOf("g", "a"), "");
}

TEST_F(StaticMembershipTest, MemberSharingNoAssignorWithTheGroupFails) {
  Member& a = join("a", {"range", "cooperative-sticky"});
  ASSERT_TRUE(coordinator_.waitUntil([&] { return a.stable(); }, kWait));
  const int32_t generation = coordinator_.generation("g");
  const std::string a_id = a.memberId();

  Member& odd = join("odd", {"roundrobin"});
  ASSERT_TRUE(coordinator_.waitUntil([&] { return odd.recorder().fatal().has_value(); }, kWait));
  const Error error = *odd.recorder().fatal();
  EXPECT_EQ(error.code, ErrorCode::kInconsistentGroupProtocol) << error.toString();
  EXPECT_NE(error.message.find("assignors (roundrobin)"), std::string::npos) << error.message;
  EXPECT_EQ(odd.state(), State::kFailed);
  const auto joins = coordinator_.joins("g");
  ASSERT_FALSE(joins.empty());
  EXPECT_EQ(joins.back().instance_id, std::optional<std::string>("odd"));
  EXPECT_EQ(joins.back().error_code, 23);

  // The group goes on as it was.
  const uint64_t heartbeats = heartbeatsOf(coordinator_, "g", a_id);
  ASSERT_TRUE(coordinator_.waitUntil(
      [&] { return heartbeatsOf(coordinator_, "g", a_id) >= heartbeats + 3; }, kWait));
  EXPECT_TRUE(a.stable());
  EXPECT_EQ(a.recorder().owned(), allOrders());
  EXPECT_EQ(coordinator_.generation("g"), generation);
  EXPECT_EQ(coordinator_.members("g").size(), 1u);
  EXPECT_EQ(a.recorder().events(), std::vector<std::string>{"assigned 4"});
}

// ---------------------------------------------------------------------------------------------
// Daemons.

// One Subscribe call whose responses a thread of its own collects, so that a test can look at
// what came while it did something else.
class SubscribeCall {
 public:
  SubscribeCall(const std::string& address, const v1::SessionSpec& spec)
      : stub_(v1::Consumer::NewStub(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()))) {
    context_.set_deadline(std::chrono::system_clock::now() + 60s);
    stream_ = stub_->Subscribe(&context_);
    v1::SubscribeRequest open;
    *open.mutable_open() = spec;
    EXPECT_TRUE(stream_->Write(open));
    reader_ = std::thread([this] {
      v1::SubscribeResponse response;
      while (stream_->Read(&response)) {
        std::lock_guard lock(mutex_);
        responses_.push_back(response);
        changed_.notify_all();
      }
      std::lock_guard lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~SubscribeCall() {
    if (reader_.joinable()) {
      context_.TryCancel();
      reader_.join();
    }
  }
  SubscribeCall(const SubscribeCall&) = delete;
  SubscribeCall& operator=(const SubscribeCall&) = delete;

  std::vector<v1::ConsumerEvent> events() const {
    std::lock_guard lock(mutex_);
    std::vector<v1::ConsumerEvent> out;
    for (const auto& response : responses_) {
      if (response.has_event()) out.push_back(response.event());
    }
    return out;
  }
  // The partitions owned now, by the assigned, revoked and lost events so far.
  Partitions owned() const {
    Partitions out;
    for (const v1::ConsumerEvent& event : events()) {
      const v1::TopicPartitionsEvent* change = event.has_assigned()  ? &event.assigned()
                                               : event.has_revoked() ? &event.revoked()
                                               : event.has_lost()    ? &event.lost()
                                                                     : nullptr;
      if (!change) continue;
      for (const v1::TopicPartitions& topic : change->partitions()) {
        for (int32_t partition : topic.partitions()) {
          if (event.has_assigned()) {
            out.insert({topic.topic(), partition});
          } else {
            out.erase({topic.topic(), partition});
          }
        }
      }
    }
    return out;
  }
  bool ended() const {
    std::lock_guard lock(mutex_);
    return ended_;
  }
  bool waitEnded(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [this] { return ended_; });
  }
  // After the call ended.
  grpc::Status finish() {
    reader_.join();
    return stream_->Finish();
  }

 private:
  std::unique_ptr<v1::Consumer::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::SubscribeRequest, v1::SubscribeResponse>> stream_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<v1::SubscribeResponse> responses_;
  bool ended_ = false;
  std::thread reader_;
};

size_t membershipEvents(const std::vector<v1::ConsumerEvent>& events) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(), [](const auto& e) {
    return e.has_assigned() || e.has_revoked() || e.has_lost();
  }));
}

class StaticMembershipDaemonTest : public ::testing::Test {
 protected:
  std::unique_ptr<sidecar::Daemon> startDaemon() {
    sidecar::DaemonConfig config;
    config.grpc_listen = "127.0.0.1:0";
    config.http_listen = {"127.0.0.1", 0};
    config.threads = 2;
    config.bootstrap_servers = {coordinator_.bootstrap()};
    auto daemon =
        std::make_unique<sidecar::Daemon>(std::move(config), sidecar::Daemon::Signals::kIgnore);
    daemon->start();
    return daemon;
  }

  static void stop(std::unique_ptr<sidecar::Daemon>& daemon) {
    daemon->requestStop();
    daemon->wait();
    daemon.reset();
  }

  // Session `session` of group "g".
  static v1::SessionSpec spec(const std::string& session, std::optional<std::string> instance_id,
                              std::vector<std::string> assignors = {"range"}) {
    v1::SessionSpec spec;
    spec.set_group("g");
    spec.set_name(session);
    spec.add_topics("orders");
    for (const std::string& name : assignors) spec.add_assignors(name);
    if (instance_id) spec.set_group_instance_id(*instance_id);
    spec.set_session_timeout_ms(3000);
    spec.set_offset_reset(v1::OFFSET_RESET_EARLIEST);
    spec.set_ack_mode(v1::ACK_MODE_AUTO);
    return spec;
  }

  FakeGroupCoordinator coordinator_;
};

TEST_F(StaticMembershipDaemonTest, RestartedDaemonGetsItsPartitionsBackUnnoticed) {
  auto first = startDaemon();
  auto second = startDaemon();
  auto one = std::make_unique<SubscribeCall>(first->grpcAddress(), spec("pod-1", "pod-1"));
  SubscribeCall two(second->grpcAddress(), spec("pod-2", "pod-2"));
  ASSERT_TRUE(coordinator_.waitUntil(
      [&] {
        Partitions both = one->owned();
        const Partitions theirs = two.owned();
        both.insert(theirs.begin(), theirs.end());
        return one->owned().size() == 2 && theirs.size() == 2 && both == allOrders() &&
               coordinator_.state("g") == "Stable";
      },
      kWait))
      << "pod-1 owns " << one->owned().size() << ", pod-2 owns " << two.owned().size();
  const Partitions one_owned = one->owned();
  const Partitions two_owned = two.owned();
  const std::string old_id = coordinator_.memberIdOf("g", "pod-1");
  const std::string two_id = coordinator_.memberIdOf("g", "pod-2");
  const int32_t generation = coordinator_.generation("g");
  const size_t rebalances = coordinator_.rebalances("g").size();
  const size_t two_events = membershipEvents(two.events());
  const auto heartbeat_errors = coordinator_.heartbeatErrors("g");

  // A drained shutdown: the session commits and leaves, which a static member does quietly.
  stop(first);
  ASSERT_TRUE(one->waitEnded(kWait));
  EXPECT_EQ(one->finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  one.reset();
  EXPECT_EQ(coordinator_.leaveGroupRequests("g"), 0) << "a static session sent LeaveGroup";

  first = startDaemon();
  SubscribeCall again(first->grpcAddress(), spec("pod-1", "pod-1"));
  ASSERT_TRUE(coordinator_.waitUntil([&] { return again.owned() == one_owned; }, kWait))
      << "pod-1 came back owning " << again.owned().size() << " partitions";
  EXPECT_NE(coordinator_.memberIdOf("g", "pod-1"), old_id);

  // Several heartbeats of pod-2 (a second apart) later, nothing has moved.
  const uint64_t two_heartbeats = heartbeatsOf(coordinator_, "g", two_id);
  ASSERT_TRUE(coordinator_.waitUntil(
      [&] { return heartbeatsOf(coordinator_, "g", two_id) >= two_heartbeats + 2; }, kWait));
  EXPECT_EQ(again.owned(), one_owned);
  EXPECT_EQ(membershipEvents(again.events()), 1u) << "pod-1 should only have been assigned";
  EXPECT_EQ(two.owned(), two_owned);
  EXPECT_EQ(membershipEvents(two.events()), two_events) << "pod-2 saw a revoke or an assign";
  EXPECT_EQ(coordinator_.generation("g"), generation);
  EXPECT_EQ(coordinator_.rebalances("g").size(), rebalances);
  EXPECT_EQ(coordinator_.staticRejoins("g").size(), 1u);
  EXPECT_EQ(coordinator_.heartbeatErrors("g"), heartbeat_errors);
  EXPECT_FALSE(two.ended());
  EXPECT_EQ(coordinator_.unhandledApis(), std::vector<int16_t>{});

  stop(first);
  stop(second);
}

TEST_F(StaticMembershipDaemonTest, SessionSharingNoAssignorWithTheGroupEndsAloneWithAClearError) {
  auto daemon = startDaemon();
  auto stub = v1::Consumer::NewStub(
      grpc::CreateChannel(daemon->grpcAddress(), grpc::InsecureChannelCredentials()));
  // The session that goes on, read with Open and Poll.
  std::string session_id;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::OpenRequest request;
    *request.mutable_spec() = spec("steady", std::nullopt, {"range", "cooperative-sticky"});
    v1::OpenResponse response;
    ASSERT_TRUE(stub->Open(&context, request, &response).ok());
    session_id = response.session_id();
  }
  std::vector<v1::ConsumerEvent> polled;
  auto poll = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    v1::PollRequest request;
    request.set_session_id(session_id);
    request.set_timeout_ms(200);
    v1::PollResponse response;
    const grpc::Status status = stub->Poll(&context, request, &response);
    polled.insert(polled.end(), response.events().begin(), response.events().end());
    return status;
  };
  ASSERT_TRUE(coordinator_.waitUntil(
      [&] {
        EXPECT_TRUE(poll().ok());
        return membershipEvents(polled) == 1 && coordinator_.state("g") == "Stable";
      },
      kWait));
  ASSERT_EQ(coordinator_.members("g").size(), 1u);
  const std::string member_id = coordinator_.members("g").front().member_id;
  const int32_t generation = coordinator_.generation("g");

  SubscribeCall odd(daemon->grpcAddress(), spec("odd", std::nullopt, {"roundrobin"}));
  ASSERT_TRUE(odd.waitEnded(kWait));
  EXPECT_EQ(odd.finish().error_code(), grpc::StatusCode::ABORTED);
  std::optional<v1::ConsumerErrorEvent> fatal;
  for (const v1::ConsumerEvent& event : odd.events()) {
    if (event.has_error() && event.error().fatal()) fatal = event.error();
  }
  ASSERT_TRUE(fatal.has_value()) << "no fatal error event";
  EXPECT_EQ(fatal->error().code(), 23);
  EXPECT_EQ(fatal->error().name(), "INCONSISTENT_GROUP_PROTOCOL");
  // It names the group and the setting to change.
  EXPECT_NE(fatal->error().message().find("group g"), std::string::npos)
      << fatal->error().message();
  EXPECT_NE(fatal->error().message().find("assignors (roundrobin)"), std::string::npos)
      << fatal->error().message();
  EXPECT_EQ(membershipEvents(odd.events()), 0u);

  // The first session still heartbeats, answers Poll and owns everything.
  const uint64_t heartbeats = heartbeatsOf(coordinator_, "g", member_id);
  ASSERT_TRUE(coordinator_.waitUntil(
      [&] { return heartbeatsOf(coordinator_, "g", member_id) >= heartbeats + 2; }, kWait));
  EXPECT_TRUE(poll().ok());
  EXPECT_EQ(membershipEvents(polled), 1u) << "the first session saw a revoke or an assign";
  EXPECT_EQ(coordinator_.generation("g"), generation);
  EXPECT_EQ(coordinator_.members("g").size(), 1u);

  stop(daemon);
}

}  // namespace
}  // namespace kafka
