// OffsetQueue: lookups and removals anywhere, ordered visits, and memory that stays within about
// twice what is held while the oldest value stays.
#include "server/offset_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kafka::sidecar {
namespace {

std::vector<int64_t> offsetsFrom(OffsetQueue<std::string>& queue, int64_t from) {
  std::vector<int64_t> out;
  queue.visitFrom(from, [&out](int64_t offset, const std::string&) {
    out.push_back(offset);
    return true;
  });
  return out;
}

TEST(OffsetQueueTest, FindsAndRemovesAnywhere) {
  OffsetQueue<std::string> queue;
  for (int64_t offset : {3, 5, 6, 9}) queue.push(offset) = "v" + std::to_string(offset);
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_EQ(queue.frontOffset(), 3);
  ASSERT_NE(queue.find(6), nullptr);
  EXPECT_EQ(*queue.find(6), "v6");
  EXPECT_EQ(queue.find(4), nullptr);   // a gap
  EXPECT_EQ(queue.find(10), nullptr);  // beyond

  EXPECT_TRUE(queue.remove(5));
  EXPECT_FALSE(queue.remove(5));
  EXPECT_EQ(queue.find(5), nullptr);
  EXPECT_EQ(queue.frontOffset(), 3);
  EXPECT_TRUE(queue.remove(3));
  // The hole left by 5 went with the front.
  EXPECT_EQ(queue.frontOffset(), 6);
  EXPECT_EQ(queue.slotsForTest(), 2u);
  EXPECT_EQ(offsetsFrom(queue, 0), (std::vector<int64_t>{6, 9}));
  EXPECT_EQ(offsetsFrom(queue, 7), (std::vector<int64_t>{9}));
  EXPECT_TRUE(queue.remove(9));
  EXPECT_TRUE(queue.remove(6));
  EXPECT_TRUE(queue.empty());
}

TEST(OffsetQueueTest, VisitsInOrderUntilTold) {
  OffsetQueue<std::string> queue;
  for (int64_t offset = 0; offset < 10; ++offset) queue.push(offset);
  queue.remove(4);
  std::vector<int64_t> seen;
  queue.visit([&seen](int64_t offset, std::string&) {
    seen.push_back(offset);
    return offset < 6;
  });
  EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 5, 6}));
}

TEST(OffsetQueueTest, RemovedValuesAreReleasedAtOnce) {
  OffsetQueue<std::string> queue;
  queue.push(1) = "first";
  queue.push(2) = std::string(1000, 'x');
  queue.push(3) = "last";
  ASSERT_TRUE(queue.remove(2));
  // The hole stays until swept, but holds nothing.
  EXPECT_EQ(queue.slotsForTest(), 3u);
  EXPECT_EQ(queue.find(2), nullptr);
}

TEST(OffsetQueueTest, MemoryStaysBoundedBehindAValueThatStays) {
  OffsetQueue<std::string> queue;
  queue.push(0) = "stuck";
  for (int64_t offset = 1; offset <= 100'000; ++offset) {
    queue.push(offset);
    ASSERT_TRUE(queue.remove(offset));
    ASSERT_LE(queue.slotsForTest(), 65u);
  }
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.frontOffset(), 0);
  // Out of order with many held: at most about twice the values held.
  for (int64_t offset = 100'001; offset <= 110'000; ++offset) queue.push(offset);
  for (int64_t offset = 110'000; offset > 100'001; offset -= 2) {
    ASSERT_TRUE(queue.remove(offset));
    ASSERT_LE(queue.slotsForTest(), std::max<size_t>(64, 2 * queue.size()) + 1);
  }
  EXPECT_EQ(queue.size(), 1u + 5'000u);
  EXPECT_NE(queue.find(100'001), nullptr);
  EXPECT_EQ(queue.find(100'002), nullptr);
}

}  // namespace
}  // namespace kafka::sidecar
