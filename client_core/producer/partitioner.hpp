// Choosing a partition for a record, as Kafka's Java client does.
//
// Keyed records: toPositive(murmur2(key)) % partitions, with Java's murmur2 (seed 0x9747b28c), so
// that the sidecar puts a key on the same partition as any Java, librdkafka (murmur2_random) or
// kafka-python producer would. Records without a key stick to one partition until its batch is
// done, then move to another (the "sticky" partitioner of KIP-480), so that keyless traffic
// fills whole batches instead of spraying one record per partition.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>

#include "client_core/protocol/codec.hpp"

namespace kafka::producer {

// Java's Utils.murmur2: the 32-bit hash, as the bits of Java's int.
uint32_t murmur2(protocol::ByteView key);

// The partition of a keyed record among `partition_count` (> 0) partitions.
int32_t partitionForKey(protocol::ByteView key, int32_t partition_count);

// The current partition for keyless records, per topic. Owned by one producer; not thread-safe.
class StickyPartitioner {
 public:
  explicit StickyPartitioner(uint64_t seed = std::random_device{}());

  // The partition keyless records of `topic` go to now.
  int32_t partition(const std::string& topic, int32_t partition_count);
  // The batch of `topic` on `partition` is complete: later keyless records go elsewhere.
  void onBatchComplete(const std::string& topic, int32_t partition, int32_t partition_count);

 private:
  int32_t pick(int32_t partition_count, int32_t avoid);

  std::map<std::string, int32_t, std::less<>> current_;
  std::minstd_rand random_;
};

}  // namespace kafka::producer
