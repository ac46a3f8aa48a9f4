// Consumer groups of sidecar sessions, end to end: kafka-sidecar processes (the built binary, one
// session each) and a kafka-python KafkaConsumer as members of one group on mock-cluster.
//
// - Three daemons split a topic's partitions, none owned twice and none unowned. One closes its
//   session (leaves): the other two take its partitions over. One is killed (SIGKILL): the last
//   takes everything once the dead member's session has expired. Records written before and
//   after each change are all consumed, and none below a committed offset is delivered again.
// - A sidecar session and kafka-python (both range first) split the partitions; kafka-python
//   leaves and the sidecar takes over, reading from the start what kafka-python never committed.
//
// The DeliveryLedger (acking_subscriber.hpp) checks ownership and redelivery as events and
// records come; the committed offsets that kafka-python reads at the end prove that every record
// was acked. Mock timings (shared/TESTING.md): the first join waits 3 s, a later rebalance the
// session timeout less 1 s, and a dead member goes when its session times out (checked every
// second). The sidecar joins first so that it leads: on the mock a follower's SyncGroup that
// comes after the leader's fails.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/mock_cluster_process.hpp"
#include "tests/integration/python_group_member.hpp"
#include "tests/interop/acking_subscriber.hpp"
#include "tests/interop/sidecar_process.hpp"

extern char** environ;

namespace kafka::interop {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using integration::waitUntil;

constexpr int32_t kPartitions = 6;
constexpr auto kSession = 4000ms;
// A rebalance: the member learns of it by heartbeat (a third of the session), the mock waits
// the session less 1 s, and a lost SyncGroup race costs another round.
constexpr auto kRebalanceWait = 20s;
// How long consuming what was written may take once partitions are owned.
constexpr auto kConsumeWait = 20s;

// True when `members` are exactly the owners and own every partition, each some.
bool splitAmong(const DeliveryLedger& ledger, const std::set<std::string>& members) {
  std::set<int32_t> covered;
  const auto owners = ledger.owners();
  for (const auto& [member, partitions] : owners) {
    if (!members.contains(member)) return false;
    covered.insert(partitions.begin(), partitions.end());
  }
  return owners.size() == members.size() && covered == partitionRange(kPartitions);
}

std::string describeOwners(const DeliveryLedger& ledger) {
  std::ostringstream out;
  for (const auto& [member, partitions] : ledger.owners()) {
    out << member << ":";
    for (int32_t partition : partitions) out << " " << partition;
    out << "; ";
  }
  return out.str();
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "assigned t:0,t:2" -> {0, 2}; "revoked" alone -> {}. Partitions of other topics are left out.
std::vector<int32_t> partitionsInLine(const std::string& line, const std::string& topic) {
  std::vector<int32_t> out;
  std::istringstream words(line);
  std::string keyword;
  std::string list;
  words >> keyword >> list;
  std::istringstream items(list);
  for (std::string item; std::getline(items, item, ',');) {
    const size_t colon = item.rfind(':');
    if (item.substr(0, colon) == topic) out.push_back(std::stoi(item.substr(colon + 1)));
  }
  return out;
}

class SidecarGroupTest : public integration::MockClusterTest {
 protected:
  SidecarGroupTest() : MockClusterTest({.brokers = 3, .topics = {}}) {}
};

TEST_F(SidecarGroupTest, DaemonsSplitThePartitionsAndTheSurvivorsTakeOverOnLeaveAndOnKill) {
  const std::string topic = "shared";
  const std::string group = "g-daemons";
  command("topic create " + topic + " " + std::to_string(kPartitions));
  SidecarProcess a("a", bootstrap());
  SidecarProcess b("b", bootstrap());
  SidecarProcess c("c", bootstrap());
  constexpr int64_t kPerPhase = 40;
  produceNumbered(a.grpcAddress(), topic, kPartitions, 0, kPerPhase, 20);
  ASSERT_FALSE(HasFatalFailure());

  DeliveryLedger ledger(topic);
  const v1::SessionSpec spec = manualAckSpec(group, topic, kSession);
  std::map<std::string, std::unique_ptr<AckingSubscriber>> members;
  for (SidecarProcess* daemon : {&a, &b, &c}) {
    members[daemon->name()] =
        std::make_unique<AckingSubscriber>(daemon->name(), daemon->grpcAddress(), spec, ledger);
    ASSERT_TRUE(members[daemon->name()]->waitOpened(10s)) << daemon->name();
    std::this_thread::sleep_for(200ms);  // "a" joins first, and leads
  }

  auto start = Clock::now();
  ASSERT_TRUE(waitUntil(
      [&] {
        return splitAmong(ledger, {"a", "b", "c"});
      },
      kRebalanceWait))
      << describeOwners(ledger);
  std::cout << "three members split the partitions in " << secondsSince(start)
            << " s: " << describeOwners(ledger) << "\n";
  // Each call's own view (its assigned and revoked events) is the ledger's.
  for (const auto& [member, owned] : ledger.owners()) EXPECT_EQ(members[member]->owned(), owned);
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), kPerPhase); },
                        kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), kPerPhase);

  // "a" leaves: its close commits what it acked, which is everything it was given.
  const std::set<int32_t> left_behind = members["a"]->owned();
  const grpc::Status closed = members["a"]->close();
  EXPECT_TRUE(closed.ok()) << closed.error_code() << ": " << closed.error_message();
  start = Clock::now();
  const auto at_leave = committedByKafkaPython(bootstrap(), group, topic, kPartitions);
  for (int32_t partition : left_behind) EXPECT_EQ(at_leave.at(partition), kPerPhase) << partition;
  for (const auto& [partition, offset] : at_leave) ledger.committed(partition, offset);
  produceNumbered(a.grpcAddress(), topic, kPartitions, kPerPhase, 2 * kPerPhase, 20);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(waitUntil(
      [&] {
        return splitAmong(ledger, {"b", "c"});
      },
      kRebalanceWait))
      << describeOwners(ledger);
  std::cout << "two members took over after a leave in " << secondsSince(start)
            << " s: " << describeOwners(ledger) << "\n";
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), 2 * kPerPhase); },
                        kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), 2 * kPerPhase);

  // "b" dies: its partitions stay with it until its session times out.
  const std::set<int32_t> orphaned = members["b"]->owned();
  ASSERT_FALSE(orphaned.empty());
  b.kill();
  start = Clock::now();
  ledger.forget("b");
  EXPECT_TRUE(waitUntil([&] { return members["b"]->ended(); }, 5s));
  const auto at_kill = committedByKafkaPython(bootstrap(), group, topic, kPartitions);
  for (const auto& [partition, offset] : at_kill) ledger.committed(partition, offset);
  produceNumbered(c.grpcAddress(), topic, kPartitions, 2 * kPerPhase, 3 * kPerPhase, 20);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(waitUntil([&] { return splitAmong(ledger, {"c"}); }, kSession + kRebalanceWait))
      << describeOwners(ledger);
  const double takeover = secondsSince(start);
  std::cout << "the last member took over after a kill in " << takeover << " s\n";
  // Not before the dead member's session could have timed out: its last heartbeat was at most
  // a third of the session before the kill.
  EXPECT_GE(takeover, std::chrono::duration<double>(kSession).count() * 2 / 3);
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), 3 * kPerPhase); },
                        kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), 3 * kPerPhase);

  const grpc::Status last = members["c"]->close();
  EXPECT_TRUE(last.ok()) << last.error_code() << ": " << last.error_message();
  expectNoViolations(ledger);
  expectAllCommittedAt(bootstrap(), group, topic, kPartitions, 3 * kPerPhase);
  std::cout << ledger.totalDeliveries() << " deliveries of " << 3 * kPerPhase * kPartitions
            << " records, " << ledger.duplicates().size() << " delivered more than once\n";
  EXPECT_EQ(a.stop(), std::optional<int>(0));
  EXPECT_EQ(c.stop(), std::optional<int>(0));
}

