// kafka::group::GroupMembership: one member of a Kafka consumer group, held for as long as its
// owner (a consumer session) wants it.
//
//   unjoined ─► finding coordinator ─► joining ─► syncing ─► stable ─(heartbeats)─┐
//        ▲            ▲  (NOT_COORDINATOR,         │ (leader assigns)               │
//        │            │   coordinator gone)       ◄┴── REBALANCE_IN_PROGRESS, ◄─────┘
//        │            └──────────────────────────────  subscription or partition counts changed
//        └── UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, session expired (partitions lost)
//
// - FindCoordinator, then JoinGroup (with the retry that KIP-394 asks for when the coordinator
//   hands out a member id), SyncGroup, and Heartbeat every heartbeat interval while stable.
// - When this member leads, it fetches the partition counts of every member's topics and runs
//   the assignor the coordinator chose.
// - Eager protocols: every owned partition is revoked before rejoining. Cooperative protocols
//   (KIP-429), followed when every configured assignor is cooperative, as Kafka's Java client
//   does: only partitions that move are revoked, after SyncGroup, followed by one more
//   rebalance so that they can be assigned to their new owner.
// - Coordinator errors rediscover the coordinator; membership errors rejoin, reporting the
//   partitions lost where the member could no longer commit them.
// - A pattern subscription (ECMAScript, matching whole topic names, as Java's Pattern.matches)
//   is matched against every topic on each metadata refresh; a change in the matched topics or
//   their partition counts triggers a rejoin.
// - JoinGroup and SyncGroup, which the coordinator holds for a whole rebalance, go over a
//   connection of this member's own; heartbeats, commits and offset fetches share the cluster's
//   group connection, so that one member's rebalance never delays another's heartbeats.
//
// Owned by shared_ptr (create()). Runs on the strand it is given, which its owner shares:
// public methods must be called on that strand, and listener calls and completions run on it.
// Destroying it without leave() sends no LeaveGroup (the coordinator drops the member after its
// session timeout) and drops the completions of commits and fetches still under way.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/common/log.hpp"
#include "client_core/group/assignor.hpp"
#include "client_core/group/group_config.hpp"
#include "client_core/net/backoff.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::group {

// What the member subscribes to: named topics, or every topic whose whole name matches
// `pattern` when it is not empty.
struct TopicSubscription {
  std::vector<std::string> topics;
  std::string pattern;
};

// A reason naming the fault: no topics and no pattern, an invalid topic name, or a pattern that
// is not a valid ECMAScript regular expression.
Result<void> validate(const TopicSubscription& subscription);

// Told what the group decided. Called on the membership's strand; must not block.
class MembershipListener {
 public:
  virtual ~MembershipListener() = default;
  // The member owns `added` from now on, in addition to what it owned.
  virtual void onPartitionsAssigned(const std::vector<TopicPartition>& added) = 0;
  // The member must give up `revoked`: stop delivering them, commit what was processed, then
  // call `done` once. The membership waits for it before going on with the rebalance.
  virtual void onPartitionsRevoked(const std::vector<TopicPartition>& revoked,
                                   std::function<void()> done) = 0;
  // `lost` belong to the member no more and must not be committed: its membership expired or
  // was fenced. The membership rejoins by itself.
  virtual void onPartitionsLost(const std::vector<TopicPartition>& lost) = 0;
  // The membership cannot go on (e.g. GROUP_AUTHORIZATION_FAILED, INCONSISTENT_GROUP_PROTOCOL,
  // FENCED_INSTANCE_ID) and has stopped; its partitions were reported lost first.
  virtual void onFatalError(const Error& error) = 0;
};

struct OffsetToCommit {
  TopicPartition partition;
  int64_t offset = 0;  // the next record to consume
  int32_t leader_epoch = -1;
  std::string metadata;
};

struct PartitionResult {
  TopicPartition partition;
  Error error;
};

struct CommittedOffset {
  TopicPartition partition;
  Error error;
  int64_t offset = -1;  // -1: the group has no committed offset for the partition
  int32_t leader_epoch = -1;
  std::string metadata;
};

class GroupMembership : public std::enable_shared_from_this<GroupMembership> {
 public:
  using Strand = boost::asio::strand<boost::asio::any_io_executor>;
  enum class State {
    kUnjoined,
    kFindingCoordinator,
    kJoining,
    kSyncing,
    kStable,
    kLeaving,
    kLeft,
    kFailed,
  };
  static std::string_view stateName(State state);

