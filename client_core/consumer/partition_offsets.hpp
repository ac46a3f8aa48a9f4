// Where a topic's partitions stand: the first and the next offset of each log (ListOffsets)
// and, for a consumer group, the offset the group has committed (OffsetFetch) and its lag, the
// records between that offset and the end. For the Admin API and monitoring; it changes
// nothing: it joins no group, commits nothing, and creates no topic (topics are checked against
// a metadata listing of every topic before anything names them).
//
// Free function; the description runs on a strand of its own on `executor`, keeps itself alive
// until it is done, and calls `done` once, on that strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/offset_lookup.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::consumer {

struct OffsetsQuery {
  std::vector<std::string> topics;  // at least one; a topic named twice is described once
  std::string group;                // empty: no committed offsets and no lag
  // Under read_committed, `latest` is the last stable offset, as such a group's consumers see
  // the end of the log.
  IsolationLevel isolation = IsolationLevel::kReadUncommitted;
  // How long the group's coordinator is looked for and asked, retrying retriable errors.
  std::chrono::milliseconds group_deadline{10'000};
};

struct PartitionOffsets {
  int32_t partition = 0;
  int64_t earliest = -1;  // the log start offset; -1 when `error` says why it is unknown
  int64_t latest = -1;    // the offset the next record will get
  // The group's committed offset (the next record it will consume) and the metadata committed
  // with it; absent without a group, or when the group has committed nothing for the partition.
  std::optional<int64_t> committed;
  std::string committed_metadata;
  // latest - committed, when both are known. Negative when the log was truncated below the
  // committed offset.
  std::optional<int64_t> lag;
  // The first thing that went wrong for the partition (the offsets lookup, or the group's
  // committed offset); kNone when every field above is as the cluster reported it.
  Error error;
};

struct TopicOffsets {
  std::string topic;
  // UNKNOWN_TOPIC_OR_PARTITION for a topic the cluster does not have, or the error the metadata
  // reported for the topic; `partitions` is then empty.
  Error error;
  std::vector<PartitionOffsets> partitions;  // ordered by partition id
};

// Describes `query.topics`, in the order asked. Fails as a whole for no topics or an invalid
// topic name (INVALID_ARGUMENT), and when the cluster's metadata cannot be fetched; per-topic
// and per-partition problems are reported inside the answer.
void describeOffsets(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                     OffsetsQuery query,
                     std::function<void(Result<std::vector<TopicOffsets>>)> done);

}  // namespace kafka::consumer
