#include "client_core/group/group_membership.hpp"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <iterator>
#include <map>
#include <set>
#include <utility>

#include "client_core/cluster/topic_name.hpp"
#include "client_core/common/log.hpp"
#include "client_core/group/consumer_protocol.hpp"

namespace kafka::group {

namespace {

using namespace std::chrono_literals;

constexpr std::string_view kProtocolType = "consumer";
// As Kafka's Java client: the coordinator may hold JoinGroup and SyncGroup for a whole rebalance,
// so they may take the rebalance timeout and a little more.
constexpr std::chrono::milliseconds kRebalanceMargin = 5s;
// Pattern subscriptions and leaders look for new topics and partitions at least this often. Java
// and librdkafka only notice them at the metadata refresh interval (five minutes by default),
// which would leave an application of the sidecar without a new topic's records for minutes;
// the cost is one metadata request per pattern member or leader every few seconds, and members
// that subscribe to named topics without leading poll nothing.
constexpr std::chrono::milliseconds kMetadataPollMax = 5s;
// Kafka keeps at most this much of a JoinGroup reason.
constexpr size_t kMaxReasonLength = 255;

// Both sorted.
std::vector<TopicPartition> minus(const std::vector<TopicPartition>& a,
                                  const std::vector<TopicPartition>& b) {
  std::vector<TopicPartition> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// "orders[0,1] payments[3]" for logs.
std::string listPartitions(const std::vector<TopicPartition>& partitions) {
  if (partitions.empty()) return "none";
  std::string text;
  for (const TopicPartitions& topic : groupByTopic(partitions)) {
    if (!text.empty()) text += ' ';
    text += topic.topic + '[';
    for (size_t i = 0; i < topic.partitions.size(); ++i) {
      if (i > 0) text += ',';
      text += std::to_string(topic.partitions[i]);
    }
    text += ']';
  }
  return text;
}

PartitionCounts countsOf(const MetadataSnapshot* metadata, const std::vector<std::string>& topics) {
  PartitionCounts counts;
  if (metadata == nullptr) return counts;
  for (const std::string& name : topics) {
    const TopicInfo* topic = metadata->topic(name);
    if (topic != nullptr && topic->error == ErrorCode::kNone && !topic->partitions.empty()) {
      counts[name] = static_cast<int32_t>(topic->partitions.size());
    }
  }
  return counts;
}

bool allCooperative(const std::vector<std::string>& assignors) {
  return !assignors.empty() &&
         std::all_of(assignors.begin(), assignors.end(), [](const std::string& name) {
           auto assignor = makeAssignor(name);
           return assignor && assignor->protocol() == RebalanceProtocol::kCooperative;
         });
}

// The connection, not the broker, failed: the coordinator may be gone.
bool connectionFailed(ErrorCode code) {
  return code == ErrorCode::kTransport || code == ErrorCode::kRequestTimedOutLocally ||
         code == ErrorCode::kShuttingDown;
}

std::string msText(std::chrono::milliseconds value) {
  return std::to_string(value.count()) + " ms";
}

}  // namespace

// A commit or an offset fetch, retried until its deadline.
struct GroupMembership::CoordinatorOp {
  CoordinatorOp(const Strand& strand, const GroupConfig& config)
      : deadline(Clock::now() + config.request_deadline),
        backoff(config.retry_backoff, config.retry_backoff_max),
        timer(strand) {}

  bool commit = true;  // else an offset fetch
  std::vector<OffsetToCommit> offsets;
  std::vector<PartitionResult> committed;
  std::function<void(Result<std::vector<PartitionResult>>)> commit_done;
  std::vector<CommittedOffset> fetched;
  std::function<void(Result<std::vector<CommittedOffset>>)> fetch_done;

