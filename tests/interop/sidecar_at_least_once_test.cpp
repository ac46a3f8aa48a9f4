// At-least-once consumption through the sidecar, end to end: N records in each of 6 partitions
// are consumed by a kafka-sidecar process (the built binary) with manual acks, sent in shuffled
// order at a set pace, while
//   (a) the application's stream is cut, several times, with records delivered and not acked;
//   (b) the daemon is killed (SIGKILL) mid-way, and a new one takes the group over;
//   (c) brokers go down and come back: a partition leader, then the group coordinator.
// Each test proves: every record was delivered; every record was acked, since the offsets
// committed in the end (read by kafka-python) are N everywhere, and a commit never passes an
// unacked record; and records were delivered again only at or above the committed offset of
// their partition (the DeliveryLedger of acking_subscriber.hpp checks this as they come).
//
// Each test has its own mock-cluster (3 brokers) and its own daemon(s). Sessions use a 4 s
// session timeout: on the mock the first join waits 3 s, a later rebalance the session timeout
// less 1 s, and a dead member goes when its session times out (checked every second).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/mock_cluster_process.hpp"
#include "tests/interop/acking_subscriber.hpp"
#include "tests/interop/sidecar_process.hpp"

namespace kafka::interop {
namespace {

using namespace std::chrono_literals;
using integration::waitUntil;

constexpr int32_t kPartitions = 6;
constexpr auto kSession = 4000ms;
// The first join, with room for a lost SyncGroup race.
constexpr auto kJoinWait = 15s;
constexpr auto kConsumeWait = 40s;

class SidecarAtLeastOnceTest : public integration::MockClusterTest {
 protected:
  SidecarAtLeastOnceTest() : MockClusterTest({.brokers = 3, .topics = {}}) {}

  static size_t total(int64_t records) { return static_cast<size_t>(records) * kPartitions; }

  // Waits until the ledger holds at least `count` deliveries.
  static bool waitDeliveries(const DeliveryLedger& ledger, size_t count) {
    return waitUntil([&] { return ledger.totalDeliveries() >= count; }, kConsumeWait);
  }

  static void report(const char* test, const DeliveryLedger& ledger, int64_t records) {
    std::cout << test << ": " << ledger.totalDeliveries() << " deliveries of " << total(records)
              << " records, " << ledger.duplicates().size() << " delivered more than once\n";
  }
};

// (a) The session outlives its calls: a call cut with records unacked hands exactly those to the
// next call, which attaches without a rebalance. The acks sent before each cut are applied (a
// commit answered before the cut proves it), so nothing acked is delivered again.
TEST_F(SidecarAtLeastOnceTest, ACutStreamRedeliversExactlyWhatWasNotAcked) {
  const std::string topic = "cut";
  const std::string group = "g-cut";
  constexpr int64_t kRecords = 100;
  command("topic create " + topic + " " + std::to_string(kPartitions));
  SidecarProcess daemon("cut", bootstrap());
  // Batches of 25 records per partition and at most 20 unacked per call: a cut lands inside a
  // batch.
  produceNumbered(daemon.grpcAddress(), topic, kPartitions, 0, kRecords, 25);
  ASSERT_FALSE(HasFatalFailure());

  DeliveryLedger ledger(topic);
  v1::SessionSpec spec = manualAckSpec(group, topic, kSession);
  spec.set_auto_commit_interval_ms(600'000);  // the only commits are the test's
  std::set<RecordPosition> held_at_cuts;
  constexpr int kCuts = 3;
  for (int cut = 0; cut < kCuts; ++cut) {
    AckingSubscriber call("session", daemon.grpcAddress(), spec, ledger, 400);
    const auto opened = call.waitOpened(10s);
    ASSERT_TRUE(opened);
    EXPECT_EQ(opened->attached(), cut > 0);
    ASSERT_TRUE(waitDeliveries(ledger, total(kRecords) * (cut + 1) / (kCuts + 1)))
        << ledger.missing(partitionRange(kPartitions), kRecords);
    EXPECT_EQ(call.owned(), partitionRange(kPartitions));  // told on attach, too
    call.holdAcks();
    ASSERT_TRUE(waitUntil([&] { return call.unacked().size() >= 5; }, 10s));
    ASSERT_TRUE(call.commit(10s)) << "no commit event";
    const std::set<RecordPosition> held = call.unacked();
    held_at_cuts.insert(held.begin(), held.end());
    call.cut();
  }
  AckingSubscriber last("session", daemon.grpcAddress(), spec, ledger);
  ASSERT_TRUE(last.waitOpened(10s));
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), kRecords); },
                        kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), kRecords);
  const grpc::Status closed = last.close();
  EXPECT_TRUE(closed.ok()) << closed.error_code() << ": " << closed.error_message();

  expectNoViolations(ledger);
  std::set<RecordPosition> duplicated;
  for (const auto& [position, times] : ledger.duplicates()) duplicated.insert(position);
  EXPECT_EQ(duplicated, held_at_cuts);
  EXPECT_FALSE(held_at_cuts.empty());
  expectAllCommittedAt(bootstrap(), group, topic, kPartitions, kRecords);
  report("cut", ledger, kRecords);
  EXPECT_EQ(daemon.stop(), std::optional<int>(0));
}

