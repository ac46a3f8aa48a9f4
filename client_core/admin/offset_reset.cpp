#include "client_core/admin/offset_reset.hpp"

#include <algorithm>
#include <set>

#include "client_core/admin/admin_support.hpp"
#include "client_core/consumer/offset_lookup.hpp"
#include "client_core/group/group_membership.hpp"

namespace kafka::admin {

namespace {

namespace asio = boost::asio;
using detail::Deadline;

std::optional<std::string> resetProblem(const OffsetResetQuery& query) {
  if (query.group.empty()) return "group: the group id is empty";
  std::vector<std::string> names;
  for (const ResetSelection& selection : query.topics) names.push_back(selection.topic);
  if (auto problem = detail::topicListProblem(names, "topics")) return problem;
  for (size_t i = 0; i < query.topics.size(); ++i) {
    std::set<int32_t> seen;
    const auto& partitions = query.topics[i].partitions;
    for (size_t j = 0; j < partitions.size(); ++j) {
      const std::string where =
          "topics[" + std::to_string(i) + "].partitions[" + std::to_string(j) + "]: ";
      if (partitions[j] < 0) return where + "negative partition " + std::to_string(partitions[j]);
      if (!seen.insert(partitions[j]).second) {
        return where + "partition " + std::to_string(partitions[j]) + " is named twice";
      }
    }
  }
  const ResetTarget& target = query.target;
  if (target.kind == ResetTarget::Kind::kTimestamp && target.timestamp_ms < 0) {
    return "timestamp_ms: must not be negative, got " + std::to_string(target.timestamp_ms);
  }
  if (target.kind == ResetTarget::Kind::kOffset && target.offset < 0) {
    return "offset: must not be negative, got " + std::to_string(target.offset);
  }
  return std::nullopt;
}

// The partitions a reset touches: each selected partition that the topic has, with the entry
// of the answer it fills.
struct Selected {
  TopicPartition partition;
  PartitionReset* entry;
};

// The answer's skeleton from the metadata: topics and partitions that do not exist are answered
// there and then; the others are returned.
std::vector<Selected> select(const OffsetResetQuery& query, const MetadataSnapshot& metadata,
                             std::vector<TopicReset>& answer) {
  answer.reserve(query.topics.size());  // `Selected` points into it
  std::vector<Selected> selected;
  for (const ResetSelection& selection : query.topics) {
    TopicReset& topic = answer.emplace_back();
    topic.topic = selection.topic;
    const TopicInfo* info = metadata.topic(selection.topic);
    const ErrorCode code = info ? info->error : ErrorCode::kUnknownTopicOrPartition;
    if (code != ErrorCode::kNone) {
      topic.error = {code, "topic " + selection.topic + ": " +
                               (info ? std::string(errorDescription(code))
                                     : std::string("the cluster has no such topic"))};
      continue;
    }
    std::vector<int32_t> ids = selection.partitions;
    if (ids.empty()) {
      for (const PartitionInfo& p : info->partitions) ids.push_back(p.partition);
    }
    std::sort(ids.begin(), ids.end());
    topic.partitions.reserve(ids.size());
    for (int32_t id : ids) {
      PartitionReset& entry = topic.partitions.emplace_back();
      entry.partition = id;
      if (metadata.partition(selection.topic, id) == nullptr) {
        entry.error = {ErrorCode::kUnknownTopicOrPartition,
                       describePartition(selection.topic, id) + ": the topic has " +
                           std::to_string(info->partitions.size()) + " partitions"};
        continue;
      }
      selected.push_back({{selection.topic, id}, &entry});
    }
  }
  return selected;
}

// The new offset from the partition's lookups (earliest, latest and, for a time, the offset at
// that time), or the error of the first lookup that failed.
Result<int64_t> newOffset(const ResetTarget& target, const consumer::OffsetAnswer& earliest,
                          const consumer::OffsetAnswer& latest,
                          const consumer::OffsetAnswer* at_time) {
  for (const consumer::OffsetAnswer* lookup : {&earliest, &latest, at_time}) {
    if (lookup != nullptr && lookup->error.code != ErrorCode::kNone) return lookup->error;
  }
  switch (target.kind) {
    case ResetTarget::Kind::kEarliest:
      return earliest.offset;
    case ResetTarget::Kind::kLatest:
      return latest.offset;
    case ResetTarget::Kind::kTimestamp:
      return at_time->offset >= 0 ? at_time->offset : latest.offset;
    case ResetTarget::Kind::kOffset:
      return std::clamp(target.offset, earliest.offset, std::max(earliest.offset, latest.offset));
  }
  return latest.offset;
}

asio::awaitable<Result<std::vector<TopicReset>>> reset(detail::Strand strand,
                                                       std::shared_ptr<Cluster> cluster,
                                                       OffsetResetQuery query) {
  const Deadline deadline(query.timeout);
  auto group = co_await detail::describeGroupNow(*cluster, query.group, deadline);
  if (!group.ok()) co_return group.error();
  if (group->state != "Empty" && group->state != "Dead") {
    co_return Error{ErrorCode::kNonEmptyGroup,
                    "group " + query.group + " is " + group->state + " with " +
                        std::to_string(group->members.size()) +
                        " members: its offsets can be reset only while it is Empty or Dead; "
                        "stop its consumers first"};
  }
  auto metadata = co_await detail::freshMetadata(*cluster);
  if (!metadata.ok()) co_return metadata.error();
  std::vector<TopicReset> answer;
  const std::vector<Selected> selected = select(query, **metadata, answer);
  if (selected.empty()) co_return answer;

  const bool by_time = query.target.kind == ResetTarget::Kind::kTimestamp;
  const size_t per_partition = by_time ? 3 : 2;
  std::vector<consumer::OffsetQuery> queries;
  std::vector<TopicPartition> partitions;
  for (const Selected& s : selected) {
    partitions.push_back(s.partition);
    queries.push_back({s.partition.topic, s.partition.partition, consumer::kEarliestTimestamp});
    queries.push_back({s.partition.topic, s.partition.partition, consumer::kLatestTimestamp});
    if (by_time) {
      queries.push_back({s.partition.topic, s.partition.partition, query.target.timestamp_ms});
    }
  }
  const auto lookups =
      co_await detail::callbackResult<std::vector<consumer::OffsetAnswer>>([&](auto callback) {
        consumer::lookUpOffsets(strand, cluster, std::move(queries),
                                consumer::IsolationLevel::kReadUncommitted, std::move(callback));
      });

  // A membership that never joins only finds the coordinator, reads and commits as a consumer
  // without a group.
  group::GroupConfig config;
  config.group_id = query.group;
  config.request_deadline = deadline.remaining();
  auto membership = group::GroupMembership::create(strand, cluster, std::move(config), {});
  using Committed = Result<std::vector<group::CommittedOffset>>;
  const Committed committed = co_await detail::callbackResult<Committed>(
      [&](auto callback) { membership->fetchCommittedOffsets(partitions, std::move(callback)); });
  if (!committed.ok()) co_return committed.error();

  std::vector<group::OffsetToCommit> commits;
  std::vector<PartitionReset*> committing;
  for (size_t i = 0; i < selected.size(); ++i) {
    PartitionReset& entry = *selected[i].entry;
    const group::CommittedOffset& current = (*committed)[i];
    if (current.error.code != ErrorCode::kNone) {
      entry.error = current.error;
    } else if (current.offset >= 0) {
      entry.previous = current.offset;
    }
    const auto* lookup = &lookups[i * per_partition];
    auto offset = newOffset(query.target, lookup[0], lookup[1], by_time ? &lookup[2] : nullptr);
    if (!offset.ok()) {
      entry.error = offset.error();
      continue;
    }
    entry.offset = *offset;
    if (entry.error.code != ErrorCode::kNone) continue;
    group::OffsetToCommit& commit = commits.emplace_back();
    commit.partition = selected[i].partition;
    commit.offset = entry.offset;
    committing.push_back(&entry);
  }
  if (query.dry_run || commits.empty()) co_return answer;

  using Outcome = Result<std::vector<group::PartitionResult>>;
  const Outcome outcome = co_await detail::callbackResult<Outcome>(
      [&](auto callback) { membership->commitOffsets(std::move(commits), std::move(callback)); });
  if (!outcome.ok()) co_return outcome.error();
  for (size_t i = 0; i < committing.size(); ++i) committing[i]->error = (*outcome)[i].error;
  co_return answer;
}

}  // namespace

void resetGroupOffsets(asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                       OffsetResetQuery query,
                       std::function<void(Result<std::vector<TopicReset>>)> done) {
  if (auto problem = resetProblem(query)) {
    return detail::refuse(executor, std::move(done), std::move(*problem));
  }
  detail::launch<std::vector<TopicReset>>(
      executor,
      [cluster, query = std::move(query)](const detail::Strand& strand) {
        return reset(strand, cluster, query);
      },
      std::move(done));
}

}  // namespace kafka::admin
