// Settings of one consumer. Names follow Kafka's consumer configuration where they mean the same
// thing (auto.offset.reset, isolation.level, check.crcs, ...); defaults follow Kafka's Java
// client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "client_core/consumer/offset_lookup.hpp"
#include "client_core/group/group_config.hpp"

namespace kafka::consumer {

// auto.offset.reset: where a partition starts when the group has no committed offset for it, or
// when its position is out of the log's range.
enum class OffsetReset { kEarliest, kLatest, kNone };

struct ConsumerConfig {
  // The group whose offsets the consumer commits and fetches, and which it joins when it
  // subscribes. A consumer that only assign()s partitions uses the group for offsets alone.
  group::GroupConfig group;
  OffsetReset offset_reset = OffsetReset::kLatest;
  IsolationLevel isolation = IsolationLevel::kReadUncommitted;
  // check.crcs
  bool check_crcs = true;
  // Bytes fetched and not yet taken by the owner: no fetch is asked for while it is reached.
  size_t max_buffered_bytes = 8 * 1024 * 1024;
  // max.partition.fetch.bytes; 0 for the fetcher's default.
  int32_t partition_max_bytes = 0;
  // enable.auto.commit and auto.commit.interval.ms: commit the committable offsets on this
  // interval. Offsets are also committed on revoke and on close, whatever this says.
  bool auto_commit = true;
  std::chrono::milliseconds auto_commit_interval{5'000};
  // Stored with every offset this consumer commits (Kafka's commit metadata: who committed, or
  // a checkpoint of the owner's own). Brokers refuse more than offset.metadata.max.bytes
  // (4096 by default) with OFFSET_METADATA_TOO_LARGE, in the commit's results.
  std::string commit_metadata;
};

}  // namespace kafka::consumer
