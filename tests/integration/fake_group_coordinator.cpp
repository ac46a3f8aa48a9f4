#include "tests/integration/fake_group_coordinator.hpp"

#include <algorithm>

#include "client_core/protocol/error.hpp"

namespace kafka::testing {

namespace {

using namespace std::chrono_literals;
using protocol::ApiKey;

constexpr auto kTick = 20ms;
constexpr int32_t kNodeId = 1;
// ListOffsets' special timestamps.
constexpr int64_t kLatest = -1;
constexpr int64_t kEarliest = -2;

int16_t wire(ErrorCode code) {
  return static_cast<int16_t>(code);
}

template <protocol::ApiDefinition A>
std::optional<typename A::Request> decode(const FakeBroker::Request& request) {
  protocol::Reader reader(request.body);
  auto decoded = protocol::decodeRequestBody<A>(reader, request.header.api_version);
  if (!decoded.ok()) return std::nullopt;
  return std::move(*decoded);
}

}  // namespace

struct FakeGroupCoordinator::JoinAnswer {
  int16_t error_code = 0;
  int32_t generation = -1;
  std::string protocol;
  std::string leader;
  std::string member_id;
  bool skip_assignment = false;
  std::vector<protocol::JoinGroupResponse::Member> members;
};

struct FakeGroupCoordinator::Member {
  std::string id;
  std::optional<std::string> instance_id;
  std::vector<protocol::JoinGroupRequest::Protocol> protocols;  // in the member's preference
  std::chrono::milliseconds session_timeout{0};
  std::chrono::milliseconds rebalance_timeout{0};
  Clock::time_point last_seen;
  uint64_t join_order = 0;  // the leader is the earliest joiner when a new one is needed
  bool joined = false;      // in the rebalance under way
  int awaiting_join = 0;    // JoinGroup requests held for it
  int awaiting_sync = 0;    // SyncGroup requests held for it
  std::optional<JoinAnswer> join_answer;
  protocol::Bytes assignment;
  uint64_t heartbeats = 0;

  std::vector<std::string> protocolNames() const {
    std::vector<std::string> names;
    for (const auto& p : protocols) names.push_back(p.name);
    return names;
  }
  const protocol::Bytes* metadataFor(const std::string& name) const {
    for (const auto& p : protocols) {
      if (p.name == name) return &p.metadata;
    }
    return nullptr;
  }
};

struct FakeGroupCoordinator::Group {
  std::string name;
  GroupState state = GroupState::kEmpty;
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol;
  std::string leader;
  std::map<std::string, Member> members;
  std::map<std::string, std::string> static_members;  // instance id -> member id
  std::set<std::string> pending;                      // ids handed out with MEMBER_ID_REQUIRED
  Clock::time_point join_not_before;
  Clock::time_point join_deadline;
  std::string rebalance_reason;
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, std::string>> offsets;

  std::vector<Rebalance> rebalances;
  std::vector<StaticRejoin> static_rejoins;
  std::vector<JoinRecord> joins;
  std::vector<std::string> heartbeat_errors;
  int leave_requests = 0;
  int ignored_assignments = 0;
};

FakeGroupCoordinator::FakeGroupCoordinator(Options options) : options_(std::move(options)) {
  broker_ = std::make_unique<FakeBroker>([this](const Request& request) { return serve(request); });
  ticker_ = std::thread([this] {
    Lock lock(mutex_);
    while (!stopping_) {
      changed_.wait_for(lock, kTick);
      if (!stopping_) tick();
    }
  });
}

FakeGroupCoordinator::~FakeGroupCoordinator() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  ticker_.join();
  broker_.reset();
}

std::string FakeGroupCoordinator::bootstrap() const {
  return "127.0.0.1:" + std::to_string(port());
}

