// FakeGroupCoordinator: a one-broker Kafka cluster on a FakeBroker that is also the coordinator of
// every consumer group, with the classic group protocol's static membership (KIP-345), which
// librdkafka's mock cluster lacks, and an INCONSISTENT_GROUP_PROTOCOL answer where the mock
// aborts. Enough of a broker to host a consumer: ApiVersions, Metadata (fixed topics, every
// partition led by this broker), FindCoordinator (itself), ListOffsets (an empty log: earliest
// and latest are 0), Fetch (held briefly, then empty), OffsetCommit and OffsetFetch (in memory).
//
// Groups follow Kafka's GroupCoordinator: Empty -> PreparingRebalance -> CompletingRebalance ->
// Stable.
//   - A rebalance ends once every member has rejoined (not before the initial delay when the
//     group was empty), or at the members' longest rebalance timeout, when dynamic members that
//     did not rejoin are dropped. The generation then goes up, a protocol that every member lists
//     is chosen by vote, and the leader gets every member's metadata.
//   - A new dynamic member joining with v4+ is first answered MEMBER_ID_REQUIRED (KIP-394).
//   - A JoinGroup with no member id and a known group.instance.id replaces the old member id
//     with a new one. In a Stable group that keeps the generation and the assignment and is
//     answered at once, with no rebalance; v9+ tell a returning leader to skip the assignment
//     (KIP-814). The old member id is fenced (FENCED_INSTANCE_ID) from then on.
//   - A dynamic member joining, a LeaveGroup, a session that expires, or a changed subscription
//     from the leader or in a Stable group, starts a rebalance: heartbeats then answer
//     REBALANCE_IN_PROGRESS until the member rejoins.
//   - A member whose protocol type differs from the group's, or who lists no protocol that every
//     member lists, is answered INCONSISTENT_GROUP_PROTOCOL and does not join.
//
// Not done: several brokers or moving coordinators, records (logs are empty), fetch sessions,
// transactions, DescribeGroups/ListGroups, group size limits, pending-member expiry, offset
// expiry, the consumer group protocol (KIP-848). Any other API closes the connection and is
// recorded in unhandledApis().
//
// Owned by a test. Each connection's requests are served on a thread of the FakeBroker;
// JoinGroup and SyncGroup block that thread until the rebalance lets them answer. A thread of
// its own expires sessions and ends rebalances. Every public method may be called from any
// thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/fake_broker.hpp"

namespace kafka::testing {

class FakeGroupCoordinator {
 public:
  using Clock = std::chrono::steady_clock;

  struct Options {
    // Topics and their partition counts.
    std::map<std::string, int32_t> topics{{"orders", 4}};
    // group.initial.rebalance.delay.ms: how long the first rebalance of an empty group waits
    // for more members.
    std::chrono::milliseconds initial_rebalance_delay{300};
    // How long an empty Fetch is held (at most the request's max wait).
    std::chrono::milliseconds fetch_hold{150};
  };

  // A completed join phase: the generation it made and who was in it.
  struct Rebalance {
    std::string group;
    int32_t generation = 0;
    std::string protocol;
    std::string leader;
    std::vector<std::string> members;  // member ids, sorted
    std::string reason;                // what started it
  };

  // A static member that came back under a new member id without a rebalance.
  struct StaticRejoin {
    std::string group;
    std::string instance_id;
    std::string old_member_id;
    std::string new_member_id;
    int32_t generation = 0;
  };

  // One JoinGroup request and its answer.
  struct JoinRecord {
    std::string group;
    std::string member_id;  // as sent
    std::optional<std::string> instance_id;
    std::vector<std::string> protocols;
    int16_t version = 0;
    int16_t error_code = 0;  // of the answer
  };

  // A member as the coordinator sees it now.
  struct MemberView {
    std::string member_id;
    std::optional<std::string> instance_id;
    uint64_t heartbeats = 0;  // answered NONE
  };

