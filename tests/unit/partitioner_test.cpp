#include "client_core/producer/partitioner.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace kafka::producer {
namespace {

protocol::Bytes fromHex(const std::string& hex) {
  protocol::Bytes out;
  if (hex == "-") return out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Vectors computed by kafka-python (tests/unit/make_murmur2_vectors.py).
TEST(PartitionerTest, MatchesKafkaPythonsMurmur2AndPartitions) {
  std::ifstream in(std::string(KS_SOURCE_DIR) + "/tests/unit/murmur2_vectors.txt");
  ASSERT_TRUE(in) << "murmur2_vectors.txt not found";
  const int32_t counts[] = {1, 2, 3, 7, 12, 100};
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string hex;
    uint32_t hash = 0;
    fields >> hex >> hash;
    protocol::Bytes key = fromHex(hex);
    EXPECT_EQ(murmur2(key), hash) << "key " << hex;
    for (int32_t count : counts) {
      int32_t expected = -1;
      fields >> expected;
      EXPECT_EQ(partitionForKey(key, count), expected) << "key " << hex << " of " << count;
    }
    ++checked;
  }
  EXPECT_GT(checked, 100);
}

TEST(PartitionerTest, KeylessRecordsStayOnOnePartitionUntilItsBatchIsDone) {
  StickyPartitioner sticky(42);
  int32_t first = sticky.partition("orders", 8);
  ASSERT_GE(first, 0);
  ASSERT_LT(first, 8);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sticky.partition("orders", 8), first);
  // A batch completing elsewhere changes nothing.
  sticky.onBatchComplete("orders", (first + 1) % 8, 8);
  EXPECT_EQ(sticky.partition("orders", 8), first);
  std::set<int32_t> seen{first};
  int32_t current = first;
  for (int i = 0; i < 200; ++i) {
    sticky.onBatchComplete("orders", current, 8);
    int32_t next = sticky.partition("orders", 8);
    EXPECT_NE(next, current);
    ASSERT_LT(next, 8);
    seen.insert(next);
    current = next;
  }
  EXPECT_EQ(seen.size(), 8u) << "every partition gets keyless traffic in turn";
}

TEST(PartitionerTest, StickyChoiceFollowsPartitionCountChanges) {
  StickyPartitioner sticky(7);
  EXPECT_EQ(sticky.partition("single", 1), 0);
  sticky.onBatchComplete("single", 0, 1);
  EXPECT_EQ(sticky.partition("single", 1), 0);
  for (int i = 0; i < 50; ++i) {
    StickyPartitioner fresh(static_cast<uint64_t>(i));
    int32_t chosen = fresh.partition("t", 100);
    int32_t after = fresh.partition("t", 3);
    // Kept while it still exists, chosen again when the topic (as we know it) is smaller.
    if (chosen < 3) {
      EXPECT_EQ(after, chosen);
    } else {
      EXPECT_LT(after, 3);
    }
  }
}

}  // namespace
}  // namespace kafka::producer