std::string_view FakeGroupCoordinator::stateName(GroupState state) {
  switch (state) {
    case GroupState::kEmpty:
      return "Empty";
    case GroupState::kPreparingRebalance:
      return "PreparingRebalance";
    case GroupState::kCompletingRebalance:
      return "CompletingRebalance";
    case GroupState::kStable:
      return "Stable";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Observations.

std::vector<FakeGroupCoordinator::Rebalance> FakeGroupCoordinator::rebalances(
    const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? g->rebalances : std::vector<Rebalance>{};
}

std::vector<FakeGroupCoordinator::StaticRejoin> FakeGroupCoordinator::staticRejoins(
    const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? g->static_rejoins : std::vector<StaticRejoin>{};
}

std::vector<FakeGroupCoordinator::JoinRecord> FakeGroupCoordinator::joins(
    const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? g->joins : std::vector<JoinRecord>{};
}

int FakeGroupCoordinator::leaveGroupRequests(const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? g->leave_requests : 0;
}

int32_t FakeGroupCoordinator::generation(const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? g->generation : -1;
}

std::string FakeGroupCoordinator::state(const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? std::string(stateName(g->state)) : std::string();
}

std::vector<FakeGroupCoordinator::MemberView> FakeGroupCoordinator::members(
    const std::string& group) const {
  std::lock_guard lock(mutex_);
  std::vector<MemberView> out;
  if (const Group* g = findGroup(group)) {
    for (const auto& [id, member] : g->members) {
      out.push_back({id, member.instance_id, member.heartbeats});
    }
  }
  return out;
}

std::string FakeGroupCoordinator::memberIdOf(const std::string& group,
                                             const std::string& instance_id) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  if (!g) return "";
  auto it = g->static_members.find(instance_id);
  return it == g->static_members.end() ? "" : it->second;
}

std::vector<std::string> FakeGroupCoordinator::heartbeatErrors(const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? g->heartbeat_errors : std::vector<std::string>{};
}

int FakeGroupCoordinator::ignoredAssignments(const std::string& group) const {
  std::lock_guard lock(mutex_);
  const Group* g = findGroup(group);
  return g ? g->ignored_assignments : 0;
}

std::vector<int16_t> FakeGroupCoordinator::unhandledApis() const {
  std::lock_guard lock(mutex_);
  return unhandled_;
}

bool FakeGroupCoordinator::waitUntil(const std::function<bool()>& condition,
                                     std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (Clock::now() >= deadline) return false;
    Lock lock(mutex_);
    changed_.wait_until(lock, std::min(deadline, Clock::now() + 50ms));
  }
}

// ---------------------------------------------------------------------------------------------
// Requests.

FakeBroker::Reply FakeGroupCoordinator::serve(const Request& request) {
  switch (request.header.api_key) {
    case ApiKey::kApiVersions:
      return apiVersions(request);
    case ApiKey::kMetadata:
      return metadata(request);
    case ApiKey::kFindCoordinator:
      return findCoordinator(request);
    case ApiKey::kListOffsets:
      return listOffsets(request);
    case ApiKey::kFetch:
      return fetch(request);
    case ApiKey::kOffsetCommit:
      return offsetCommit(request);
    case ApiKey::kOffsetFetch:
      return offsetFetch(request);
    case ApiKey::kJoinGroup:
      return joinGroup(request);
    case ApiKey::kSyncGroup:
      return syncGroup(request);
    case ApiKey::kHeartbeat:
      return heartbeat(request);
    case ApiKey::kLeaveGroup:
      return leaveGroup(request);
    default: {
      std::lock_guard lock(mutex_);
      unhandled_.push_back(static_cast<int16_t>(request.header.api_key));
      return Reply::close();
    }
  }
}

FakeBroker::Reply FakeGroupCoordinator::apiVersions(const Request& request) {
  // Fetch v13+ names topics by id, and our topics have none.
  return Reply::with<protocol::ApiVersionsApi>(
      request, FakeBroker::allApis({{ApiKey::kFetch, protocol::FetchApi::kMinVersion, 12}}));
}

FakeBroker::Reply FakeGroupCoordinator::metadata(const Request& request) {
  auto decoded = decode<protocol::MetadataApi>(request);
  if (!decoded) return Reply::close();
  protocol::MetadataResponse response = broker_->selfMetadata();
  std::vector<std::string> wanted;
  // Null asks for every topic, and so does an empty list at v0.
  if (!decoded->topics || (decoded->topics->empty() && request.header.api_version == 0)) {
    for (const auto& [name, count] : options_.topics) wanted.push_back(name);
  } else {
    for (const auto& topic : *decoded->topics) wanted.push_back(topic.name.value_or(""));
  }
  for (const std::string& name : wanted) {
    auto& topic = response.topics.emplace_back();
    topic.name = name;
    auto known = options_.topics.find(name);
    if (known == options_.topics.end()) {
      topic.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
      continue;
    }
    for (int32_t i = 0; i < known->second; ++i) {
      auto& partition = topic.partitions.emplace_back();
      partition.partition_index = i;
      partition.leader_id = kNodeId;
      partition.leader_epoch = 0;
      partition.replica_nodes = {kNodeId};
      partition.isr_nodes = {kNodeId};
    }
  }
  return Reply::with<protocol::MetadataApi>(request, response);
}