  // `config` must pass validate(). The listener is held weakly: the owner usually holds the
  // membership.
  static std::shared_ptr<GroupMembership> create(Strand strand, std::shared_ptr<Cluster> cluster,
                                                 GroupConfig config,
                                                 std::weak_ptr<MembershipListener> listener);
  ~GroupMembership();
  GroupMembership(const GroupMembership&) = delete;
  GroupMembership& operator=(const GroupMembership&) = delete;

  // Joins with `subscription` (which must pass validate()), or rejoins when it differs from
  // the current one.
  void subscribe(TopicSubscription subscription);

  // Leaves the group: revokes the owned partitions (the listener commits), sends LeaveGroup
  // unless the member is static, and stops heartbeats. `done` runs once it is over, or after
  // the request deadline. Commits still work afterwards, as for a consumer without a group.
  void leave(std::function<void()> done);

  // Commits offsets under the current generation (or, with no membership, as a consumer
  // without a group: generation -1). Coordinator errors and retriable errors are retried until
  // the request deadline. Completes with one result per offset; REBALANCE_IN_PROGRESS and
  // ILLEGAL_GENERATION fail the commit (the partitions are about to move) and trigger a rejoin.
  void commitOffsets(std::vector<OffsetToCommit> offsets,
                     std::function<void(Result<std::vector<PartitionResult>>)> done);

  // The group's committed offsets for `partitions` (OffsetFetch), retried like commits.
  void fetchCommittedOffsets(std::vector<TopicPartition> partitions,
                             std::function<void(Result<std::vector<CommittedOffset>>)> done);

