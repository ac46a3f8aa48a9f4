// AckTracker: the committable offset under in-order and out-of-order acks, gaps, skips and
// repeats; the errors; and a seeded random walk against a model that remembers everything.
#include "server/ack_tracker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace kafka::sidecar {
namespace {

void deliver(AckTracker& tracker, std::initializer_list<int64_t> offsets) {
  for (int64_t offset : offsets) ASSERT_TRUE(tracker.delivered(offset).ok()) << offset;
}

void ack(AckTracker& tracker, std::initializer_list<int64_t> offsets) {
  for (int64_t offset : offsets) ASSERT_TRUE(tracker.ack(offset).ok()) << offset;
}

// `result` is kInvalidArgument, naming `offset`.
void expectRejected(const Result<void>& result, int64_t offset) {
  ASSERT_FALSE(result.ok()) << offset;
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("offset " + std::to_string(offset)), std::string::npos)
      << result.error().message;
}

TEST(AckTrackerTest, StartsAtThePosition) {
  AckTracker tracker(42);
  EXPECT_EQ(tracker.committable(), 42);
  EXPECT_EQ(tracker.unacked(), 0u);
}

TEST(AckTrackerTest, InOrderAcksMoveCommittableOneByOne) {
  AckTracker tracker(0);
  deliver(tracker, {0, 1, 2, 3});
  EXPECT_EQ(tracker.committable(), 0);
  EXPECT_EQ(tracker.unacked(), 4u);
  for (int64_t offset = 0; offset < 4; ++offset) {
    ASSERT_TRUE(tracker.ack(offset).ok());
    EXPECT_EQ(tracker.committable(), offset + 1);
    EXPECT_EQ(tracker.unacked(), static_cast<size_t>(3 - offset));
  }
}

TEST(AckTrackerTest, OutOfOrderAcksWaitForTheOldestUnacked) {
  AckTracker tracker(100);
  deliver(tracker, {100, 101, 102, 103, 104});
  ack(tracker, {103, 101, 104});
  EXPECT_EQ(tracker.committable(), 100);
  EXPECT_EQ(tracker.unacked(), 2u);
  ack(tracker, {100});
  EXPECT_EQ(tracker.committable(), 102);
  ack(tracker, {102});
  EXPECT_EQ(tracker.committable(), 105);
  EXPECT_EQ(tracker.unacked(), 0u);
}

TEST(AckTrackerTest, GapsBetweenDeliveredOffsets) {
  AckTracker tracker(0);
  deliver(tracker, {5, 9, 10});
  // Nothing below 5 was delivered, so a restart from 5 loses nothing.
  EXPECT_EQ(tracker.committable(), 5);
  ack(tracker, {9, 10});
  EXPECT_EQ(tracker.committable(), 5);
  EXPECT_EQ(tracker.unacked(), 1u);
  ack(tracker, {5});
  EXPECT_EQ(tracker.committable(), 11);
  EXPECT_EQ(tracker.unacked(), 0u);
  // Offsets in a gap above committable() were never delivered.
  deliver(tracker, {12, 20});
  expectRejected(tracker.ack(15), 15);
  ack(tracker, {20});
  EXPECT_EQ(tracker.committable(), 12);
  ack(tracker, {12});
  EXPECT_EQ(tracker.committable(), 21);
}

TEST(AckTrackerTest, SkippedToIsReachedOnceEverythingDeliveredIsAcked) {
  AckTracker tracker(0);
  tracker.skippedTo(7);  // e.g. an aborted transaction or a control batch
  EXPECT_EQ(tracker.committable(), 7);
  deliver(tracker, {7, 8});
  tracker.skippedTo(30);
  EXPECT_EQ(tracker.committable(), 7);
  ack(tracker, {8});
  EXPECT_EQ(tracker.committable(), 7);
  ack(tracker, {7});
  EXPECT_EQ(tracker.committable(), 30);
  // Skipping backwards changes nothing, and delivery goes on from the skip.
  tracker.skippedTo(12);
  EXPECT_EQ(tracker.committable(), 30);
  EXPECT_FALSE(tracker.delivered(29).ok());
  deliver(tracker, {30});
  EXPECT_EQ(tracker.committable(), 30);
  ack(tracker, {30});
  EXPECT_EQ(tracker.committable(), 31);
}

TEST(AckTrackerTest, RepeatedAcksAreHarmless) {
  AckTracker tracker(0);
  deliver(tracker, {0, 1, 2});
  ack(tracker, {1, 1});
  EXPECT_EQ(tracker.unacked(), 2u);
  EXPECT_EQ(tracker.committable(), 0);
  ack(tracker, {0, 0});
  EXPECT_EQ(tracker.committable(), 2);
  EXPECT_EQ(tracker.unacked(), 1u);
  // 0 and 1 are below committable() now, and forgotten: still accepted.
  ack(tracker, {0, 1});
  EXPECT_EQ(tracker.committable(), 2);
  EXPECT_EQ(tracker.unacked(), 1u);
}

TEST(AckTrackerTest, AckOfAnOffsetNeverDeliveredNamesIt) {
  AckTracker tracker(10);
  deliver(tracker, {10, 11});
  for (int64_t offset : {9, 12, 1000}) expectRejected(tracker.ack(offset), offset);
  EXPECT_EQ(tracker.unacked(), 2u);
  EXPECT_EQ(tracker.committable(), 10);
  AckTracker empty(0);
  EXPECT_FALSE(empty.ack(0).ok());
}