FakeBroker::Reply FakeGroupCoordinator::findCoordinator(const Request& request) {
  auto decoded = decode<protocol::FindCoordinatorApi>(request);
  if (!decoded) return Reply::close();
  protocol::FindCoordinatorResponse response;
  response.node_id = kNodeId;
  response.host = "127.0.0.1";
  response.port = port();
  for (const std::string& key : decoded->coordinator_keys) {
    response.coordinators.push_back({key, kNodeId, "127.0.0.1", port(), 0, std::nullopt, {}});
  }
  return Reply::with<protocol::FindCoordinatorApi>(request, response);
}

FakeBroker::Reply FakeGroupCoordinator::listOffsets(const Request& request) {
  auto decoded = decode<protocol::ListOffsetsApi>(request);
  if (!decoded) return Reply::close();
  protocol::ListOffsetsResponse response;
  for (const auto& topic : decoded->topics) {
    auto& answer = response.topics.emplace_back();
    answer.name = topic.name;
    auto known = options_.topics.find(topic.name);
    for (const auto& partition : topic.partitions) {
      auto& out = answer.partitions.emplace_back();
      out.partition_index = partition.partition_index;
      if (known == options_.topics.end() || partition.partition_index < 0 ||
          partition.partition_index >= known->second) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      out.leader_epoch = 0;
      // Every log is empty: its start and end are 0, and no record matches a time.
      const bool bound = partition.timestamp == kLatest || partition.timestamp == kEarliest;
      out.offset = bound ? 0 : -1;
    }
  }
  return Reply::with<protocol::ListOffsetsApi>(request, response);
}

FakeBroker::Reply FakeGroupCoordinator::fetch(const Request& request) {
  auto decoded = decode<protocol::FetchApi>(request);
  if (!decoded) return Reply::close();
  {
    // Held as a broker holds a fetch with nothing to return, so that fetchers idle.
    Lock lock(mutex_);
    const auto hold =
        std::min(options_.fetch_hold, std::chrono::milliseconds(std::max(0, decoded->max_wait_ms)));
    changed_.wait_for(lock, hold, [this] { return stopping_; });
    if (stopping_) return Reply::close();
  }
  protocol::FetchResponse response;
  for (const auto& topic : decoded->topics) {
    auto& answer = response.responses.emplace_back();
    answer.topic = topic.topic;
    answer.topic_id = topic.topic_id;
    auto known = options_.topics.find(topic.topic);
    for (const auto& partition : topic.partitions) {
      auto& out = answer.partitions.emplace_back();
      out.partition_index = partition.partition;
      if (known == options_.topics.end() || partition.partition < 0 ||
          partition.partition >= known->second) {
        out.error_code = wire(ErrorCode::kUnknownTopicOrPartition);
        continue;
      }
      out.high_watermark = 0;
      out.last_stable_offset = 0;
      out.log_start_offset = 0;
      out.records = protocol::Records{};
    }
  }
  return Reply::with<protocol::FetchApi>(request, response);
}

FakeBroker::Reply FakeGroupCoordinator::offsetCommit(const Request& request) {
  auto decoded = decode<protocol::OffsetCommitApi>(request);
  if (!decoded) return Reply::close();
  std::lock_guard lock(mutex_);
  Group& group = groupNamed(decoded->group_id);
  const int16_t code = [&]() -> int16_t {
    const int32_t generation = decoded->generation_id_or_member_epoch;
    // As Kafka: a commit outside any generation is taken only while the group has no members.
    if (generation < 0 && group.state == GroupState::kEmpty) return 0;
    if (int16_t check = checkMember(group, decoded->member_id, decoded->group_instance_id)) {
      return check;
    }
    if (generation != group.generation) return wire(ErrorCode::kIllegalGeneration);
    // Members commit while a rebalance is prepared (eager revocation), not while it completes.
    if (group.state == GroupState::kCompletingRebalance) {
      return wire(ErrorCode::kRebalanceInProgress);
    }
    group.members.at(decoded->member_id).last_seen = Clock::now();
    return 0;
  }();
  protocol::OffsetCommitResponse response;
  for (const auto& topic : decoded->topics) {
    auto& answer = response.topics.emplace_back();
    answer.name = topic.name;
    for (const auto& partition : topic.partitions) {
      answer.partitions.push_back({partition.partition_index, code, {}});
      if (code == 0) {
        group.offsets[{topic.name, partition.partition_index}] = {
            partition.committed_offset, partition.committed_metadata.value_or("")};
      }
    }
  }
  return Reply::with<protocol::OffsetCommitApi>(request, response);
}

