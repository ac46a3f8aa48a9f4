// Resetting a consumer group's committed offsets, for the Admin API, as kafka-consumer-groups.sh
// --reset-offsets does:
//   1. the group must be inactive: its coordinator (DescribeGroups) must describe it Empty or
//      Dead (a group never heard of is Dead). A group with members would overwrite the new
//      offsets with its next commit, so it is refused with NON_EMPTY_GROUP naming its state;
//   2. each partition's new offset is found with the offset lookup (ListOffsets), and its
//      current one with OffsetFetch, so that a dry run shows what would change;
//   3. unless it is a dry run, the new offsets are committed (OffsetCommit) as a consumer
//      without a group membership does: generation -1, no member id.
// Topics are checked against a metadata listing of every topic first: none is created.
//
// Free function; the reset runs on a strand of its own on `executor`, keeps itself alive until
// it is done, and calls `done` once, on that strand.
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
#include "client_core/protocol/result.hpp"

namespace kafka::admin {

// Where to move the group's offsets.
struct ResetTarget {
  enum class Kind {
    kEarliest,   // the first offset still in each log
    kLatest,     // the end of each log: the group skips what is there
    kTimestamp,  // the first record at or after `timestamp_ms`; the end of the log when
                 // there is none
    kOffset,     // `offset` itself, brought within [earliest, latest] where it lies outside
  };
  Kind kind = Kind::kEarliest;
  int64_t timestamp_ms = 0;  // for kTimestamp: milliseconds since the epoch, not negative
  int64_t offset = 0;        // for kOffset: not negative
};

struct ResetSelection {
  std::string topic;
  std::vector<int32_t> partitions;  // empty: every partition of the topic
};

struct OffsetResetQuery {
  std::string group;
  std::vector<ResetSelection> topics;  // at least one; a topic at most once
  ResetTarget target;
  bool dry_run = false;  // compute the new offsets, commit nothing
  std::chrono::milliseconds timeout{30'000};
};

struct PartitionReset {
  int32_t partition = 0;
  // The group's committed offset before the reset; nullopt when it had none.
  std::optional<int64_t> previous;
  // The new offset; -1 when it could not be worked out.
  int64_t offset = -1;
  // What went wrong for the partition: its offset lookup, reading its committed offset, or the
  // commit. The group's offset for it is then unchanged.
  Error error;
};

struct TopicReset {
  std::string topic;
  // UNKNOWN_TOPIC_OR_PARTITION for a topic the cluster does not have; `partitions` is then
  // empty.
  Error error;
  std::vector<PartitionReset> partitions;  // as selected, ordered by partition id
};

// Fails as a whole for invalid arguments (kInvalidArgument naming the field), a group that is
// not inactive (kNonEmptyGroup), a broker without DescribeGroups (kUnsupportedApi), when the
// group's coordinator or the metadata cannot be had, or when the committed offsets cannot be
// read. A partition named that the topic does not have is answered UNKNOWN_TOPIC_OR_PARTITION in
// its entry.
void resetGroupOffsets(boost::asio::any_io_executor executor,
                       const std::shared_ptr<Cluster>& cluster, OffsetResetQuery query,
                       std::function<void(Result<std::vector<TopicReset>>)> done);

}  // namespace kafka::admin