  std::vector<size_t> pending;   // positions still to be answered
  std::optional<Error> failure;  // for the request as a whole
  Error last_error{ErrorCode::kCoordinatorNotAvailable, "no group coordinator was found"};
  Clock::time_point deadline;
  net::Backoff backoff;
  boost::asio::steady_timer timer;  // backoff, or the deadline while the coordinator is unknown
  int attempts = 0;
  bool finished = false;
};

template <class F>
auto GroupMembership::guard(F f) {
  return boost::asio::bind_executor(
      strand_, [weak = weak_from_this(), f = std::move(f)](auto&&... args) mutable {
        if (auto self = weak.lock()) f(std::forward<decltype(args)>(args)...);
      });
}

Result<void> validate(const TopicSubscription& subscription) {
  if (subscription.topics.empty() && subscription.pattern.empty()) {
    return Error{ErrorCode::kInvalidArgument, "the subscription names no topics and no pattern"};
  }
  for (const std::string& topic : subscription.topics) {
    if (auto problem = topicNameProblem(topic)) {
      return Error{ErrorCode::kInvalidArgument, "subscription: " + *problem};
    }
  }
  if (!subscription.pattern.empty()) {
    try {
      std::regex(subscription.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Error{ErrorCode::kInvalidArgument,
                   "the subscription pattern '" + subscription.pattern +
                       "' is not a valid ECMAScript regular expression: " + e.what()};
    }
  }
  return {};
}

std::string_view GroupMembership::stateName(State state) {
  switch (state) {
    case State::kUnjoined:
      return "unjoined";
    case State::kFindingCoordinator:
      return "finding-coordinator";
    case State::kJoining:
      return "joining";
    case State::kSyncing:
      return "syncing";
    case State::kStable:
      return "stable";
    case State::kLeaving:
      return "leaving";
    case State::kLeft:
      return "left";
    case State::kFailed:
      return "failed";
  }
  return "?";
}

GroupMembership::Reaction GroupMembership::reactionTo(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNone:
      return Reaction::kOk;
    case ErrorCode::kUnknownMemberId:
      return Reaction::kResetMember;
    // As Kafka's Java client: the member id may still be good, and rejoining with it spares the
    // coordinator waiting for the old one.
    case ErrorCode::kIllegalGeneration:
      return Reaction::kResetGeneration;
    case ErrorCode::kRebalanceInProgress:
    case ErrorCode::kMemberIdRequired:
      return Reaction::kRejoinNow;
    // librdkafka's mock broker writes null strings into error responses where Kafka's schemas
    // have none (JoinGroup's leader and member id, SyncGroup's assignment, FindCoordinator's
    // host), so such responses do not decode and their error code is lost. Trying again is what
    // every such code asks for, bar the fatal ones, which come back on the next attempt.
    case ErrorCode::kMalformedMessage:
      return Reaction::kRetry;
    default:
      break;
  }
  if (connectionFailed(code)) return Reaction::kFindCoordinator;
  switch (errorAction(code)) {
    case ErrorAction::kRetry:
    case ErrorAction::kRefreshMetadata:
      return Reaction::kRetry;
    case ErrorAction::kFindCoordinator:
      return Reaction::kFindCoordinator;
    case ErrorAction::kRejoinGroup:
      return Reaction::kRejoinNow;
    default:
      return Reaction::kFatal;
  }
}

std::shared_ptr<GroupMembership> GroupMembership::create(
    Strand strand, std::shared_ptr<Cluster> cluster, GroupConfig config,
    std::weak_ptr<MembershipListener> listener) {
  return std::shared_ptr<GroupMembership>(new GroupMembership(
      std::move(strand), std::move(cluster), std::move(config), std::move(listener)));
}

GroupMembership::GroupMembership(Strand strand, std::shared_ptr<Cluster> cluster,
                                 GroupConfig config, std::weak_ptr<MembershipListener> listener)
    : strand_(std::move(strand)),
      cluster_(std::move(cluster)),
      config_(std::move(config)),
      listener_(std::move(listener)),
      cooperative_(allCooperative(config_.assignors)),
      step_timer_(strand_),
      rejoin_backoff_(config_.retry_backoff, config_.retry_backoff_max),
      heartbeat_timer_(strand_),
      heartbeat_backoff_(config_.retry_backoff, config_.retry_backoff_max),
      metadata_timer_(strand_),
      discovery_backoff_(config_.retry_backoff, config_.retry_backoff_max),
      discovery_timer_(strand_),
      revoke_timer_(strand_),
      leave_timer_(strand_) {}

GroupMembership::~GroupMembership() {
  // No LeaveGroup: the coordinator drops the member after its session timeout. Our timers cancel
  // their waits as they go; those of commits and fetches are cancelled so that nothing holds
  // their executor up until a deadline, and the connection of our own is closed.
  for (const auto& op : open_ops_) op->timer.cancel();
  closeJoinConnection();
}

Error GroupMembership::groupError(ErrorCode code) const {
  return Error{code, "group " + config_.group_id + ": " + std::string(errorDescription(code))};
}

std::string GroupMembership::describe() const {
  return "group " + config_.group_id + " " + memberText();
}

std::string GroupMembership::memberText() const {
  return "member " + (member_id_.empty() ? std::string("(none)") : member_id_) + " generation " +
         std::to_string(generation_);
}

log::Context GroupMembership::logContext() const {
  return {.cluster = cluster_->name(), .group = config_.group_id};
}

void GroupMembership::setState(State state, std::string_view why) {
  if (state == state_) return;
  KS_LOG_IN(kInfo, "group", logContext(),
            memberText() << ": " << stateName(state_) << " -> " << stateName(state) << " (" << why
                         << ")");
  state_ = state;
}

// ---------------------------------------------------------------------------------------------
// Subscribing and the rebalance flow.

void GroupMembership::subscribe(TopicSubscription subscription) {
  if (state_ == State::kFailed) {
    KS_LOG_IN(kWarn, "group", logContext(),
              memberText() << ": subscribe() after the membership failed is ignored");
    return;
  }
  const bool same =
      subscription.topics == subscription_.topics && subscription.pattern == subscription_.pattern;
  if (same && (active_ || resubscribe_after_leave_)) return;
  if (subscription.pattern.empty()) {
    pattern_.reset();
    topics_ = subscription.topics;
    std::sort(topics_.begin(), topics_.end());
    topics_.erase(std::unique(topics_.begin(), topics_.end()), topics_.end());
    pattern_resolved_ = true;
  } else {
    try {
      pattern_.emplace(subscription.pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return fail(Error{ErrorCode::kInvalidArgument,
                        "the subscription pattern '" + subscription.pattern +
                            "' is not a valid ECMAScript regular expression: " + e.what()});
    }
    pattern_resolved_ = false;
  }
  subscription_ = std::move(subscription);
  if (state_ == State::kLeaving) {
    resubscribe_after_leave_ = true;
    return;
  }
  active_ = true;
  requestRejoin("the subscription changed");
  armMetadataPoll();
  step();
}

void GroupMembership::step() {
  if (!active_ || busy_) return;
  if (coordinator_ == kNoNode) {
    busy_ = true;
    setState(State::kFindingCoordinator, "looking for the group coordinator");
    whenCoordinatorKnown([this, epoch = flow_epoch_] {
      if (epoch != flow_epoch_) return;
      busy_ = false;
      step();
    });
    return;
  }
  if (!pattern_resolved_) return resolvePattern();
  if (rejoin_needed_) return prepareJoin();
  if (state_ != State::kStable) {
    // The coordinator was found again while the generation still holds.
    setState(State::kStable, "the coordinator is known again");
    scheduleHeartbeat(0ms);
  }
}

void GroupMembership::scheduleStep(std::chrono::milliseconds delay) {
  step_timer_.expires_after(delay);
  step_timer_.async_wait(guard([this](boost::system::error_code ec) {
    if (!ec) step();
  }));
}

void GroupMembership::abandonFlow() {
  ++flow_epoch_;
  busy_ = false;
  step_timer_.cancel();
  closeJoinConnection();
}

void GroupMembership::requestRejoin(std::string reason) {
  if (!rejoin_needed_)
    KS_LOG_IN(kInfo, "group", logContext(), memberText() << ": to rejoin: " << reason);
  rejoin_needed_ = true;
  rejoin_reason_ = std::move(reason);
}

void GroupMembership::resolvePattern() {
  busy_ = true;
  cluster_->refreshMetadata(
      {}, guard([this, epoch = flow_epoch_](Result<MetadataPtr> result) {
        if (epoch != flow_epoch_) return;
        MetadataPtr metadata = result.ok() ? *result : cluster_->metadata();
        if (!result.ok()) {
          KS_LOG_IN(kWarn, "group", logContext(),
                    memberText() << ": matching the pattern against older metadata: "
                                 << result.error().toString());
        }
        topics_ = metadata ? matchingTopics(*metadata) : std::vector<std::string>{};
        pattern_resolved_ = true;
        busy_ = false;
        step();
      }));
}

void GroupMembership::prepareJoin() {
  busy_ = true;
  setState(State::kJoining, rejoin_reason_);
  // Eager: everything goes before the rebalance. Cooperative (KIP-429): only what the
  // subscription no longer covers; the rest is kept through the rebalance.
  std::vector<TopicPartition> revoked;
  for (const TopicPartition& p : assignment_) {
    if (!cooperative_ || !subscribedTo(p.topic)) revoked.push_back(p);
  }
  revoke(revoked, config_.rebalance_timeout, [this, epoch = flow_epoch_, revoked] {
    if (epoch != flow_epoch_) return;
    assignment_ = minus(assignment_, revoked);
    join();
  });
}

void GroupMembership::join() {
  if (!join_connection_) {
    join_connection_ = cluster_->dedicatedConnection(coordinator_, "group " + config_.group_id);
  }
  if (!join_connection_) {
    coordinatorLost("the coordinator, broker " + std::to_string(coordinator_) +
                    ", is not in the metadata");
    busy_ = false;
    return step();
  }
  MemberSubscription subscription;
  subscription.topics = topics_;
  subscription.owned_partitions = groupByTopic(assignment_);
  subscription.generation_id = generation_;
  subscription.rack_id = config_.rack_id;
  const protocol::Bytes metadata = encodeSubscription(subscription);

  protocol::JoinGroupRequest request;
  request.group_id = config_.group_id;
  request.session_timeout_ms = static_cast<int32_t>(config_.session_timeout.count());
  request.rebalance_timeout_ms = static_cast<int32_t>(config_.rebalance_timeout.count());
  request.member_id = member_id_;
  request.group_instance_id = config_.group_instance_id;
  request.protocol_type = std::string(kProtocolType);
  for (const std::string& name : config_.assignors) {
    request.protocols.push_back({name, metadata, {}});
  }
  request.reason = rejoin_reason_.substr(0, kMaxReasonLength);
  // A rejoin asked for from now on needs another round.
  rejoin_needed_ = false;
  KS_LOG_IN(kDebug, "group", logContext(),
            memberText() << ": JoinGroup for " << topics_.size() << " topics, owning "
                         << listPartitions(assignment_));
  net::RequestOptions options;
  options.timeout = std::max(cluster_->config().connection.request_timeout,
                             config_.rebalance_timeout + kRebalanceMargin);
  join_connection_->request<protocol::JoinGroupApi>(
      std::move(request), options,
      guard([this, epoch = flow_epoch_](Result<protocol::JoinGroupResponse> result) {
        if (epoch == flow_epoch_) onJoin(epoch, std::move(result));
      }));
}

void GroupMembership::onJoin(uint64_t epoch, Result<protocol::JoinGroupResponse> result) {
  if (!result.ok()) return joinFailed(reactionTo(result.error().code), result.error(), "JoinGroup");
  protocol::JoinGroupResponse& response = *result;
  const ErrorCode code = fromWire(response.error_code);
  if (code == ErrorCode::kMemberIdRequired) {
    // KIP-394: the coordinator made up a member id and waits for a join that uses it.
    member_id_ = response.member_id;
    requestRejoin("the coordinator gave the member id " + member_id_);
    busy_ = false;
    return step();
  }
  if (code == ErrorCode::kInconsistentGroupProtocol) {
    // The member's own settings are at fault, so the error names them: Kafka's text alone does
    // not tell an application which setting to change.
    std::string offered;
    for (const std::string& name : config_.assignors) {
      offered += (offered.empty() ? "" : ", ") + name;
    }
    return fail(Error{code, "group " + config_.group_id +
                                ": the coordinator refused this member: none of its assignors (" +
                                offered +
                                ") is offered by every other member, or the group is not a "
                                "consumer group"});
  }
  if (code != ErrorCode::kNone) {
    return joinFailed(reactionTo(code), groupError(code), "JoinGroup");
  }
  const std::string protocol = response.protocol_name.value_or("");
  const bool ours = std::find(config_.assignors.begin(), config_.assignors.end(), protocol) !=
                    config_.assignors.end();
  if (!ours || (response.protocol_type && *response.protocol_type != kProtocolType)) {
    return fail(Error{ErrorCode::kInconsistentGroupProtocol,
                      describe() + ": the coordinator chose protocol " +
                          response.protocol_type.value_or(std::string(kProtocolType)) + "/" +
                          protocol + ", which this member did not offer"});
  }
  generation_ = response.generation_id;
  member_id_ = response.member_id;
  protocol_name_ = protocol;
  leader_ = response.leader == member_id_;
  last_heartbeat_ok_ = Clock::now();
  setState(State::kSyncing, leader_ ? "joined as the leader; assigning with " + protocol
                                    : "joined; waiting for the leader's assignment");
  if (leader_) return assign(epoch, std::move(response.members), response.skip_assignment);
  sync(epoch, {});
}

void GroupMembership::assign(uint64_t epoch,
                             std::vector<protocol::JoinGroupResponse::Member> joined,
                             bool skip_assignment) {
  std::vector<GroupMember> members;
  std::set<std::string> topics;
  for (auto& entry : joined) {
    GroupMember member{std::move(entry.member_id), std::move(entry.group_instance_id), {}};
    auto subscription = decodeSubscription(entry.metadata);
    if (subscription.ok()) {
      member.subscription = std::move(*subscription);
    } else {
      KS_LOG_IN(kWarn, "group", logContext(),
                memberText() << ": the subscription of member " << member.member_id
                             << " does not decode, so it gets no partitions: "
                             << subscription.error().toString());
    }
    topics.insert(member.subscription.topics.begin(), member.subscription.topics.end());
    members.push_back(std::move(member));
  }
  std::vector<std::string> wanted(topics.begin(), topics.end());
  if (wanted.empty()) return assignWith(epoch, members, {}, nullptr, skip_assignment);
  cluster_->refreshMetadata(
      wanted, guard([this, epoch, members = std::move(members), wanted,
                     skip_assignment](Result<MetadataPtr> result) mutable {
        if (epoch != flow_epoch_) return;
        MetadataPtr metadata = result.ok() ? *result : cluster_->metadata();
        if (!result.ok()) {
          KS_LOG_IN(
              kWarn, "group", logContext(),
              memberText() << ": assigning with older metadata: " << result.error().toString());
        }
        assignWith(epoch, members, std::move(wanted), metadata.get(), skip_assignment);
      }));
}

void GroupMembership::assignWith(uint64_t epoch, const std::vector<GroupMember>& members,
                                 std::vector<std::string> topics, const MetadataSnapshot* metadata,
                                 bool skip_assignment) {
  PartitionCounts counts = countsOf(metadata, topics);
  if (skip_assignment) {
    // A static leader that rejoined a stable group (KIP-814): the coordinator keeps the group's
    // assignment, but the leader still watches the partition counts of the group's topics.
    KS_LOG_IN(kInfo, "group", logContext(),
              memberText() << ": the coordinator kept the group's assignment; watching the "
                           << counts.size() << " topics of " << members.size() << " members");
    leader_topics_ = std::move(topics);
    leader_counts_ = std::move(counts);
    return sync(epoch, {});
  }
  // onJoin() made sure the coordinator chose one of our assignors, which validate() checked.
  const auto assignor = makeAssignor(protocol_name_);
  if (!assignor) {
    return fail(Error{ErrorCode::kInvalidArgument,
                      describe() + ": no assignor is named " + protocol_name_});
  }
  std::vector<protocol::SyncGroupRequest::Assignment> assignments;
  for (auto& [member_id, assignment] : assignor->assign(members, counts)) {
    assignments.push_back({member_id, encodeAssignment(assignment), {}});
  }
  KS_LOG_IN(kInfo, "group", logContext(),
            memberText() << ": assigned the partitions of " << counts.size() << " topics to "
                         << members.size() << " members with " << protocol_name_);
  leader_topics_ = std::move(topics);
  leader_counts_ = std::move(counts);
  sync(epoch, std::move(assignments));
}

void GroupMembership::sync(uint64_t epoch,
                           std::vector<protocol::SyncGroupRequest::Assignment> assignments) {
  if (!join_connection_) {
    return joinFailed(Reaction::kFindCoordinator,
                      Error{ErrorCode::kShuttingDown, "the connection to the coordinator closed"},
                      "SyncGroup");
  }
  protocol::SyncGroupRequest request;
  request.group_id = config_.group_id;
  request.generation_id = generation_;
  request.member_id = member_id_;
  request.group_instance_id = config_.group_instance_id;
  request.protocol_type = std::string(kProtocolType);
  request.protocol_name = protocol_name_;
  request.assignments = std::move(assignments);
  net::RequestOptions options;
  options.timeout = std::max(cluster_->config().connection.request_timeout,
                             config_.rebalance_timeout + kRebalanceMargin);
  join_connection_->request<protocol::SyncGroupApi>(
      std::move(request), options, guard([this, epoch](Result<protocol::SyncGroupResponse> result) {
        if (epoch == flow_epoch_) onSync(epoch, std::move(result));
      }));
}

void GroupMembership::onSync(uint64_t epoch, Result<protocol::SyncGroupResponse> result) {
  if (!result.ok()) return joinFailed(reactionTo(result.error().code), result.error(), "SyncGroup");
  const ErrorCode code = fromWire(result->error_code);
  if (code == ErrorCode::kInvalidRequest) {
    // librdkafka's mock broker answers so a follower whose SyncGroup comes after the leader's;
    // Kafka's clients get over it by rejoining.
    return joinFailed(Reaction::kRetry, groupError(code), "SyncGroup");
  }
  if (code != ErrorCode::kNone) {
    return joinFailed(reactionTo(code), groupError(code), "SyncGroup");
  }
  if (result->protocol_name && *result->protocol_name != protocol_name_) {
    return fail(Error{ErrorCode::kInconsistentGroupProtocol,
                      describe() + ": SyncGroup names protocol " + *result->protocol_name +
                          " where JoinGroup named " + protocol_name_});
  }
  auto assignment = decodeAssignment(result->assignment);
  if (!assignment.ok()) {
    return joinFailed(
        Reaction::kRetry,
        Error{assignment.error().code,
              describe() + ": the assignment does not decode: " + assignment.error().message},
        "SyncGroup");
  }
  // Until the next rebalance only the shared group connection is needed.
  closeJoinConnection();
  std::vector<TopicPartition> assigned = flatten(assignment->partitions);
  for (const TopicPartition& p : assigned) {
    const bool wanted = pattern_ ? std::regex_match(p.topic, *pattern_) : subscribedTo(p.topic);
    if (!wanted) {
      // The subscription changed after the join: as Kafka's Java client, take nothing of this
      // assignment and join again with the new subscription.
      requestRejoin("the assignment has topic " + p.topic + ", which is no longer subscribed");
      busy_ = false;
      return step();
    }
  }
  install(epoch, std::move(assigned));
}

void GroupMembership::install(uint64_t epoch, std::vector<TopicPartition> assigned) {
  std::vector<TopicPartition> revoked = minus(assignment_, assigned);
  std::vector<TopicPartition> added = minus(assigned, assignment_);
  rejoin_backoff_.reset();
  discovery_backoff_.reset();
  heartbeat_backoff_.reset();
  last_heartbeat_ok_ = Clock::now();
  setState(State::kStable, std::to_string(assigned.size()) + " partitions assigned, adding " +
                               listPartitions(added) + ", revoking " + listPartitions(revoked));
  scheduleHeartbeat(config_.heartbeat_interval);
  armMetadataPoll();
  // Cooperative: partitions that move are given up now, while heartbeats go on, and go to their
  // new owner in one more rebalance.
  revoke(revoked, config_.rebalance_timeout,
         [this, epoch, assigned = std::move(assigned), added = std::move(added),
          moved = !revoked.empty()]() mutable {
           if (epoch != flow_epoch_) return;
           assignment_ = std::move(assigned);
           if (moved) requestRejoin("partitions were revoked so that other members can have them");
           // Called after every rebalance, even with nothing added, as Kafka's Java client does.
           if (auto listener = listener_.lock()) listener->onPartitionsAssigned(added);
           busy_ = false;
           step();
         });
}

void GroupMembership::joinFailed(Reaction reaction, const Error& error, std::string_view api) {
  KS_LOG_IN(kWarn, "group", logContext(),
            memberText() << ": " << api << " failed: " << error.toString());
  busy_ = false;
  const std::string why = std::string(api) + " failed with " + errorName(error.code);
  switch (reaction) {
    case Reaction::kOk:
    case Reaction::kRejoinNow:
      requestRejoin(why);
      return step();
    case Reaction::kRetry:
      requestRejoin(why);
      return scheduleStep(rejoin_backoff_.next());
    case Reaction::kResetGeneration:
      resetGeneration(false, why);
      return step();
    case Reaction::kResetMember:
      resetGeneration(true, why);
      return step();
    case Reaction::kFindCoordinator:
      requestRejoin(why);
      closeJoinConnection();
      coordinatorLost(why);
      return step();
    case Reaction::kFatal:
      return fail(error);
  }
}

void GroupMembership::resetGeneration(bool reset_member_id, const std::string& why) {
  KS_LOG_IN(kWarn, "group", logContext(),
            memberText() << ": giving up the generation"
                         << (reset_member_id ? " and member id" : "") << ": " << why);
  abandonFlow();
  generation_ = -1;
  if (reset_member_id) member_id_.clear();
  leader_ = false;
  setState(State::kUnjoined, why);
  requestRejoin(why);
  reportLost(std::exchange(assignment_, {}));
}

void GroupMembership::fail(Error error) {
  KS_LOG_IN(kError, "group", logContext(),
            memberText() << ": the membership failed: " << error.toString());
  abandonFlow();
  active_ = false;
  generation_ = -1;
  member_id_.clear();
  leader_ = false;
  setState(State::kFailed, error.toString());
  reportLost(std::exchange(assignment_, {}));
  if (auto listener = listener_.lock()) listener->onFatalError(error);
}

void GroupMembership::revoke(std::vector<TopicPartition> partitions,
                             std::chrono::milliseconds limit, std::function<void()> next) {
  auto listener = listener_.lock();
  if (partitions.empty() || !listener) return next();
  KS_LOG_IN(kInfo, "group", logContext(),
            memberText() << ": revoking " << listPartitions(partitions));
  // Whichever comes first, the listener's done() or the limit, goes on; the other finds nothing.
  auto pending = std::make_shared<std::function<void()>>(std::move(next));
  const uint64_t serial = ++revoke_serial_;
  revoke_timer_.expires_after(limit);
  revoke_timer_.async_wait(guard([this, pending, limit](boost::system::error_code ec) {
    if (ec || !*pending) return;
    KS_LOG_IN(kWarn, "group", logContext(),
              memberText() << ": the listener did not finish revoking within " << msText(limit)
                           << "; going on");
    std::exchange(*pending, nullptr)();
  }));
  auto done = [weak = weak_from_this(), strand = strand_, pending, serial] {
    boost::asio::post(strand, [weak, pending, serial] {
      auto self = weak.lock();
      if (!self || !*pending) return;
      if (self->revoke_serial_ == serial) self->revoke_timer_.cancel();
      std::exchange(*pending, nullptr)();
    });
  };
  listener->onPartitionsRevoked(partitions, std::move(done));
}

void GroupMembership::reportLost(std::vector<TopicPartition> lost) {
  if (lost.empty()) return;
  KS_LOG_IN(kWarn, "group", logContext(), memberText() << ": lost " << listPartitions(lost));
  if (auto listener = listener_.lock()) listener->onPartitionsLost(lost);
}

bool GroupMembership::subscribedTo(const std::string& topic) const {
  return std::binary_search(topics_.begin(), topics_.end(), topic);
}

std::vector<std::string> GroupMembership::matchingTopics(const MetadataSnapshot& metadata) const {
  std::vector<std::string> matched;
  if (!pattern_) return matched;
  for (const auto& [name, topic] : metadata.topics) {
    // Internal topics are left out, as Kafka's exclude.internal.topics does by default.
    if (topic.internal || topic.error == ErrorCode::kUnknownTopicOrPartition) continue;
    if (std::regex_match(name, *pattern_)) matched.push_back(name);
  }
  return matched;
}

void GroupMembership::closeJoinConnection() {
  if (join_connection_) join_connection_->close();
  join_connection_.reset();
}

// ---------------------------------------------------------------------------------------------
// Heartbeats.

void GroupMembership::scheduleHeartbeat(std::chrono::milliseconds delay) {
  heartbeat_armed_ = true;
  heartbeat_timer_.expires_after(delay);
  heartbeat_timer_.async_wait(guard([this](boost::system::error_code ec) {
    if (ec) return;  // cancelled by a newer schedule, which owns heartbeat_armed_
    heartbeat_armed_ = false;
    heartbeat();
  }));
}

void GroupMembership::heartbeat() {
  if (state_ != State::kStable || heartbeat_in_flight_) return;
  auto connection = coordinatorConnection();
  if (!connection) {
    coordinatorLost("the coordinator is not in the metadata");
    return step();
  }
  protocol::HeartbeatRequest request;
  request.group_id = config_.group_id;
  request.generation_id = generation_;
  request.member_id = member_id_;
  request.group_instance_id = config_.group_instance_id;
  heartbeat_in_flight_ = true;
  connection->request<protocol::HeartbeatApi>(
      std::move(request),
      guard([this, sent = generation_](Result<protocol::HeartbeatResponse> result) {
        onHeartbeat(sent, std::move(result));
      }));
}

void GroupMembership::onHeartbeat(int32_t sent_generation,
                                  Result<protocol::HeartbeatResponse> result) {
  heartbeat_in_flight_ = false;
  if (state_ != State::kStable || generation_ != sent_generation) {
    // An answer about a generation the member has left behind.
    if (state_ == State::kStable && !heartbeat_armed_) scheduleHeartbeat(0ms);
    return;
  }
  const Error error = result.ok() ? groupError(fromWire(result->error_code)) : result.error();
  switch (reactionTo(error.code)) {
    case Reaction::kOk:
      last_heartbeat_ok_ = Clock::now();
      heartbeat_backoff_.reset();
      discovery_backoff_.reset();
      return scheduleHeartbeat(config_.heartbeat_interval);
    case Reaction::kRejoinNow:
      requestRejoin("Heartbeat answered " + errorName(error.code));
      return step();
    case Reaction::kRetry:
      KS_LOG_IN(kWarn, "group", logContext(),
                memberText() << ": Heartbeat failed: " << error.toString());
      if (sessionExpired()) return step();
      return scheduleHeartbeat(heartbeat_backoff_.next());
    case Reaction::kResetGeneration:
      resetGeneration(false, "Heartbeat answered " + errorName(error.code));
      return step();
    case Reaction::kResetMember:
      resetGeneration(true, "Heartbeat answered " + errorName(error.code));
      return step();
    case Reaction::kFindCoordinator:
      if (!sessionExpired()) coordinatorLost("Heartbeat failed: " + error.toString());
      return step();
    case Reaction::kFatal:
      return fail(Error{error.code, "Heartbeat failed: " + error.message});
  }
}

bool GroupMembership::sessionExpired() {
  if (generation_ < 0 || Clock::now() - last_heartbeat_ok_ <= config_.session_timeout) {
    return false;
  }
  resetGeneration(true, "no heartbeat succeeded within session.timeout.ms (" +
                            msText(config_.session_timeout) + ")");
  return true;
}

// ---------------------------------------------------------------------------------------------
// Metadata polling.

void GroupMembership::armMetadataPoll() {
  if (!active_ || metadata_armed_ || (!pattern_ && !leader_)) return;
  metadata_armed_ = true;
  metadata_timer_.expires_after(
      std::min(cluster_->config().metadata_refresh_interval, kMetadataPollMax));
  metadata_timer_.async_wait(guard([this](boost::system::error_code ec) {
    metadata_armed_ = false;
    if (!ec) pollMetadata();
  }));
}

void GroupMembership::pollMetadata() {
  if (!active_ || (!pattern_ && !leader_)) return;
  // Every topic for a pattern; the group's topics for a leader.
  std::vector<std::string> wanted;
  if (!pattern_) {
    wanted = leader_topics_;
    if (wanted.empty()) return armMetadataPoll();
  }
  cluster_->refreshMetadata(std::move(wanted), guard([this](Result<MetadataPtr> result) {
                              onPolledMetadata(std::move(result));
                            }));
}

void GroupMembership::onPolledMetadata(Result<MetadataPtr> result) {
  if (!active_) return;
  if (!result.ok()) {
    KS_LOG_IN(kDebug, "group", logContext(),
              memberText() << ": metadata poll failed: " << result.error().toString());
    if (cluster_->stopped()) return;
    return armMetadataPoll();
  }
  const MetadataSnapshot& metadata = **result;
  if (pattern_ && pattern_resolved_) {
    std::vector<std::string> matched = matchingTopics(metadata);
    if (matched != topics_) {
      topics_ = std::move(matched);
      requestRejoin("the topics matching '" + subscription_.pattern + "' changed (now " +
                    std::to_string(topics_.size()) + ")");
    }
  }
  if (leader_ && state_ == State::kStable &&
      countsOf(&metadata, leader_topics_) != leader_counts_) {
    requestRejoin("the partition counts of the group's topics changed");
  }
  step();
  armMetadataPoll();
}

// ---------------------------------------------------------------------------------------------
// The coordinator.

void GroupMembership::coordinatorLost(const std::string& why) {
  if (coordinator_ != kNoNode) {
    KS_LOG_IN(kInfo, "group", logContext(),
              memberText() << ": looking for a new coordinator (was broker " << coordinator_
                           << "): " << why);
  }
  coordinator_ = kNoNode;
  discovery_not_before_ = Clock::now() + discovery_backoff_.next();
  if (state_ == State::kStable) setState(State::kFindingCoordinator, why);
}

std::shared_ptr<net::BrokerConnection> GroupMembership::coordinatorConnection() {
  if (coordinator_ == kNoNode) return nullptr;
  return cluster_->connection(coordinator_, ConnectionPurpose::kGroup);
}

void GroupMembership::whenCoordinatorKnown(std::function<void()> waiter) {
  coordinator_waiters_.push_back(std::move(waiter));
  if (!discovering_) discover();
}

void GroupMembership::discover() {
  discovering_ = true;
  discovery_timer_.expires_at(std::max(discovery_not_before_, Clock::now()));
  discovery_timer_.async_wait(guard([this](boost::system::error_code ec) {
    if (ec) {
      discovering_ = false;
      return;
    }
    askForCoordinator();
  }));
}

void GroupMembership::askForCoordinator() {
  if (cluster_->stopped()) {
    // No coordinator can be reached any more: commits and fetches give up now rather than at
    // their deadline, and the flow stays where it is.
    discovering_ = false;
    coordinator_waiters_.clear();
    const auto ops = open_ops_;
    for (const auto& op : ops) {
      op->last_error = Error{ErrorCode::kShuttingDown, "cluster " + cluster_->name() + " stopped"};
      finishOp(op);
    }
    return;
  }
  if (!active_ && open_ops_.empty()) {
    // Nobody needs it any more: the flow that asked has been abandoned.
    discovering_ = false;
    coordinator_waiters_.clear();
    return;
  }
  const MetadataPtr metadata = cluster_->metadata();
  if (!metadata || metadata->brokers.empty()) {
    cluster_->refreshMetadata({}, guard([this](Result<MetadataPtr> result) {
                                if (!result.ok()) return discoveryFailed(result.error());
                                if ((*result)->brokers.empty()) {
                                  return discoveryFailed(Error{ErrorCode::kNoBrokerAvailable,
                                                               "the metadata lists no brokers"});
                                }
                                askForCoordinator();
                              }));
    return;
  }
  // Another broker on each attempt, so that one that is down does not hold discovery up.
  auto broker = metadata->brokers.begin();
  std::advance(broker, discovery_attempts_++ % metadata->brokers.size());
  auto connection = cluster_->connection(broker->first, ConnectionPurpose::kControl);
  if (!connection) {
    return discoveryFailed(Error{ErrorCode::kBrokerNotAvailable,
                                 "broker " + std::to_string(broker->first) + " has no address"});
  }
  protocol::FindCoordinatorRequest request;
  request.key = config_.group_id;
  request.key_type = 0;  // a group
  request.coordinator_keys = {config_.group_id};
  connection->request<protocol::FindCoordinatorApi>(
      std::move(request), guard([this](Result<protocol::FindCoordinatorResponse> result) {
        onFindCoordinator(std::move(result));
      }));
}

void GroupMembership::onFindCoordinator(Result<protocol::FindCoordinatorResponse> result) {
  if (!result.ok()) return discoveryFailed(result.error());
  const protocol::FindCoordinatorResponse& response = *result;
  // v4+ answer per key, older versions in the top-level fields.
  ErrorCode code = fromWire(response.error_code);
  NodeId node = response.node_id;
  std::optional<std::string> message = response.error_message;
  if (!response.coordinators.empty()) {
    auto entry = std::find_if(response.coordinators.begin(), response.coordinators.end(),
                              [&](const auto& c) { return c.key == config_.group_id; });
    if (entry == response.coordinators.end()) {
      return discoveryFailed(Error{ErrorCode::kMalformedMessage,
                                   "FindCoordinator answered for other keys than the group"});
    }
    code = fromWire(entry->error_code);
    node = entry->node_id;
    message = entry->error_message;
  }
  if (code != ErrorCode::kNone) {
    Error error{
        code, "FindCoordinator for group " + config_.group_id + ": " +
                  (message && !message->empty() ? *message : std::string(errorDescription(code)))};
    if (code == ErrorCode::kGroupAuthorizationFailed && active_) fail(error);
    return discoveryFailed(error);
  }
  if (adoptCoordinator(node)) return;
  // A broker the metadata does not know yet: look again, then take it if it is there.
  cluster_->refreshMetadata(
      {}, guard([this, node](Result<MetadataPtr>) {
        if (adoptCoordinator(node)) return;
        discoveryFailed(
            Error{ErrorCode::kCoordinatorNotAvailable,
                  "the coordinator, broker " + std::to_string(node) + ", is not in the metadata"});
      }));
}

bool GroupMembership::adoptCoordinator(NodeId node) {
  if (!cluster_->connection(node, ConnectionPurpose::kGroup)) return false;
  coordinator_ = node;
  discovering_ = false;
  KS_LOG_IN(kInfo, "group", logContext(), memberText() << ": the coordinator is broker " << node);
  auto waiters = std::exchange(coordinator_waiters_, {});
  for (auto& waiter : waiters) waiter();
  return true;
}

void GroupMembership::discoveryFailed(const Error& error) {
  KS_LOG_IN(kWarn, "group", logContext(),
            memberText() << ": cannot find the coordinator: " << error.toString());
  discovery_not_before_ = Clock::now() + discovery_backoff_.next();
  // A member that cannot reach any coordinator for a session timeout is out of the group.
  if (active_ && sessionExpired()) step();
  discover();
}

// ---------------------------------------------------------------------------------------------
// Commits and offset fetches.

void GroupMembership::commitOffsets(
    std::vector<OffsetToCommit> offsets,
    std::function<void(Result<std::vector<PartitionResult>>)> done) {
  auto op = std::make_shared<CoordinatorOp>(strand_, config_);
  op->committed.resize(offsets.size());
  for (size_t i = 0; i < offsets.size(); ++i) {
    const OffsetToCommit& offset = offsets[i];
    op->committed[i].partition = offset.partition;
    if (offset.offset < 0) {
      op->committed[i].error =
          Error{ErrorCode::kInvalidArgument,
                describePartition(offset.partition.topic, offset.partition.partition) +
                    ": cannot commit the negative offset " + std::to_string(offset.offset)};
    } else {
      op->pending.push_back(i);
    }
  }
  op->offsets = std::move(offsets);
  op->commit_done = std::move(done);
  open_ops_.insert(op);
  if (op->pending.empty()) {
    boost::asio::post(guard([this, op] { finishOp(op); }));
    return;
  }
  runOp(op);
}

void GroupMembership::fetchCommittedOffsets(
    std::vector<TopicPartition> partitions,
    std::function<void(Result<std::vector<CommittedOffset>>)> done) {
  auto op = std::make_shared<CoordinatorOp>(strand_, config_);
  op->commit = false;
  op->fetched.resize(partitions.size());
  for (size_t i = 0; i < partitions.size(); ++i) {
    op->fetched[i].partition = std::move(partitions[i]);
    op->pending.push_back(i);
  }
  op->fetch_done = std::move(done);
  open_ops_.insert(op);
  if (op->pending.empty()) {
    boost::asio::post(guard([this, op] { finishOp(op); }));
    return;
  }
  runOp(op);
}

void GroupMembership::runOp(const std::shared_ptr<CoordinatorOp>& op) {
  if (op->finished) return;
  if (auto connection = coordinatorConnection()) {
    ++op->attempts;
    return op->commit ? sendCommit(op, connection) : sendFetch(op, connection);
  }
  if (coordinator_ != kNoNode) {
    coordinatorLost("the coordinator, broker " + std::to_string(coordinator_) +
                    ", is not in the metadata");
    step();
  }
  op->timer.expires_at(op->deadline);
  op->timer.async_wait(guard([this, op](boost::system::error_code ec) {
    if (!ec) finishOp(op);
  }));
  whenCoordinatorKnown([this, op] {
    op->timer.cancel();
    runOp(op);
  });
}

void GroupMembership::retryOp(const std::shared_ptr<CoordinatorOp>& op, const Error& error) {
  op->last_error = error;
  const auto delay = op->backoff.next();
  if (Clock::now() + delay >= op->deadline) return finishOp(op);
  op->timer.expires_after(delay);
  op->timer.async_wait(guard([this, op](boost::system::error_code ec) {
    if (!ec) runOp(op);
  }));
}

void GroupMembership::finishOp(const std::shared_ptr<CoordinatorOp>& op) {
  if (op->finished) return;
  op->finished = true;
  open_ops_.erase(op);
  op->timer.cancel();
  // What is still unanswered gets the last error seen.
  const std::string gave_up = op->last_error.toString() + " (given up after " +
                              std::to_string(op->attempts) + " attempts within " +
                              msText(config_.request_deadline) + ")";
  auto unanswered = [&](const TopicPartition& p) {
    return Error{op->last_error.code, describePartition(p.topic, p.partition) + ": " + gave_up};
  };
  if (op->commit) {
    for (size_t i : op->pending) op->committed[i].error = unanswered(op->committed[i].partition);
    if (op->failure) return op->commit_done(*op->failure);
    return op->commit_done(std::move(op->committed));
  }
  for (size_t i : op->pending) op->fetched[i].error = unanswered(op->fetched[i].partition);
  if (op->failure) return op->fetch_done(*op->failure);
  op->fetch_done(std::move(op->fetched));
}

void GroupMembership::sendCommit(const std::shared_ptr<CoordinatorOp>& op,
                                 const std::shared_ptr<net::BrokerConnection>& connection) {
  protocol::OffsetCommitRequest request;
  request.group_id = config_.group_id;
  // Outside a generation the commit is that of a consumer without a group.
  const bool member = generation_ >= 0 && !member_id_.empty();
  request.generation_id_or_member_epoch = member ? generation_ : -1;
  if (member) {
    request.member_id = member_id_;
    request.group_instance_id = config_.group_instance_id;
  }
  std::map<std::string, size_t, std::less<>> topic_index;
  for (size_t i : op->pending) {
    const OffsetToCommit& offset = op->offsets[i];
    auto [it, added] = topic_index.emplace(offset.partition.topic, request.topics.size());
    if (added) request.topics.emplace_back().name = offset.partition.topic;
    auto& partition = request.topics[it->second].partitions.emplace_back();
    partition.partition_index = offset.partition.partition;
    partition.committed_offset = offset.offset;
    partition.committed_leader_epoch = offset.leader_epoch;
    partition.committed_metadata = offset.metadata;
  }
  const int32_t sent = request.generation_id_or_member_epoch;
  connection->request<protocol::OffsetCommitApi>(
      std::move(request), guard([this, op, sent](Result<protocol::OffsetCommitResponse> result) {
        onCommit(op, sent, std::move(result));
      }));
}

void GroupMembership::onCommit(const std::shared_ptr<CoordinatorOp>& op, int32_t sent_generation,
                               Result<protocol::OffsetCommitResponse> result) {
  if (op->finished) return;
  if (!result.ok()) {
    if (connectionFailed(result.error().code)) {
      coordinatorLost("OffsetCommit failed: " + result.error().toString());
      step();
    }
    return retryOp(op, result.error());
  }
  std::map<std::pair<std::string_view, int32_t>, ErrorCode> answers;
  for (const auto& topic : result->topics) {
    for (const auto& partition : topic.partitions) {
      answers[{topic.name, partition.partition_index}] = fromWire(partition.error_code);
    }
  }
  std::vector<size_t> again;
  std::optional<Error> retry_error;
  bool coordinator_moved = false;
  std::optional<ErrorCode> membership_error;
  for (size_t i : op->pending) {
    const TopicPartition& p = op->offsets[i].partition;
    PartitionResult& outcome = op->committed[i];
    auto answer = answers.find({p.topic, p.partition});
    if (answer == answers.end()) {
      outcome.error = Error{ErrorCode::kMalformedMessage,
                            describePartition(p.topic, p.partition) +
                                ": the OffsetCommit response has no answer for it"};
      continue;
    }
    const ErrorCode code = answer->second;
    if (code == ErrorCode::kNone) continue;
    Error error{code, describePartition(p.topic, p.partition) +
                          ": OffsetCommit failed: " + std::string(errorDescription(code))};
    const ErrorAction action = errorAction(code);
    if (action == ErrorAction::kFindCoordinator || code == ErrorCode::kRequestTimedOut) {
      coordinator_moved = true;
      again.push_back(i);
      retry_error = std::move(error);
    } else if (action == ErrorAction::kRetry || action == ErrorAction::kRefreshMetadata) {
      again.push_back(i);
      retry_error = std::move(error);
    } else {
      if (action == ErrorAction::kRejoinGroup) membership_error = code;
      outcome.error = std::move(error);
    }
  }
  op->pending = std::move(again);
  // The partitions are about to move, or have: the commit fails, and the member rejoins. As
  // Kafka's Java client, only when the commit was made in the generation the member still holds.
  if (membership_error && active_ && sent_generation >= 0 && sent_generation == generation_) {
    const std::string why = "OffsetCommit answered " + errorName(*membership_error);
    if (*membership_error == ErrorCode::kRebalanceInProgress) {
      requestRejoin(why);
    } else {
      resetGeneration(*membership_error == ErrorCode::kUnknownMemberId, why);
    }
    step();
  }
  if (coordinator_moved) {
    coordinatorLost("OffsetCommit: " + retry_error->toString());
    step();
  }
  if (op->pending.empty()) return finishOp(op);
  retryOp(op, *retry_error);
}

void GroupMembership::sendFetch(const std::shared_ptr<CoordinatorOp>& op,
                                const std::shared_ptr<net::BrokerConnection>& connection) {
  std::vector<protocol::OffsetFetchRequest::Topic> topics;
  std::map<std::string, size_t, std::less<>> topic_index;
  for (size_t i : op->pending) {
    const TopicPartition& p = op->fetched[i].partition;
    auto [it, added] = topic_index.emplace(p.topic, topics.size());
    if (added) topics.emplace_back().name = p.topic;
    topics[it->second].partition_indexes.push_back(p.partition);
  }
  protocol::OffsetFetchRequest request;
  // v0-7 ask about one group in the top-level fields, v8+ in `groups`.
  request.group_id = config_.group_id;
  request.topics = topics;
  request.groups.push_back({config_.group_id, std::nullopt, -1, std::move(topics), {}});
  // As Kafka's Java client: offsets of transactions still pending are waited for, not read.
  request.require_stable = true;
  connection->request<protocol::OffsetFetchApi>(
      std::move(request), guard([this, op](Result<protocol::OffsetFetchResponse> result) {
        onFetch(op, std::move(result));
      }));
}

void GroupMembership::onFetch(const std::shared_ptr<CoordinatorOp>& op,
                              Result<protocol::OffsetFetchResponse> result) {
  if (op->finished) return;
  if (!result.ok()) {
    if (connectionFailed(result.error().code)) {
      coordinatorLost("OffsetFetch failed: " + result.error().toString());
      step();
    }
    return retryOp(op, result.error());
  }
  const protocol::OffsetFetchResponse& response = *result;
  const std::vector<protocol::OffsetFetchResponse::Topic>* topics = &response.topics;
  ErrorCode group_error = fromWire(response.error_code);
  if (!response.groups.empty()) {
    auto group = std::find_if(response.groups.begin(), response.groups.end(),
                              [&](const auto& g) { return g.group_id == config_.group_id; });
    if (group == response.groups.end()) group = response.groups.begin();
    topics = &group->topics;
    group_error = fromWire(group->error_code);
  }
  if (group_error != ErrorCode::kNone) {
    Error error{group_error, "OffsetFetch for group " + config_.group_id + ": " +
                                 std::string(errorDescription(group_error))};
    switch (errorAction(group_error)) {
      case ErrorAction::kFindCoordinator:
        coordinatorLost(error.toString());
        step();
        return retryOp(op, error);
      case ErrorAction::kRetry:
      case ErrorAction::kRefreshMetadata:
        return retryOp(op, error);
      default:
        op->failure = std::move(error);
        return finishOp(op);
    }
  }
  std::map<std::pair<std::string_view, int32_t>, const protocol::OffsetFetchResponse::Partition*>
      answers;
  for (const auto& topic : *topics) {
    for (const auto& partition : topic.partitions) {
      answers[{topic.name, partition.partition_index}] = &partition;
    }
  }
  std::vector<size_t> again;
  std::optional<Error> retry_error;
  bool coordinator_moved = false;
  for (size_t i : op->pending) {
    CommittedOffset& outcome = op->fetched[i];
    const TopicPartition& p = outcome.partition;
    auto answer = answers.find({p.topic, p.partition});
    // A partition left out of the answer has nothing committed.
    if (answer == answers.end()) continue;
    const protocol::OffsetFetchResponse::Partition& partition = *answer->second;
    const ErrorCode code = fromWire(partition.error_code);
    if (code == ErrorCode::kNone) {
      outcome.offset = partition.committed_offset;
      outcome.leader_epoch = partition.committed_leader_epoch;
      outcome.metadata = partition.metadata.value_or("");
      continue;
    }
    // v0-1 report group-level errors on each partition.
    Error error{code, describePartition(p.topic, p.partition) +
                          ": OffsetFetch failed: " + std::string(errorDescription(code))};
    const ErrorAction action = errorAction(code);
    if (action == ErrorAction::kFindCoordinator) {
      coordinator_moved = true;
      again.push_back(i);
      retry_error = std::move(error);
    } else if (action == ErrorAction::kRetry) {
      again.push_back(i);
      retry_error = std::move(error);
    } else {
      outcome.error = std::move(error);
    }
  }
  op->pending = std::move(again);
  if (coordinator_moved) {
    coordinatorLost("OffsetFetch: " + retry_error->toString());
    step();
  }
  if (op->pending.empty()) return finishOp(op);
  retryOp(op, *retry_error);
}

// ---------------------------------------------------------------------------------------------
// Leaving.

void GroupMembership::leave(std::function<void()> done) {
  resubscribe_after_leave_ = false;
  if (state_ == State::kLeaving) {
    leave_waiters_.push_back(std::move(done));
    return;
  }
  if (!active_) {
    if (state_ != State::kFailed) setState(State::kLeft, "leave() without a membership");
    boost::asio::post(strand_, std::move(done));
    return;
  }
  active_ = false;
  abandonFlow();
  leave_waiters_.push_back(std::move(done));
  setState(State::kLeaving, "leave() was called");
  leave_timer_.expires_after(config_.request_deadline);
  leave_timer_.async_wait(guard([this, epoch = flow_epoch_](boost::system::error_code ec) {
    if (ec || epoch != flow_epoch_) return;
    KS_LOG_IN(kWarn, "group", logContext(),
              memberText() << ": leaving took longer than " << msText(config_.request_deadline));
    finishLeave();
  }));
  // As Kafka's Java client: partitions of a generation that is gone are lost, not revoked.
  if (generation_ < 0) {
    reportLost(std::exchange(assignment_, {}));
    return sendLeaveGroup();
  }
  revoke(assignment_, config_.request_deadline, [this, epoch = flow_epoch_] {
    if (epoch != flow_epoch_) return;
    assignment_.clear();
    sendLeaveGroup();
  });
}

void GroupMembership::sendLeaveGroup() {
  auto connection = coordinatorConnection();
  // A static member keeps its place (and partitions) until its session times out.
  if (config_.group_instance_id || member_id_.empty() || !connection) return finishLeave();
  protocol::LeaveGroupRequest request;
  request.group_id = config_.group_id;
  request.member_id = member_id_;
  request.members.push_back({member_id_, std::nullopt, "the consumer is leaving the group", {}});
  connection->request<protocol::LeaveGroupApi>(
      std::move(request),
      guard([this, epoch = flow_epoch_](Result<protocol::LeaveGroupResponse> result) {
        if (epoch != flow_epoch_) return;
        ErrorCode code = result.ok() ? fromWire(result->error_code) : result.error().code;
        if (result.ok() && code == ErrorCode::kNone && !result->members.empty()) {
          code = fromWire(result->members.front().error_code);
        }
        if (code != ErrorCode::kNone) {
          KS_LOG_IN(kWarn, "group", logContext(),
                    memberText() << ": LeaveGroup failed: " << errorName(code));
        }
        finishLeave();
      }));
}

void GroupMembership::finishLeave() {
  ++flow_epoch_;
  leave_timer_.cancel();
  // Partitions whose revocation did not finish in time.
  reportLost(std::exchange(assignment_, {}));
  setState(State::kLeft, "left the group");
  generation_ = -1;
  member_id_.clear();
  leader_ = false;
  closeJoinConnection();
  for (auto& waiter : std::exchange(leave_waiters_, {})) {
    if (waiter) waiter();
  }
  if (std::exchange(resubscribe_after_leave_, false)) {
    active_ = true;
    requestRejoin("subscribed again while leaving");
    armMetadataPoll();
    step();
  }
}

}  // namespace kafka::group