FakeBroker::Reply FakeGroupCoordinator::offsetFetch(const Request& request) {
  auto decoded = decode<protocol::OffsetFetchApi>(request);
  if (!decoded) return Reply::close();
  std::lock_guard lock(mutex_);
  // The committed offsets of `group_id` for `topics` (null: every partition it committed).
  auto answer = [&](const std::string& group_id,
                    const std::optional<std::vector<protocol::OffsetFetchRequest::Topic>>& topics) {
    const Group* group = findGroup(group_id);
    std::map<std::string, std::vector<protocol::OffsetFetchResponse::Partition>> found;
    auto add = [&](const std::string& topic, int32_t partition) {
      protocol::OffsetFetchResponse::Partition out;
      out.partition_index = partition;
      out.committed_offset = -1;
      if (group) {
        auto it = group->offsets.find({topic, partition});
        if (it != group->offsets.end()) {
          out.committed_offset = it->second.first;
          out.metadata = it->second.second;
        }
      }
      found[topic].push_back(std::move(out));
    };
    if (topics) {
      for (const auto& topic : *topics) {
        for (int32_t partition : topic.partition_indexes) add(topic.name, partition);
      }
    } else if (group) {
      for (const auto& [key, value] : group->offsets) add(key.first, key.second);
    }
    std::vector<protocol::OffsetFetchResponse::Topic> out;
    for (auto& [name, partitions] : found) {
      out.push_back({name, {}, std::move(partitions), {}});
    }
    return out;
  };
  protocol::OffsetFetchResponse response;
  if (request.header.api_version >= 8) {
    for (const auto& group : decoded->groups) {
      response.groups.push_back({group.group_id, answer(group.group_id, group.topics), 0, {}});
    }
  } else {
    response.topics = answer(decoded->group_id, decoded->topics);
  }
  return Reply::with<protocol::OffsetFetchApi>(request, response);
}