TEST(AckTrackerTest, DeliveryGoingBackwardsIsRejectedAndChangesNothing) {
  AckTracker tracker(10);
  expectRejected(tracker.delivered(9), 9);
  deliver(tracker, {10, 12});
  for (int64_t offset : {12, 11, 3}) expectRejected(tracker.delivered(offset), offset);
  EXPECT_EQ(tracker.unacked(), 2u);
  EXPECT_FALSE(tracker.ack(11).ok());
  ack(tracker, {10, 12});
  EXPECT_EQ(tracker.committable(), 13);
  constexpr int64_t kLast = std::numeric_limits<int64_t>::max();
  expectRejected(tracker.delivered(kLast), kLast);
  EXPECT_EQ(tracker.committable(), 13);
}

// Remembers every offset ever delivered; committable() by its definition.
class ModelTracker {
 public:
  explicit ModelTracker(int64_t position) : start_(position), next_(position) {}

  bool delivered(int64_t offset) {
    if (offset < next_) return false;
    delivered_.insert(offset);
    unacked_.insert(offset);
    next_ = offset + 1;
    return true;
  }
  void skippedTo(int64_t offset) { next_ = std::max(next_, offset); }
  bool ack(int64_t offset) {
    if (delivered_.contains(offset)) {
      unacked_.erase(offset);
      return true;
    }
    // The tracker forgets what lies below committable(), so it cannot tell those apart.
    return offset >= start_ && offset < committable();
  }
  int64_t committable() const { return unacked_.empty() ? next_ : *unacked_.begin(); }
  size_t unacked() const { return unacked_.size(); }

 private:
  int64_t start_;
  int64_t next_;
  std::set<int64_t> delivered_;
  std::set<int64_t> unacked_;
};

TEST(AckTrackerTest, ForgetsOnlyTheOldestGapsBehindARecordThatStaysUnacked) {
  AckTracker tracker(0);
  deliver(tracker, {0});
  // Every other offset delivered and acked, behind offset 0, which stays unacked: one run per
  // delivered offset, more than are kept.
  const int64_t runs = static_cast<int64_t>(AckTracker::kMaxRuns) + 10;
  for (int64_t offset = 2; offset <= 2 * runs; offset += 2) {
    ASSERT_TRUE(tracker.delivered(offset).ok());
    ASSERT_TRUE(tracker.ack(offset).ok());
  }
  EXPECT_EQ(tracker.committable(), 0);
  EXPECT_EQ(tracker.unacked(), 1u);
  // The oldest gaps were merged away: an ack there counts as a repeat.
  EXPECT_TRUE(tracker.ack(1).ok());
  // Recent gaps are still known: never delivered.
  expectRejected(tracker.ack(2 * runs - 1), 2 * runs - 1);
  expectRejected(tracker.ack(2 * runs + 1), 2 * runs + 1);
  // Repeats anywhere are harmless.
  ack(tracker, {2, 2 * runs});
  ack(tracker, {0});
  EXPECT_EQ(tracker.committable(), 2 * runs + 1);
}

TEST(AckTrackerTest, AgreesWithAModelOverManyRandomOperations) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 random(seed);
    const int64_t start = std::uniform_int_distribution<int64_t>(0, 1000)(random);
    AckTracker tracker(start);
    ModelTracker model(start);
    int64_t next = start;  // where the test delivers next
    std::vector<int64_t> pending;
    int accepted_acks = 0;
    int rejected_acks = 0;
    for (int step = 0; step < 5000; ++step) {
      const int kind = std::uniform_int_distribution<int>(0, 99)(random);
      std::string what;
      if (kind < 40) {
        // Usually forward with small gaps; sometimes backwards, which both reject.
        const int64_t offset = kind < 37 ? next + std::uniform_int_distribution<int>(0, 3)(random)
                                         : next - std::uniform_int_distribution<int>(1, 5)(random);
        what = "delivered " + std::to_string(offset);
        const bool accepted = model.delivered(offset);
        ASSERT_EQ(tracker.delivered(offset).ok(), accepted) << what;
        if (accepted) {
          pending.push_back(offset);
          next = offset + 1;
        }
      } else if (kind < 43) {
        const int64_t offset = next + std::uniform_int_distribution<int>(-3, 10)(random);
        what = "skipped to " + std::to_string(offset);
        tracker.skippedTo(offset);
        model.skippedTo(offset);
        next = std::max(next, offset);
      } else if (kind < 90 && !pending.empty()) {
        // A pending offset, oldest ones more often (as apps mostly ack in order).
        const size_t bound = std::min<size_t>(pending.size(), kind < 70 ? 2 : 50);
        const size_t index = std::uniform_int_distribution<size_t>(0, bound - 1)(random);
        const int64_t offset = pending[index];
        pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(index));
        what = "acked " + std::to_string(offset);
        ASSERT_EQ(tracker.ack(offset).ok(), model.ack(offset)) << what;
      } else {
        // Anything nearby: repeats, gaps, the future, before the start.
        const int64_t offset = std::uniform_int_distribution<int64_t>(start - 3, next + 3)(random);
        what = "acked any " + std::to_string(offset);
        const bool accepted = model.ack(offset);
        ASSERT_EQ(tracker.ack(offset).ok(), accepted) << what;
        ++(accepted ? accepted_acks : rejected_acks);
        std::erase(pending, offset);
      }
      ASSERT_EQ(tracker.committable(), model.committable()) << "step " << step << ": " << what;
      ASSERT_EQ(tracker.unacked(), model.unacked()) << "step " << step << ": " << what;
    }
    // The walk went somewhere, and tried both kinds of stray ack.
    EXPECT_GT(tracker.committable(), start + 1000);
    EXPECT_GT(accepted_acks, 0);
    EXPECT_GT(rejected_acks, 0);
  }
}

}  // namespace
}  // namespace kafka::sidecar
