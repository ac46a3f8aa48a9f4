// The client core's ConnectionObserver plumbing, with a fake observer that records what it is
// told: a Cluster on a mock cluster attaches one events object per connection, naming cluster
// and broker, and reports connects, failed attempts, disconnects, and each request's outcome
// with in-flight accounting that balances.
#include "client_core/net/connection_observer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "tests/server/test_support.hpp"
#include "tools/mock_cluster/mock_cluster.hpp"

namespace kafka {
namespace {

using sidecar::testing::waitUntil;

// What every connection of a cluster reported, summed, by broker.
struct Recorded {
  std::map<std::string, int> attached;
  std::map<std::string, int> connected;
  std::map<std::string, int> disconnected;
  std::map<std::string, int> failed;
  int sent = 0;
  int done_in_flight = 0;
  std::map<std::string, int> answered;    // by API name
  std::map<std::string, int> unanswered;  // by API name
  bool positive_seconds = true;           // every answered request took some time
  std::vector<std::string> clusters;
};

class FakeObserver final : public net::ConnectionObserver {
 public:
  std::unique_ptr<net::ConnectionEvents> attach(const std::string& cluster,
                                                const std::string& broker) override {
    std::lock_guard lock(mutex_);
    ++recorded_.attached[broker];
    recorded_.clusters.push_back(cluster);
    return std::make_unique<Events>(*this, broker);
  }

  Recorded snapshot() const {
    std::lock_guard lock(mutex_);
    return recorded_;
  }

 private:
  class Events final : public net::ConnectionEvents {
   public:
    Events(FakeObserver& owner, std::string broker) : owner_(owner), broker_(std::move(broker)) {}
    void onConnected() override {
      record([&](Recorded& r) { ++r.connected[broker_]; });
    }
    void onDisconnected() override {
      record([&](Recorded& r) { ++r.disconnected[broker_]; });
    }
    void onConnectFailed() override {
      record([&](Recorded& r) { ++r.failed[broker_]; });
    }
    void onRequestSent(protocol::ApiKey) override {
      record([](Recorded& r) { ++r.sent; });
    }
    void onRequestDone(protocol::ApiKey, std::string_view api_name, bool in_flight, bool answered,
                       double seconds) override {
      record([&](Recorded& r) {
        if (in_flight) ++r.done_in_flight;
        if (answered) {
          ++r.answered[std::string(api_name)];
          if (seconds <= 0) r.positive_seconds = false;
        } else {
          ++r.unanswered[std::string(api_name)];
        }
      });
    }

   private:
    template <class F>
    void record(F&& change) {
      std::lock_guard lock(owner_.mutex_);
      change(owner_.recorded_);
    }
    FakeObserver& owner_;
    const std::string broker_;
  };

  mutable std::mutex mutex_;
  Recorded recorded_;
};

class ConnectionObserverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    if (cluster_) cluster_->stop();
    work_.reset();
    thread_.join();
  }

  std::shared_ptr<Cluster> makeCluster(const std::string& bootstrap) {
    ClusterConfig config;
    config.name = "observed";
    config.bootstrap_servers = {bootstrap};
    config.connection.reconnect_backoff = std::chrono::milliseconds(10);
    config.connection.reconnect_backoff_max = std::chrono::milliseconds(50);
    config.observer = observer_;
    cluster_ = std::make_shared<Cluster>(io_.get_executor(), std::move(config));
    return cluster_;
  }

  Result<MetadataPtr> refresh() {
    std::promise<Result<MetadataPtr>> answer;
    cluster_->refreshMetadata(
        {}, [&](Result<MetadataPtr> result) { answer.set_value(std::move(result)); });
    return answer.get_future().get();
  }

  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_{
      io_.get_executor()};
  std::thread thread_;
  std::shared_ptr<FakeObserver> observer_ = std::make_shared<FakeObserver>();
  std::shared_ptr<Cluster> cluster_;
};

TEST_F(ConnectionObserverTest, ReportsConnectionsAndRequestsOfEachBroker) {
  mock::MockCluster mock(2);
  makeCluster(mock.bootstraps().substr(0, mock.bootstraps().find(',')));
  ASSERT_TRUE(refresh().ok());
  // A request to each broker by id, over its control connection.
  for (NodeId node : {1, 2}) {
    auto connection = cluster_->connection(node, ConnectionPurpose::kControl);
    ASSERT_TRUE(connection);
    std::promise<bool> answered;
    connection->request<protocol::MetadataApi>(
        protocol::MetadataRequest{},
        [&](Result<protocol::MetadataResponse> response) { answered.set_value(response.ok()); });
    ASSERT_TRUE(answered.get_future().get());
  }

  Recorded now = observer_->snapshot();
  EXPECT_EQ(now.attached["bootstrap"], 1);
  EXPECT_EQ(now.attached["1"], 1);
  EXPECT_EQ(now.attached["2"], 1);
  for (const std::string& cluster : now.clusters) EXPECT_EQ(cluster, "observed");
  EXPECT_EQ(now.connected["bootstrap"], 1);
  EXPECT_EQ(now.connected["1"], 1);
  EXPECT_EQ(now.connected["2"], 1);
  EXPECT_GE(now.answered["Metadata"], 3);  // the refresh, and one per broker
  EXPECT_TRUE(now.positive_seconds);
  EXPECT_TRUE(now.unanswered.empty());
  EXPECT_EQ(now.sent, now.done_in_flight);  // nothing is in flight any more
  EXPECT_TRUE(now.failed.empty());
  EXPECT_TRUE(now.disconnected.empty());

  // Broker 2 goes down: its connection drops, a request to it fails without an answer, and
  // the attempts to reconnect fail.
  ASSERT_EQ(mock.execute("broker down 2"), "ok");
  EXPECT_TRUE(waitUntil([&] { return observer_->snapshot().disconnected["2"] == 1; }));
  auto connection = cluster_->connection(2, ConnectionPurpose::kControl);
  ASSERT_TRUE(connection);
  std::promise<bool> failed;
  protocol::MetadataRequest request;
  connection->request<protocol::MetadataApi>(
      std::move(request),
      [&](Result<protocol::MetadataResponse> response) { failed.set_value(!response.ok()); });
  EXPECT_TRUE(failed.get_future().get());
  now = observer_->snapshot();
  EXPECT_GE(now.failed["2"], 1);
  EXPECT_GE(now.unanswered["Metadata"], 1);
  EXPECT_EQ(now.sent, now.done_in_flight);

  // Back up: the next request reconnects.
  ASSERT_EQ(mock.execute("broker up 2"), "ok");
  EXPECT_TRUE(waitUntil([&] {
    std::promise<bool> answered;
    connection->request<protocol::MetadataApi>(
        protocol::MetadataRequest{},
        [&](Result<protocol::MetadataResponse> response) { answered.set_value(response.ok()); });
    return answered.get_future().get();
  }));
  EXPECT_EQ(observer_->snapshot().connected["2"], 2);
}

TEST_F(ConnectionObserverTest, NoObserverIsTheDefault) {
  EXPECT_EQ(ClusterConfig{}.observer, nullptr);
}

}  // namespace
}  // namespace kafka