FakeBroker::Reply FakeGroupCoordinator::joinGroup(const Request& request) {
  auto decoded = decode<protocol::JoinGroupApi>(request);
  if (!decoded) return Reply::close();
  const protocol::JoinGroupRequest& in = *decoded;
  const int16_t version = request.header.api_version;
  Lock lock(mutex_);
  Group& group = groupNamed(in.group_id);
  JoinRecord record{in.group_id, in.member_id, in.group_instance_id, {}, version, 0};
  for (const auto& p : in.protocols) record.protocols.push_back(p.name);
  auto reply = [&](const JoinAnswer& answer) {
    record.error_code = answer.error_code;
    group.joins.push_back(record);
    protocol::JoinGroupResponse response;
    response.error_code = answer.error_code;
    response.generation_id = answer.generation;
    response.protocol_type = group.protocol_type.empty() ? std::optional<std::string>()
                                                         : std::optional(group.protocol_type);
    response.protocol_name = answer.protocol;
    response.leader = answer.leader;
    response.skip_assignment = answer.skip_assignment;
    response.member_id = answer.member_id;
    response.members = answer.members;
    return Reply::with<protocol::JoinGroupApi>(request, response);
  };
  auto error = [&](ErrorCode code, const std::string& member_id) {
    JoinAnswer answer;
    answer.error_code = wire(code);
    answer.member_id = member_id;
    return reply(answer);
  };
  auto join = [&](Member& member) {
    member.protocols = in.protocols;
    member.session_timeout = std::chrono::milliseconds(in.session_timeout_ms);
    member.rebalance_timeout = std::chrono::milliseconds(
        in.rebalance_timeout_ms > 0 ? in.rebalance_timeout_ms : in.session_timeout_ms);
    member.last_seen = Clock::now();
  };
  auto wait = [&](const std::string& member_id) {
    group.members.at(member_id).joined = true;
    maybeCompleteJoin(group);
    return reply(awaitJoin(lock, group, member_id));
  };

  if (in.group_id.empty()) return error(ErrorCode::kInvalidGroupId, in.member_id);
  if (!supportsProtocols(group, in.protocol_type, record.protocols)) {
    return error(ErrorCode::kInconsistentGroupProtocol, in.member_id);
  }
  const bool was_empty = group.members.empty();
  if (was_empty) group.protocol_type = in.protocol_type;

  if (in.member_id.empty() && in.group_instance_id &&
      group.static_members.contains(*in.group_instance_id)) {
    // A static member back under a new member id: it takes the old one's place.
    const std::string old_id = group.static_members.at(*in.group_instance_id);
    const std::string new_id = newMemberId(in.group_instance_id, request.header.client_id);
    const std::string previous_leader = group.leader;
    auto node = group.members.extract(old_id);
    node.key() = new_id;
    Member& member = group.members.insert(std::move(node)).position->second;
    member.id = new_id;
    // Requests held for the old id give up (see awaitJoin(), syncGroup()).
    member.awaiting_join = 0;
    member.awaiting_sync = 0;
    group.static_members[*in.group_instance_id] = new_id;
    if (group.leader == old_id) group.leader = new_id;
    join(member);
    changed_.notify_all();
    switch (group.state) {
      case GroupState::kStable:
        if (selectProtocol(group) == group.protocol) {
          group.static_rejoins.push_back(
              {group.name, *in.group_instance_id, old_id, new_id, group.generation});
          JoinAnswer answer;
          answer.generation = group.generation;
          answer.protocol = group.protocol;
          answer.member_id = new_id;
          if (version >= 9) {
            // KIP-814: a returning leader learns that it leads, and that the assignment stands.
            answer.leader = group.leader;
            answer.skip_assignment = group.leader == new_id;
            if (answer.skip_assignment) {
              for (const auto& [id, m] : group.members) {
                answer.members.push_back({id, m.instance_id, *m.metadataFor(group.protocol), {}});
              }
            }
          } else {
            // Older members are told the old leader, so that a returning leader does not assign.
            answer.leader = previous_leader;
          }
          return reply(answer);
        }
        prepareRebalance(
            group, "static member " + *in.group_instance_id + " rejoined with other protocols");
        return wait(new_id);
      case GroupState::kCompletingRebalance:
        // The leader may be assigning to the old member id.
        prepareRebalance(group, "static member " + *in.group_instance_id +
                                    " rejoined while the group was completing a rebalance");
        return wait(new_id);
      case GroupState::kPreparingRebalance:
        return wait(new_id);
      case GroupState::kEmpty:
        prepareRebalance(group, "static member " + *in.group_instance_id + " joined");
        return wait(new_id);
    }
  }

  if (in.member_id.empty() && !in.group_instance_id && version >= 4) {
    const std::string id = newMemberId(std::nullopt, request.header.client_id);
    group.pending.insert(id);
    return error(ErrorCode::kMemberIdRequired, id);
  }

  if (in.member_id.empty() || group.pending.contains(in.member_id)) {
    // A new member.
    const std::string id = in.member_id.empty()
                               ? newMemberId(in.group_instance_id, request.header.client_id)
                               : in.member_id;
    group.pending.erase(id);
    Member& member = group.members[id];
    member.id = id;
    member.instance_id = in.group_instance_id;
    member.join_order = next_member_++;
    if (in.group_instance_id) group.static_members[*in.group_instance_id] = id;
    join(member);
    if (group.state != GroupState::kPreparingRebalance) {
      prepareRebalance(group, "member " + id + " joined");
    }
    return wait(id);
  }

  if (const int16_t code = checkMember(group, in.member_id, in.group_instance_id); code != 0) {
    return error(static_cast<ErrorCode>(code), in.member_id);
  }
  Member& member = group.members.at(in.member_id);
  const bool same_protocols = member.protocols == in.protocols;
  join(member);
  switch (group.state) {
    case GroupState::kPreparingRebalance:
      return wait(member.id);
    case GroupState::kCompletingRebalance:
      if (same_protocols && member.join_answer) {
        // It lost the answer: the same again.
        return reply(*member.join_answer);
      }
      prepareRebalance(group, "member " + member.id + " rejoined with other protocols");
      return wait(member.id);
    case GroupState::kStable:
      if (same_protocols && group.leader != member.id) {
        JoinAnswer answer;
        answer.generation = group.generation;
        answer.protocol = group.protocol;
        answer.leader = group.leader;
        answer.member_id = member.id;
        return reply(answer);
      }
      // The leader rejoins to have the partitions assigned again (new topics, new partitions).
      prepareRebalance(group, "member " + member.id +
                                  (same_protocols ? " (the leader) rejoined"
                                                  : " rejoined with other protocols"));
      return wait(member.id);
    case GroupState::kEmpty:
      break;
  }
  return error(ErrorCode::kUnknownMemberId, in.member_id);
}

