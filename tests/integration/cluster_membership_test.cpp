// Cluster behaviour the mock cannot show: brokers leaving the metadata, and bootstrap servers
// that do not answer. Uses two scripted FakeBrokers.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <thread>

#include "client_core/cluster/cluster.hpp"
#include "tests/integration/fake_broker.hpp"
#include "tests/integration/io_threads.hpp"

namespace kafka {
namespace {

using namespace std::chrono_literals;
using testing::FakeBroker;
using Reply = FakeBroker::Reply;

class ClusterMembershipTest : public ::testing::Test {
 protected:
  ClusterMembershipTest() = default;
  ~ClusterMembershipTest() override {
    if (cluster_) cluster_->stop();
  }

  Result<MetadataPtr> refresh() {
    std::promise<Result<MetadataPtr>> promise;
    auto future = promise.get_future();
    cluster_->refreshMetadata({}, [&promise](Result<MetadataPtr> r) {
      promise.set_value(std::move(r));
    });
    EXPECT_EQ(future.wait_for(20s), std::future_status::ready);
    return future.get();
  }

  integration::IoThreads io_;
  std::shared_ptr<Cluster> cluster_;
};

// Answers ApiVersions, and Metadata with the brokers `members` lists at the time.
FakeBroker::Script answering(std::mutex& mutex, protocol::MetadataResponse& members) {
  return [&](const FakeBroker::Request& r) {
    if (r.header.api_key == protocol::ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    std::lock_guard lock(mutex);
    return Reply::with<protocol::MetadataApi>(r, members);
  };
}

TEST_F(ClusterMembershipTest, ABrokerThatLeavesTakesItsConnectionsWithIt) {
  std::mutex mutex;
  protocol::MetadataResponse members;
  FakeBroker first(answering(mutex, members));
  FakeBroker second(answering(mutex, members));
  {
    std::lock_guard lock(mutex);
    members.brokers = {{1, "127.0.0.1", first.port(), std::nullopt, {}},
                       {2, "127.0.0.1", second.port(), std::nullopt, {}}};
  }
  ClusterConfig config;
  config.bootstrap_servers = {"127.0.0.1:" + std::to_string(first.port())};
  cluster_ = std::make_shared<Cluster>(io_.executor(), config);
  auto before = refresh();
  ASSERT_TRUE(before.ok()) << before.error().toString();
  EXPECT_EQ((*before)->brokers.size(), 2u);

  auto to_second = cluster_->connection(2, ConnectionPurpose::kFetch);
  ASSERT_NE(to_second, nullptr);
  EXPECT_EQ(to_second->port(), second.port());

  {
    std::lock_guard lock(mutex);
    members.brokers.pop_back();
  }
  auto after = refresh();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->brokers.size(), 1u);
  EXPECT_EQ(cluster_->connection(2, ConnectionPurpose::kFetch), nullptr);
  // The retired connection is closed: whoever still holds it gets a clear error.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (to_second->state() != net::BrokerConnection::State::kClosed &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(to_second->state(), net::BrokerConnection::State::kClosed);
}

TEST_F(ClusterMembershipTest, ConcurrentFullRefreshesShareOneRequest) {
  std::mutex mutex;
  std::condition_variable released;
  bool release = false;
  int metadata_requests = 0;
  protocol::MetadataResponse members;
  FakeBroker broker([&](const FakeBroker::Request& r) {
    if (r.header.api_key == protocol::ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    std::unique_lock lock(mutex);
    ++metadata_requests;
    released.wait_for(lock, 10s, [&] { return release; });  // held until every call is made
    return Reply::with<protocol::MetadataApi>(r, members);
  });
  members.brokers = {{1, "127.0.0.1", broker.port(), std::nullopt, {}}};
  ClusterConfig config;
  config.bootstrap_servers = {"127.0.0.1:" + std::to_string(broker.port())};
  cluster_ = std::make_shared<Cluster>(io_.executor(), config);

  constexpr int kCalls = 20;
  std::vector<std::promise<Result<MetadataPtr>>> promises(kCalls);
  for (auto& promise : promises) {
    cluster_->refreshMetadata({}, [&promise](Result<MetadataPtr> r) {
      promise.set_value(std::move(r));
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard lock(mutex);
      if (metadata_requests > 0) break;
    }
    std::this_thread::sleep_for(1ms);
  }
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  released.notify_all();
  MetadataPtr first;
  for (auto& promise : promises) {
    auto future = promise.get_future();
    ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
    auto result = future.get();
    ASSERT_TRUE(result.ok()) << result.error().toString();
    if (!first) first = *result;
    EXPECT_EQ(*result, first) << "every caller gets the same snapshot";
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(metadata_requests, 1);
}

TEST_F(ClusterMembershipTest, DeadBootstrapServersAreSkipped) {
  std::mutex mutex;
  protocol::MetadataResponse members;
  FakeBroker alive(answering(mutex, members));
  members.brokers = {{7, "127.0.0.1", alive.port(), std::nullopt, {}}};
  uint16_t dead_port;
  {
    FakeBroker gone([](const FakeBroker::Request&) { return Reply::close(); });
    dead_port = gone.port();
  }
  ClusterConfig config;
  config.bootstrap_servers = {"127.0.0.1:" + std::to_string(dead_port),
                              "127.0.0.1:" + std::to_string(alive.port())};
  cluster_ = std::make_shared<Cluster>(io_.executor(), config);
  auto result = refresh();
  ASSERT_TRUE(result.ok()) << result.error().toString();
  EXPECT_NE((*result)->broker(7), nullptr);
}

TEST_F(ClusterMembershipTest, NoAnsweringBrokerIsAClearError) {
  uint16_t dead_port;
  {
    FakeBroker gone([](const FakeBroker::Request&) { return Reply::close(); });
    dead_port = gone.port();
  }
  ClusterConfig config;
  config.name = "payments";
  config.bootstrap_servers = {"127.0.0.1:" + std::to_string(dead_port)};
  cluster_ = std::make_shared<Cluster>(io_.executor(), config);
  auto result = refresh();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNoBrokerAvailable);
  EXPECT_NE(result.error().message.find("payments: no broker answered Metadata"),
            std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("connect failed"), std::string::npos);
  EXPECT_FALSE(cluster_->ready());
}

}  // namespace
}  // namespace kafka