// (b) The daemon is killed with acks held back and acked records not yet committed. A new daemon
// joins the group at once, and gets the partitions when the dead member's session times out; it
// starts from the committed offsets that kafka-python reads after the kill.
TEST_F(SidecarAtLeastOnceTest, ADaemonKilledMidwayLosesNothingAndRepeatsOnlyUncommitted) {
  const std::string topic = "killed";
  const std::string group = "g-killed";
  constexpr int64_t kRecords = 120;
  command("topic create " + topic + " " + std::to_string(kPartitions));
  auto first = std::make_unique<SidecarProcess>("first", bootstrap());
  produceNumbered(first->grpcAddress(), topic, kPartitions, 0, kRecords, 20);
  ASSERT_FALSE(HasFatalFailure());

  DeliveryLedger ledger(topic);
  const v1::SessionSpec spec = manualAckSpec(group, topic, kSession);  // commits every 300 ms
  auto doomed =
      std::make_unique<AckingSubscriber>("first", first->grpcAddress(), spec, ledger, 300);
  ASSERT_TRUE(doomed->waitOpened(10s));
  ASSERT_TRUE(waitUntil([&] { return doomed->owned() == partitionRange(kPartitions); }, kJoinWait));
  ASSERT_TRUE(waitDeliveries(ledger, total(kRecords) * 2 / 5));
  doomed->holdAcks();
  ASSERT_TRUE(waitUntil([&] { return doomed->unacked().size() >= 5; }, 10s));
  const std::set<RecordPosition> held = doomed->unacked();
  first->kill();
  ledger.forget("first");
  EXPECT_TRUE(waitUntil([&] { return doomed->ended(); }, 5s));
  doomed.reset();

  // Nothing commits for the group until a new member owns the partitions.
  const auto at_kill = committedByKafkaPython(bootstrap(), group, topic, kPartitions);
  ASSERT_EQ(at_kill.size(), static_cast<size_t>(kPartitions));
  int64_t committed_records = 0;
  for (const auto& [partition, offset] : at_kill) {
    ledger.committed(partition, offset);
    committed_records += std::max<int64_t>(offset, 0);
  }
  // Killed mid-way: some was committed, not everything.
  EXPECT_GT(committed_records, 0);
  EXPECT_LT(committed_records, static_cast<int64_t>(total(kRecords)));

  SidecarProcess second("second", bootstrap());
  AckingSubscriber successor("second", second.grpcAddress(), spec, ledger);
  ASSERT_TRUE(successor.waitOpened(10s));
  ASSERT_TRUE(waitUntil([&] { return successor.owned() == partitionRange(kPartitions); },
                        2 * kSession + kJoinWait));
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), kRecords); },
                        kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), kRecords);
  const grpc::Status closed = successor.close();
  EXPECT_TRUE(closed.ok()) << closed.error_code() << ": " << closed.error_message();

  expectNoViolations(ledger);
  // What the dead daemon held unacked comes again; whatever comes again is at or above what was
  // committed when it died.
  for (const RecordPosition& position : held) {
    EXPECT_GE(ledger.deliveries(position.first, position.second), 2)
        << "partition " << position.first << " offset " << position.second;
  }
  for (const auto& [position, times] : ledger.duplicates()) {
    EXPECT_GE(position.second, at_kill.at(position.first))
        << "partition " << position.first << " offset " << position.second;
  }
  expectAllCommittedAt(bootstrap(), group, topic, kPartitions, kRecords);
  report("killed", ledger, kRecords);
  EXPECT_EQ(second.stop(), std::optional<int>(0));
}