FakeBroker::Reply FakeGroupCoordinator::syncGroup(const Request& request) {
  auto decoded = decode<protocol::SyncGroupApi>(request);
  if (!decoded) return Reply::close();
  const protocol::SyncGroupRequest& in = *decoded;
  Lock lock(mutex_);
  protocol::SyncGroupResponse response;
  auto reply = [&](ErrorCode code) {
    response.error_code = wire(code);
    return Reply::with<protocol::SyncGroupApi>(request, response);
  };
  Group* group = findGroup(in.group_id);
  if (!group) return reply(ErrorCode::kUnknownMemberId);
  if (const int16_t code = checkMember(*group, in.member_id, in.group_instance_id); code != 0) {
    return reply(static_cast<ErrorCode>(code));
  }
  if (in.generation_id != group->generation) return reply(ErrorCode::kIllegalGeneration);
  if ((in.protocol_type && *in.protocol_type != group->protocol_type) ||
      (in.protocol_name && *in.protocol_name != group->protocol)) {
    return reply(ErrorCode::kInconsistentGroupProtocol);
  }
  response.protocol_type = group->protocol_type;
  response.protocol_name = group->protocol;
  Member& member = group->members.at(in.member_id);
  member.last_seen = Clock::now();
  switch (group->state) {
    case GroupState::kEmpty:
      return reply(ErrorCode::kUnknownMemberId);
    case GroupState::kPreparingRebalance:
      return reply(ErrorCode::kRebalanceInProgress);
    case GroupState::kStable:
      if (!in.assignments.empty()) ++group->ignored_assignments;
      response.assignment = member.assignment;
      return reply(ErrorCode::kNone);
    case GroupState::kCompletingRebalance:
      break;
  }
  if (in.member_id == group->leader) {
    for (auto& [id, m] : group->members) m.assignment.clear();
    for (const auto& assignment : in.assignments) {
      auto it = group->members.find(assignment.member_id);
      if (it != group->members.end()) it->second.assignment = assignment.assignment;
    }
    group->state = GroupState::kStable;
    changed_.notify_all();
    response.assignment = member.assignment;
    return reply(ErrorCode::kNone);
  }
  // A follower waits for the leader's assignment. Groups are never erased, so `group` stays.
  const std::string member_id = in.member_id;
  const int32_t generation = group->generation;
  ++member.awaiting_sync;
  changed_.wait(lock, [&] {
    return stopping_ || !group->members.contains(member_id) || group->generation != generation ||
           group->state != GroupState::kCompletingRebalance;
  });
  if (stopping_) return reply(ErrorCode::kCoordinatorNotAvailable);
  auto it = group->members.find(member_id);
  if (it == group->members.end()) return reply(ErrorCode::kUnknownMemberId);
  --it->second.awaiting_sync;
  it->second.last_seen = Clock::now();
  if (group->generation != generation || group->state != GroupState::kStable) {
    return reply(ErrorCode::kRebalanceInProgress);
  }
  response.assignment = it->second.assignment;
  return reply(ErrorCode::kNone);
}

FakeBroker::Reply FakeGroupCoordinator::heartbeat(const Request& request) {
  auto decoded = decode<protocol::HeartbeatApi>(request);
  if (!decoded) return Reply::close();
  std::lock_guard lock(mutex_);
  ErrorCode code = ErrorCode::kNone;
  Group* group = findGroup(decoded->group_id);
  if (!group) {
    code = ErrorCode::kUnknownMemberId;
  } else if (int16_t check = checkMember(*group, decoded->member_id, decoded->group_instance_id);
             check != 0) {
    code = static_cast<ErrorCode>(check);
  } else if (decoded->generation_id != group->generation) {
    code = ErrorCode::kIllegalGeneration;
  } else {
    Member& member = group->members.at(decoded->member_id);
    member.last_seen = Clock::now();
    if (group->state == GroupState::kPreparingRebalance) {
      code = ErrorCode::kRebalanceInProgress;
    } else {
      ++member.heartbeats;
    }
  }
  if (group && code != ErrorCode::kNone) {
    group->heartbeat_errors.push_back(decoded->member_id + ": " + errorName(code));
  }
  protocol::HeartbeatResponse response;
  response.error_code = wire(code);
  return Reply::with<protocol::HeartbeatApi>(request, response);
}

