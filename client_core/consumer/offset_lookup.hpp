// Asking partition leaders where a log starts or ends, or which offset a time falls at
// (ListOffsets): one request per leader for all the partitions it leads, in parallel (a
// partition asked about twice goes in a second request). For offset reset, seeks to the
// beginning, the end or a time, and lag.
//
// Free function; the lookup runs on a strand of its own on `executor`, keeps itself alive until
// it is done, and calls `done` once, on that strand.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::consumer {

enum class IsolationLevel : int8_t { kReadUncommitted = 0, kReadCommitted = 1 };

// ListOffsets' special timestamps.
inline constexpr int64_t kEarliestTimestamp = -2;
inline constexpr int64_t kLatestTimestamp = -1;

struct OffsetQuery {
  std::string topic;
  int32_t partition = 0;
  // kEarliestTimestamp, kLatestTimestamp, or milliseconds since the epoch: the first offset
  // whose record timestamp is at or after it.
  int64_t timestamp = kLatestTimestamp;
};

struct OffsetAnswer {
  Error error;              // code kNone when `offset` is the answer
  int64_t offset = -1;      // -1 for a time after every record
  int64_t timestamp = -1;   // of the record found, for a time query
  int32_t leader_epoch = -1;
};

// Answers `queries`, in their order. A partition whose leader is unknown or has moved is asked
// again after a metadata refresh, up to three times, before its answer says why it failed.
void lookUpOffsets(boost::asio::any_io_executor executor, const std::shared_ptr<Cluster>& cluster,
                   std::vector<OffsetQuery> queries, IsolationLevel isolation,
                   std::function<void(std::vector<OffsetAnswer>)> done);

}  // namespace kafka::consumer
