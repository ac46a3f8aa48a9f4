// Cluster metadata against the mock-cluster tool: bootstrap, refresh, brokers that go down and
// come back, injected errors and leader moves.
#include "client_core/cluster/cluster.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <future>

#include "client_core/net/host_port.hpp"
#include "tests/integration/io_threads.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka {
namespace {

using namespace std::chrono_literals;
using integration::waitUntil;

class ClusterTest : public integration::MockClusterTest {
 protected:
  ClusterTest()
      : MockClusterTest({.brokers = 3, .topics = {{"orders", 4}}}) {}
  ~ClusterTest() override {
    if (cluster_) cluster_->stop();
  }

  void SetUp() override {
    MockClusterTest::SetUp();
    ClusterConfig config = clusterConfig();
    config.connection.version_caps[protocol::ApiKey::kListOffsets] = 3;
    cluster_ = std::make_shared<Cluster>(io_.executor(), config);
  }

  Result<MetadataPtr> refresh(std::vector<std::string> topics = {}) {
    std::promise<Result<MetadataPtr>> promise;
    auto future = promise.get_future();
    cluster_->refreshMetadata(std::move(topics), [&promise](Result<MetadataPtr> r) {
      promise.set_value(std::move(r));
    });
    EXPECT_EQ(future.wait_for(20s), std::future_status::ready);
    return future.get();
  }


  integration::IoThreads io_;
  std::shared_ptr<Cluster> cluster_;
};

TEST_F(ClusterTest, BootstrapsAndBecomesReadyWithBrokersAndTopics) {
  EXPECT_FALSE(cluster_->ready());
  cluster_->start();
  ASSERT_TRUE(waitUntil([&] { return cluster_->ready(); }));
  MetadataPtr metadata = cluster_->metadata();
  ASSERT_NE(metadata, nullptr);
  EXPECT_EQ(metadata->brokers.size(), 3u);
  for (const auto& [id, broker] : metadata->brokers) {
    EXPECT_EQ(broker.host, "127.0.0.1");
    EXPECT_GT(broker.port, 0);
  }
  const TopicInfo* orders = metadata->topic("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->error, ErrorCode::kNone);
  ASSERT_EQ(orders->partitions.size(), 4u);
  for (size_t i = 0; i < orders->partitions.size(); ++i) {
    const PartitionInfo& p = orders->partitions[i];
    EXPECT_EQ(p.partition, static_cast<int32_t>(i));
    EXPECT_TRUE(metadata->brokers.contains(p.leader)) << "partition " << i;
    EXPECT_EQ(p.replicas.size(), 3u);
  }
}

TEST_F(ClusterTest, NegotiatesWithTheMockDownToWhatItServes) {
  auto result = refresh();
  ASSERT_TRUE(result.ok()) << result.error().toString();
  auto again = refresh();  // now through a known broker rather than a bootstrap server
  ASSERT_TRUE(again.ok());
  // The mock answers ApiVersions v3+ with UNSUPPORTED_VERSION and serves Metadata v0-2 only.
  bool found = false;
  for (const auto& [id, broker] : (*again)->brokers) {
    auto c = cluster_->connection(id, ConnectionPurpose::kControl);
    if (c && c->state() == net::BrokerConnection::State::kUp) {
      EXPECT_EQ(c->negotiatedVersion(protocol::ApiKey::kMetadata), 2);
      EXPECT_EQ(c->negotiatedVersion(protocol::ApiKey::kListOffsets), 3);  // our cap
      EXPECT_EQ(c->negotiatedVersion(protocol::ApiKey::kCreateTopics), std::nullopt);
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ClusterTest, KeepsAnsweringWhileBrokersAreDownAndRecovers) {
  ASSERT_TRUE(refresh().ok());
  command("broker down 1");
  command("broker down 2");
  for (int i = 0; i < 3; ++i) {
    auto result = refresh();
    ASSERT_TRUE(result.ok()) << "refresh " << i << ": " << result.error().toString();
    EXPECT_EQ((*result)->brokers.size(), 3u);
  }
  command("broker down 3");
  auto none = refresh();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kNoBrokerAvailable);
  EXPECT_NE(none.error().message.find("no broker answered Metadata"), std::string::npos);
  command("broker up 1");
  command("broker up 2");
  command("broker up 3");
  ASSERT_TRUE(waitUntil([&] { return refresh().ok(); }));
}

TEST_F(ClusterTest, ADroppedRequestFailsOverToAnotherBroker) {
  ASSERT_TRUE(refresh().ok());
  command("errors Metadata _TRANSPORT");
  auto result = refresh();
  ASSERT_TRUE(result.ok()) << result.error().toString();
  EXPECT_NE((*result)->topic("orders"), nullptr);
}

TEST_F(ClusterTest, LeaderMovesAreSeenOnRefresh) {
  ASSERT_TRUE(refresh().ok());
  command("leader orders 0 3");
  command("leader orders 1 2");
  auto result = refresh();
  ASSERT_TRUE(result.ok());
  const TopicInfo* orders = (*result)->topic("orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->partitions[0].leader, 3);
  EXPECT_EQ(orders->partitions[1].leader, 2);
}

TEST_F(ClusterTest, LeaderlessPartitionsAreLookedAtAgainSoon) {
  cluster_->start();  // the refresh interval is 5 minutes: only the fast path can be seen here
  ASSERT_TRUE(waitUntil([&] { return cluster_->ready(); }));
  command("leader orders 2 -1");
  ASSERT_TRUE(refresh().ok());
  ASSERT_EQ(cluster_->metadata()->topic("orders")->partitions[2].leader, kNoNode);
  command("leader orders 2 3");
  EXPECT_TRUE(waitUntil([&] {
    return cluster_->metadata()->topic("orders")->partitions[2].leader == 3;
  })) << "the new leader was not picked up without an explicit refresh";
}

TEST_F(ClusterTest, PartialRefreshKeepsTheOtherTopics) {
  ASSERT_TRUE(refresh().ok());
  command("topic create payments 2");
  auto result = refresh({"payments"});
  ASSERT_TRUE(result.ok());
  ASSERT_NE((*result)->topic("payments"), nullptr);
  EXPECT_EQ((*result)->topic("payments")->partitions.size(), 2u);
  EXPECT_NE((*result)->topic("orders"), nullptr);
}

TEST_F(ClusterTest, StopFailsLaterRefreshes) {
  cluster_->start();
  ASSERT_TRUE(waitUntil([&] { return cluster_->ready(); }));
  cluster_->stop();
  auto result = refresh();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kShuttingDown);
}

TEST(ClusterRegistryTest, FindsClustersByNameAndDefault) {
  boost::asio::io_context io;
  ClusterConfig a;
  a.name = "default";
  a.bootstrap_servers = {"127.0.0.1:1"};
  ClusterConfig b;
  b.name = "analytics";
  b.bootstrap_servers = {"127.0.0.1:2"};
  ClusterRegistry registry(io.get_executor(), {a, b});
  EXPECT_EQ(registry.find("")->name(), "default");
  EXPECT_EQ(registry.find("analytics")->name(), "analytics");
  EXPECT_EQ(registry.find("nope"), nullptr);
  EXPECT_EQ(registry.all().size(), 2u);
  EXPECT_FALSE(registry.allReady());
}

}  // namespace
}  // namespace kafka