FakeBroker::Reply FakeGroupCoordinator::leaveGroup(const Request& request) {
  auto decoded = decode<protocol::LeaveGroupApi>(request);
  if (!decoded) return Reply::close();
  std::lock_guard lock(mutex_);
  protocol::LeaveGroupResponse response;
  Group* group = findGroup(decoded->group_id);
  std::vector<protocol::LeaveGroupRequest::MemberIdentity> leaving = decoded->members;
  if (request.header.api_version < 3) leaving = {{decoded->member_id, std::nullopt, {}, {}}};
  if (group) ++group->leave_requests;
  std::vector<std::string> removed;
  for (const auto& identity : leaving) {
    auto& answer = response.members.emplace_back();
    answer.member_id = identity.member_id;
    answer.group_instance_id = identity.group_instance_id;
    std::string id = identity.member_id;
    if (!group) {
      answer.error_code = wire(ErrorCode::kUnknownMemberId);
      continue;
    }
    if (identity.group_instance_id) {
      // By instance id; a member id, when given, must be the instance's.
      auto it = group->static_members.find(*identity.group_instance_id);
      if (it == group->static_members.end()) {
        answer.error_code = wire(ErrorCode::kUnknownMemberId);
        continue;
      }
      if (!id.empty() && id != it->second) {
        answer.error_code = wire(ErrorCode::kFencedInstanceId);
        continue;
      }
      id = it->second;
    } else if (!group->members.contains(id)) {
      answer.error_code = wire(ErrorCode::kUnknownMemberId);
      continue;
    }
    removeMember(*group, id);
    removed.push_back(id);
  }
  if (group && !removed.empty()) {
    if (group->state == GroupState::kPreparingRebalance) {
      maybeCompleteJoin(*group);
    } else {
      prepareRebalance(*group, "member " + removed.front() + " left the group");
    }
  }
  if (request.header.api_version < 3) {
    response.error_code = response.members.front().error_code;
    response.members.clear();
  }
  return Reply::with<protocol::LeaveGroupApi>(request, response);
}

// ---------------------------------------------------------------------------------------------
// Group rules.

FakeGroupCoordinator::Group& FakeGroupCoordinator::groupNamed(const std::string& name) {
  auto& slot = groups_[name];
  if (!slot) {
    slot = std::make_unique<Group>();
    slot->name = name;
  }
  return *slot;
}

const FakeGroupCoordinator::Group* FakeGroupCoordinator::findGroup(const std::string& name) const {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second.get();
}

FakeGroupCoordinator::Group* FakeGroupCoordinator::findGroup(const std::string& name) {
  auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : it->second.get();
}

std::string FakeGroupCoordinator::newMemberId(const std::optional<std::string>& instance_id,
                                              const std::optional<std::string>& client_id) {
  // Kafka's form: the instance id (or the client id) and a unique suffix.
  const std::string prefix = instance_id ? *instance_id : client_id.value_or("member");
  return prefix + "-" + std::to_string(++next_member_);
}

int16_t FakeGroupCoordinator::checkMember(const Group& group, const std::string& member_id,
                                          const std::optional<std::string>& instance_id) const {
  if (instance_id) {
    auto it = group.static_members.find(*instance_id);
    if (it != group.static_members.end() && it->second != member_id) {
      return wire(ErrorCode::kFencedInstanceId);
    }
    if (it == group.static_members.end()) return wire(ErrorCode::kUnknownMemberId);
  }
  if (!group.members.contains(member_id)) return wire(ErrorCode::kUnknownMemberId);
  return 0;
}

bool FakeGroupCoordinator::supportsProtocols(const Group& group, const std::string& protocol_type,
                                             const std::vector<std::string>& protocols) const {
  if (protocol_type.empty() || protocols.empty()) return false;
  if (group.members.empty()) return true;
  if (protocol_type != group.protocol_type) return false;
  return std::any_of(protocols.begin(), protocols.end(), [&](const std::string& name) {
    return std::all_of(group.members.begin(), group.members.end(), [&](const auto& entry) {
      return entry.second.metadataFor(name) != nullptr;
    });
  });
}

std::string FakeGroupCoordinator::selectProtocol(const Group& group) const {
  // Each member votes for the first protocol of its own that every member supports; most votes
  // win, and a tie goes to the earliest member's preference.
  std::vector<const Member*> order;
  for (const auto& [id, member] : group.members) order.push_back(&member);
  std::sort(order.begin(), order.end(),
            [](const Member* a, const Member* b) { return a->join_order < b->join_order; });
  auto everyone = [&](const std::string& name) {
    return std::all_of(order.begin(), order.end(),
                       [&](const Member* m) { return m->metadataFor(name) != nullptr; });
  };
  std::map<std::string, int> votes;
  std::vector<std::string> first_seen;
  for (const Member* member : order) {
    for (const auto& p : member->protocols) {
      if (!everyone(p.name)) continue;
      if (votes[p.name]++ == 0) first_seen.push_back(p.name);
      break;
    }
  }
  std::string best;
  for (const std::string& name : first_seen) {
    if (best.empty() || votes[name] > votes[best]) best = name;
  }
  return best;
}

void FakeGroupCoordinator::prepareRebalance(Group& group, const std::string& reason) {
  const auto now = Clock::now();
  std::chrono::milliseconds longest{0};
  for (auto& [id, member] : group.members) {
    member.joined = false;
    member.join_answer.reset();
    longest = std::max(longest, member.rebalance_timeout);
  }
  group.join_not_before =
      group.state == GroupState::kEmpty ? now + options_.initial_rebalance_delay : now;
  group.join_deadline = now + longest;
  group.state = GroupState::kPreparingRebalance;
  group.rebalance_reason = reason;
  changed_.notify_all();
}