// (c) Broker 1 leads partitions 0 and 1 and goes down for a while; then broker 3, the group's
// coordinator and leader of partitions 4 and 5, for less than the session timeout. The other
// partitions keep flowing meanwhile, and nothing is lost. Commits fail while the coordinator is
// down, and the member may even lose its partitions: reconnects back off exponentially (up to
// 10 s), so the first heartbeat after the outage can come later than the session allows. Then
// the session joins again and the records acked but not committed come again, at or above the
// committed offsets. Either way the test waits until its commit events reach the end.
TEST_F(SidecarAtLeastOnceTest, BrokersGoingDownAndComingBackLoseNothing) {
  const std::string topic = "outage";
  const std::string group = "g-outage";
  constexpr int64_t kRecords = 150;
  command("topic create " + topic + " " + std::to_string(kPartitions));
  for (int32_t partition = 0; partition < kPartitions; ++partition) {
    command("leader " + topic + " " + std::to_string(partition) + " " +
            std::to_string(1 + partition / 2));
  }
  command("coordinator group " + group + " 3");
  SidecarProcess daemon("outage", bootstrap());
  produceNumbered(daemon.grpcAddress(), topic, kPartitions, 0, kRecords, 25);
  ASSERT_FALSE(HasFatalFailure());

  DeliveryLedger ledger(topic);
  const v1::SessionSpec spec = manualAckSpec(group, topic, kSession);
  AckingSubscriber call("session", daemon.grpcAddress(), spec, ledger, 150);
  ASSERT_TRUE(call.waitOpened(10s));
  ASSERT_TRUE(waitUntil([&] { return call.owned() == partitionRange(kPartitions); }, kJoinWait));

  // An outage of `broker` for `length`; the deliveries meanwhile.
  auto outage = [&](int broker, std::chrono::milliseconds length) {
    command("broker down " + std::to_string(broker));
    const size_t before = ledger.totalDeliveries();
    std::this_thread::sleep_for(length);
    const size_t during = ledger.totalDeliveries() - before;
    command("broker up " + std::to_string(broker));
    return during;
  };
  ASSERT_TRUE(waitDeliveries(ledger, total(kRecords) / 5));
  EXPECT_GT(outage(1, 2500ms), 0u) << "nothing was delivered while broker 1 was down";
  ASSERT_TRUE(waitDeliveries(ledger, total(kRecords) / 2));
  EXPECT_GT(outage(3, 2000ms), 0u) << "nothing was delivered while broker 3 was down";
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), kRecords); },
                        kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), kRecords);
  ASSERT_TRUE(waitUntil([&] { return ledger.committedAt(partitionRange(kPartitions), kRecords); },
                        kJoinWait))
      << "the commits did not reach the end";
  const grpc::Status closed = call.close();
  EXPECT_TRUE(closed.ok()) << closed.error_code() << ": " << closed.error_message();

  expectNoViolations(ledger);
  expectAllCommittedAt(bootstrap(), group, topic, kPartitions, kRecords);
  std::cout << "the member " << (call.lostPartitions() ? "lost" : "kept") << " its partitions; "
            << call.errors().size() << " error events\n";
  report("outage", ledger, kRecords);
  EXPECT_EQ(daemon.stop(), std::optional<int>(0));
}

}  // namespace
}  // namespace kafka::interop