  explicit FakeGroupCoordinator(Options options);
  FakeGroupCoordinator() : FakeGroupCoordinator(Options{}) {}
  // Wakes every blocked request (they are answered COORDINATOR_NOT_AVAILABLE) before the
  // broker closes its connections.
  ~FakeGroupCoordinator();
  FakeGroupCoordinator(const FakeGroupCoordinator&) = delete;
  FakeGroupCoordinator& operator=(const FakeGroupCoordinator&) = delete;

  uint16_t port() const { return broker_->port(); }
  // "127.0.0.1:PORT"
  std::string bootstrap() const;

  // Observations.
  std::vector<Rebalance> rebalances(const std::string& group) const;
  std::vector<StaticRejoin> staticRejoins(const std::string& group) const;
  std::vector<JoinRecord> joins(const std::string& group) const;
  // LeaveGroup requests received for the group (each may name several members).
  int leaveGroupRequests(const std::string& group) const;
  // 0 before the first rebalance, -1 for a group never heard of.
  int32_t generation(const std::string& group) const;
  // "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", or "" for an unknown group.
  std::string state(const std::string& group) const;
  std::vector<MemberView> members(const std::string& group) const;
  // The member id of a static member, or "".
  std::string memberIdOf(const std::string& group, const std::string& instance_id) const;
  // Heartbeats of the group answered with an error, as "member-id: CODE".
  std::vector<std::string> heartbeatErrors(const std::string& group) const;
  // SyncGroup requests carrying assignments that a Stable group ignored (as Kafka does).
  int ignoredAssignments(const std::string& group) const;
  // API keys of requests this fake does not serve.
  std::vector<int16_t> unhandledApis() const;

  // Waits (bounded) until `condition` holds, checking it whenever the groups change and at least
  // every 50 ms; returns its last value. `condition` may call the observers above.
  bool waitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

 private:
  enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable };
  struct JoinAnswer;
  struct Member;
  struct Group;
  using Request = FakeBroker::Request;
  using Reply = FakeBroker::Reply;
  using Lock = std::unique_lock<std::mutex>;

  static std::string_view stateName(GroupState state);

  Reply serve(const Request& request);
  Reply apiVersions(const Request& request);
  Reply metadata(const Request& request);
  Reply findCoordinator(const Request& request);
  Reply listOffsets(const Request& request);
  Reply fetch(const Request& request);
  Reply offsetCommit(const Request& request);
  Reply offsetFetch(const Request& request);
  Reply joinGroup(const Request& request);
  Reply syncGroup(const Request& request);
  Reply heartbeat(const Request& request);
  Reply leaveGroup(const Request& request);

  // The group rules; all with mutex_ held.
  Group& groupNamed(const std::string& name);
  // Groups are never erased: references to them stay valid.
  const Group* findGroup(const std::string& name) const;
  Group* findGroup(const std::string& name);
  std::string newMemberId(const std::optional<std::string>& instance_id,
                          const std::optional<std::string>& client_id);
  // An error code when `member_id` / `instance_id` cannot act in the group, else 0.
  int16_t checkMember(const Group& group, const std::string& member_id,
                      const std::optional<std::string>& instance_id) const;
  bool supportsProtocols(const Group& group, const std::string& protocol_type,
                         const std::vector<std::string>& protocols) const;
  std::string selectProtocol(const Group& group) const;
  void prepareRebalance(Group& group, const std::string& reason);
  // Ends the join phase if it may end now.
  void maybeCompleteJoin(Group& group);
  void completeJoin(Group& group);
  void removeMember(Group& group, const std::string& member_id);
  // Waits (mutex_ held through `lock`) until `member_id` has a join answer.
  JoinAnswer awaitJoin(Lock& lock, Group& group, const std::string& member_id);
  void tick();

  const Options options_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  uint64_t next_member_ = 0;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  std::vector<int16_t> unhandled_;
  std::thread ticker_;
  // Last: its connection threads call serve() until it is destroyed.
  std::unique_ptr<FakeBroker> broker_;
};

}  // namespace kafka::testing
