// Integration-test support: reads a whole partition back from its leader with Fetch and decodes
// it with client_core's record reader, so that tests can check what a producer really wrote
// (content, order, exactly-once) rather than what it reported.
//
// Synchronous: call it from the test thread while the cluster's io_context runs elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::integration {

struct LoggedRecord {
  int64_t offset = 0;
  int64_t timestamp = -1;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t sequence = -1;  // the batch's base sequence plus the record's position, or -1
};

// Every record of the partition, from offset 0 to the high watermark.
Result<std::vector<LoggedRecord>> readPartition(Cluster& cluster, const std::string& topic,
                                                int32_t partition);

}  // namespace kafka::integration