void FakeGroupCoordinator::maybeCompleteJoin(Group& group) {
  if (group.state != GroupState::kPreparingRebalance) return;
  const auto now = Clock::now();
  const bool all_joined = std::all_of(group.members.begin(), group.members.end(),
                                      [](const auto& entry) { return entry.second.joined; });
  if ((all_joined && now >= group.join_not_before) || now >= group.join_deadline) {
    completeJoin(group);
  }
}

void FakeGroupCoordinator::completeJoin(Group& group) {
  // Dynamic members that did not rejoin in time are dropped; static ones keep their place until
  // their session expires.
  std::vector<std::string> late;
  for (const auto& [id, member] : group.members) {
    if (!member.joined && !member.instance_id) late.push_back(id);
  }
  for (const std::string& id : late) removeMember(group, id);
  ++group.generation;
  if (group.members.empty()) {
    group.state = GroupState::kEmpty;
    group.protocol.clear();
    group.protocol_type.clear();
    group.leader.clear();
    changed_.notify_all();
    return;
  }
  group.protocol = selectProtocol(group);
  const Member* first = nullptr;
  for (const auto& [id, member] : group.members) {
    if (member.joined && (!first || member.join_order < first->join_order)) first = &member;
  }
  auto leader = group.members.find(group.leader);
  if (leader == group.members.end() || !leader->second.joined) group.leader = first->id;
  group.state = GroupState::kCompletingRebalance;

  Rebalance done{group.name, group.generation,      group.protocol, group.leader,
                 {},         group.rebalance_reason};
  std::vector<protocol::JoinGroupResponse::Member> everyone;
  for (auto& [id, member] : group.members) {
    done.members.push_back(id);
    member.assignment.clear();
    everyone.push_back({id, member.instance_id, *member.metadataFor(group.protocol), {}});
  }
  group.rebalances.push_back(std::move(done));
  const auto now = Clock::now();
  for (auto& [id, member] : group.members) {
    if (!member.joined) continue;
    // Its session runs again from the answer, as it did not while its JoinGroup was held.
    member.last_seen = now;
    JoinAnswer answer;
    answer.generation = group.generation;
    answer.protocol = group.protocol;
    answer.leader = group.leader;
    answer.member_id = id;
    if (id == group.leader) answer.members = everyone;
    member.join_answer = std::move(answer);
  }
  changed_.notify_all();
}

void FakeGroupCoordinator::removeMember(Group& group, const std::string& member_id) {
  auto it = group.members.find(member_id);
  if (it == group.members.end()) return;
  if (it->second.instance_id) group.static_members.erase(*it->second.instance_id);
  group.members.erase(it);
  if (group.leader == member_id) group.leader.clear();
  changed_.notify_all();
}

FakeGroupCoordinator::JoinAnswer FakeGroupCoordinator::awaitJoin(Lock& lock, Group& group,
                                                                 const std::string& member_id) {
  // Groups are never erased, but the member may be: removed, or replaced by its instance.
  auto member = [&]() -> Member* {
    auto it = group.members.find(member_id);
    return it == group.members.end() ? nullptr : &it->second;
  };
  ++member()->awaiting_join;
  changed_.wait(lock, [&] {
    Member* m = member();
    return stopping_ || !m || m->join_answer.has_value();
  });
  JoinAnswer answer;
  answer.member_id = member_id;
  Member* m = member();
  if (m) --m->awaiting_join;
  if (stopping_) {
    answer.error_code = wire(ErrorCode::kCoordinatorNotAvailable);
  } else if (!m) {
    answer.error_code = wire(ErrorCode::kUnknownMemberId);
  } else {
    answer = *m->join_answer;
  }
  return answer;
}

void FakeGroupCoordinator::tick() {
  const auto now = Clock::now();
  for (auto& [name, group] : groups_) {
    std::vector<std::string> expired;
    for (const auto& [id, member] : group->members) {
      // Members whose JoinGroup or SyncGroup is held are alive, as in Kafka.
      if (member.awaiting_join > 0 || member.awaiting_sync > 0) continue;
      if (now - member.last_seen > member.session_timeout) expired.push_back(id);
    }
    for (const std::string& id : expired) removeMember(*group, id);
    if (!expired.empty() && group->state != GroupState::kPreparingRebalance) {
      prepareRebalance(*group, "the session of member " + expired.front() + " expired");
    }
    maybeCompleteJoin(*group);
  }
}

}  // namespace kafka::testing