TEST_F(SidecarGroupTest, ASidecarSessionAndKafkaPythonSplitAGroupAndTheSidecarTakesOver) {
  const std::string topic = "mixed";
  const std::string group = "g-mixed";
  command("topic create " + topic + " " + std::to_string(kPartitions));
  SidecarProcess sidecar("sidecar", bootstrap());
  constexpr int64_t kRecords = 30;
  produceNumbered(sidecar.grpcAddress(), topic, kPartitions, 0, kRecords, kRecords);
  ASSERT_FALSE(HasFatalFailure());

  DeliveryLedger ledger(topic);
  v1::SessionSpec spec = manualAckSpec(group, topic, kSession);
  AckingSubscriber ours("sidecar", sidecar.grpcAddress(), spec, ledger);
  ASSERT_TRUE(ours.waitOpened(10s));
  std::this_thread::sleep_for(300ms);  // ours joins first, and leads
  integration::PythonGroupMember peer(
      {bootstrap(), group, topic, std::to_string(kSession.count()), "500"});
  ASSERT_TRUE(peer.started());
  // kafka-python reports its whole assignment after each rebalance, and what it gives up before
  // it rejoins; the ledger checks it against the sidecar session's events.
  auto readPeer = [&] {
    while (auto text = peer.line(1ms)) {
      if (text->starts_with("revoked"))
        ledger.released("kafka-python", partitionsInLine(*text, topic));
      if (text->starts_with("assigned"))
        ledger.assigned("kafka-python", partitionsInLine(*text, topic));
      // Leaving, it reports no revocation: it owns nothing once closed.
      if (*text == "closed") ledger.forget("kafka-python");
    }
  };
  ASSERT_TRUE(waitUntil(
      [&] {
        readPeer();
        return splitAmong(ledger, {"sidecar", "kafka-python"});
      },
      2 * kRebalanceWait))
      << describeOwners(ledger);
  const std::set<int32_t> mine = ours.owned();
  EXPECT_EQ(ledger.owners()["sidecar"], mine);
  std::cout << "split: " << describeOwners(ledger) << "\n";
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(mine, kRecords); }, kConsumeWait))
      << ledger.missing(mine, kRecords);

  // kafka-python leaves (without committing anything): the sidecar takes its partitions and
  // reads them from the start.
  ASSERT_TRUE(peer.send("quit"));
  ASSERT_TRUE(waitUntil(
      [&] {
        readPeer();
        return splitAmong(ledger, {"sidecar"});
      },
      kRebalanceWait))
      << describeOwners(ledger);
  EXPECT_EQ(ours.owned(), partitionRange(kPartitions));
  ASSERT_TRUE(waitUntil([&] { return ledger.complete(partitionRange(kPartitions), kRecords); },
                        kConsumeWait))
      << ledger.missing(partitionRange(kPartitions), kRecords);
  const grpc::Status closed = ours.close();
  EXPECT_TRUE(closed.ok()) << closed.error_code() << ": " << closed.error_message();
  expectNoViolations(ledger);
  expectAllCommittedAt(bootstrap(), group, topic, kPartitions, kRecords);
  EXPECT_EQ(sidecar.stop(), std::optional<int>(0));
}

}  // namespace
}  // namespace kafka::interop
