#include "client_core/producer/partitioner.hpp"

namespace kafka::producer {

uint32_t murmur2(protocol::ByteView key) {
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const size_t length = key.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const size_t whole = length / 4 * 4;
  for (size_t i = 0; i < whole; i += 4) {
    uint32_t k = static_cast<uint32_t>(key[i]) | static_cast<uint32_t>(key[i + 1]) << 8 |
                 static_cast<uint32_t>(key[i + 2]) << 16 | static_cast<uint32_t>(key[i + 3]) << 24;
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(key[whole + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(key[whole + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= static_cast<uint32_t>(key[whole]);
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return h;
}

int32_t partitionForKey(protocol::ByteView key, int32_t partition_count) {
  // Java's toPositive masks the sign bit rather than taking an absolute value.
  return static_cast<int32_t>((murmur2(key) & 0x7fffffff) % static_cast<uint32_t>(partition_count));
}

StickyPartitioner::StickyPartitioner(uint64_t seed)
    : random_(static_cast<std::minstd_rand::result_type>(seed)) {}

int32_t StickyPartitioner::partition(const std::string& topic, int32_t partition_count) {
  auto it = current_.find(topic);
  if (it == current_.end()) {
    it = current_.emplace(topic, pick(partition_count, -1)).first;
  } else if (it->second >= partition_count) {
    it->second = pick(partition_count, -1);  // the topic shrank in our view; choose again
  }
  return it->second;
}

void StickyPartitioner::onBatchComplete(const std::string& topic, int32_t partition,
                                        int32_t partition_count) {
  auto it = current_.find(topic);
  if (it != current_.end() && it->second == partition) it->second = pick(partition_count, partition);
}

int32_t StickyPartitioner::pick(int32_t partition_count, int32_t avoid) {
  if (partition_count <= 1) return 0;
  std::uniform_int_distribution<int32_t> any(0, partition_count - 1);
  int32_t chosen = any(random_);
  if (chosen == avoid) chosen = (chosen + 1 + any(random_) % (partition_count - 1)) % partition_count;
  return chosen;
}

}  // namespace kafka::producer