  State state() const { return state_; }
  int32_t generation() const { return generation_; }
  const std::string& memberId() const { return member_id_; }
  // The assignor the coordinator chose at the last join; empty before the first.
  const std::string& protocolName() const { return protocol_name_; }
  // Partitions owned now, sorted.
  const std::vector<TopicPartition>& assignment() const { return assignment_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct CoordinatorOp;
  // How a response error bears on the membership (see reactionTo() in the .cpp).
  enum class Reaction {
    kOk,
    kRejoinNow,
    kRetry,
    kResetGeneration,
    kResetMember,
    kFindCoordinator,
    kFatal
  };

  GroupMembership(Strand strand, std::shared_ptr<Cluster> cluster, GroupConfig config,
                  std::weak_ptr<MembershipListener> listener);

  static Reaction reactionTo(ErrorCode code);
  // A completion handler bound to the strand that runs `f` only while the membership lives.
  template <class F>
  auto guard(F f);
  // "group G member M generation N", for errors.
  std::string describe() const;
  // "member M generation N", for logs, which carry the cluster and group as their context.
  std::string memberText() const;
  log::Context logContext() const;
  // The broker's `code`, as an error of this group.
  Error groupError(ErrorCode code) const;
  void setState(State state, std::string_view why);

  // The rebalance flow: one step at a time (busy_), each ending by calling step() again. A flow
  // that is abandoned (leave, fatal error, lost membership) bumps flow_epoch_, and the
  // callbacks of the old flow find it changed and drop out.
  void step();
  void scheduleStep(std::chrono::milliseconds delay);
  void abandonFlow();
  void requestRejoin(std::string reason);
  void resolvePattern();
  void prepareJoin();
  void join();
  void onJoin(uint64_t epoch, Result<protocol::JoinGroupResponse> result);
  // The leader's part: assigns the members' partitions, or with `skip_assignment` (KIP-814)
  // only watches their topics, then syncs.
  void assign(uint64_t epoch, std::vector<protocol::JoinGroupResponse::Member> members,
              bool skip_assignment);
  void assignWith(uint64_t epoch, const std::vector<GroupMember>& members,
                  std::vector<std::string> topics, const MetadataSnapshot* metadata,
                  bool skip_assignment);
  void sync(uint64_t epoch, std::vector<protocol::SyncGroupRequest::Assignment> assignments);
  void onSync(uint64_t epoch, Result<protocol::SyncGroupResponse> result);
  void install(uint64_t epoch, std::vector<TopicPartition> assigned);
  // Ends a join or sync that failed as `reaction` says.
  void joinFailed(Reaction reaction, const Error& error, std::string_view api);
  // Gives up the generation (and the member id when `reset_member_id`), reporting the owned
  // partitions lost, and rejoins.
  void resetGeneration(bool reset_member_id, const std::string& why);
  void fail(Error error);
  // Has the listener revoke `partitions`, then calls `next` once it is done or after `limit`.
  void revoke(std::vector<TopicPartition> partitions, std::chrono::milliseconds limit,
              std::function<void()> next);
  void reportLost(std::vector<TopicPartition> lost);
  bool subscribedTo(const std::string& topic) const;
  std::vector<std::string> matchingTopics(const MetadataSnapshot& metadata) const;
  void closeJoinConnection();

  // Heartbeats while stable, and the session they keep alive.
  void scheduleHeartbeat(std::chrono::milliseconds delay);
  void heartbeat();
  void onHeartbeat(int32_t sent_generation, Result<protocol::HeartbeatResponse> result);
  // True (and the membership reset) when no heartbeat has succeeded for a session timeout.
  bool sessionExpired();

  // Pattern topics and, for the leader, partition counts: polled, rejoining on a change.
  void armMetadataPoll();
  void pollMetadata();
  void onPolledMetadata(Result<MetadataPtr> result);

  // The coordinator: found on demand, for the flow and for commits and fetches alike.
  void coordinatorLost(const std::string& why);
  void whenCoordinatorKnown(std::function<void()> waiter);
  void discover();
  void askForCoordinator();
  void onFindCoordinator(Result<protocol::FindCoordinatorResponse> result);
  // Takes broker `node` as the coordinator once the metadata knows it; false when it does not.
  bool adoptCoordinator(NodeId node);
  void discoveryFailed(const Error& error);
  std::shared_ptr<net::BrokerConnection> coordinatorConnection();

  // Commits and offset fetches: retried until their deadline.
  void runOp(const std::shared_ptr<CoordinatorOp>& op);
  void retryOp(const std::shared_ptr<CoordinatorOp>& op, const Error& error);
  void finishOp(const std::shared_ptr<CoordinatorOp>& op);
  void sendCommit(const std::shared_ptr<CoordinatorOp>& op,
                  const std::shared_ptr<net::BrokerConnection>& connection);
  void onCommit(const std::shared_ptr<CoordinatorOp>& op, int32_t sent_generation,
                Result<protocol::OffsetCommitResponse> result);
  void sendFetch(const std::shared_ptr<CoordinatorOp>& op,
                 const std::shared_ptr<net::BrokerConnection>& connection);
  void onFetch(const std::shared_ptr<CoordinatorOp>& op,
               Result<protocol::OffsetFetchResponse> result);

  // leave()
  void sendLeaveGroup();
  void finishLeave();

  Strand strand_;
  std::shared_ptr<Cluster> cluster_;
  const GroupConfig config_;
  std::weak_ptr<MembershipListener> listener_;
  // Every configured assignor is cooperative: then, as in Kafka's Java client, the member
  // follows the cooperative protocol; otherwise the eager one.
  const bool cooperative_;

  State state_ = State::kUnjoined;
  int32_t generation_ = -1;
  std::string member_id_;
  std::string protocol_name_;
  std::vector<TopicPartition> assignment_;

  TopicSubscription subscription_;
  std::optional<std::regex> pattern_;
  bool pattern_resolved_ = false;
  std::vector<std::string> topics_;  // subscribed: named, or matching the pattern; sorted
  bool active_ = false;              // subscribed, neither left nor failed
  bool busy_ = false;                // a step of the rebalance flow is under way
  uint64_t flow_epoch_ = 0;
  bool rejoin_needed_ = false;
  std::string rejoin_reason_;
  bool leader_ = false;
  std::vector<std::string> leader_topics_;  // every member's topics, when leading
  PartitionCounts leader_counts_;           // their partition counts at the last assignment
  std::shared_ptr<net::BrokerConnection> join_connection_;  // JoinGroup and SyncGroup only
  boost::asio::steady_timer step_timer_;
  net::Backoff rejoin_backoff_;

  boost::asio::steady_timer heartbeat_timer_;
  bool heartbeat_armed_ = false;
  bool heartbeat_in_flight_ = false;
  Clock::time_point last_heartbeat_ok_{};
  net::Backoff heartbeat_backoff_;

  boost::asio::steady_timer metadata_timer_;
  bool metadata_armed_ = false;

  NodeId coordinator_ = kNoNode;
  bool discovering_ = false;
  size_t discovery_attempts_ = 0;
  Clock::time_point discovery_not_before_{};
  net::Backoff discovery_backoff_;
  boost::asio::steady_timer discovery_timer_;
  std::vector<std::function<void()>> coordinator_waiters_;
  std::set<std::shared_ptr<CoordinatorOp>> open_ops_;  // commits and fetches under way

  boost::asio::steady_timer revoke_timer_;
  uint64_t revoke_serial_ = 0;

  boost::asio::steady_timer leave_timer_;
  std::vector<std::function<void()>> leave_waiters_;
  bool resubscribe_after_leave_ = false;
};

}  // namespace kafka::group
