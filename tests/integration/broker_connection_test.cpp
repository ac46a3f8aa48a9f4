// BrokerConnection against the scripted FakeBroker: negotiation, fallbacks, pipelining bounds,
// timeouts, hostile frames and reconnects.
#include "client_core/net/broker_connection.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <set>
#include <thread>

#include "tests/integration/fake_broker.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::net {
namespace {

using protocol::ApiKey;
using testing::FakeBroker;
using Reply = FakeBroker::Reply;

class BrokerConnectionTest : public ::testing::Test {
 protected:
  BrokerConnectionTest() : work_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~BrokerConnectionTest() override {
    work_.reset();
    io_.stop();
    thread_.join();
  }

  std::shared_ptr<BrokerConnection> connect(uint16_t port, ConnectionConfig config = {}) {
    config.reconnect_backoff = std::chrono::milliseconds(10);
    config.reconnect_backoff_max = std::chrono::milliseconds(50);
    return BrokerConnection::create(io_.get_executor(), "127.0.0.1", port, config,
                                    ConnectionLabel("test"));
  }

  template <protocol::ApiDefinition A>
  std::future<Result<typename A::Response>> send(const std::shared_ptr<BrokerConnection>& c,
                                                 typename A::Request request = {},
                                                 RequestOptions options = {}) {
    auto promise = std::make_shared<std::promise<Result<typename A::Response>>>();
    auto future = promise->get_future();
    c->request<A>(std::move(request), options,
                  [promise](Result<typename A::Response> r) { promise->set_value(std::move(r)); });
    return future;
  }

  template <class T>
  static T await(std::future<T>& f) {
    EXPECT_EQ(f.wait_for(std::chrono::seconds(20)), std::future_status::ready);
    return f.get();
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

// Answers ApiVersions with `versions` and Metadata with the broker itself.
FakeBroker::Script standardScript(FakeBroker*& self, protocol::ApiVersionsResponse versions) {
  return [&self, versions](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, versions);
    }
    if (r.header.api_key == ApiKey::kMetadata) {
      return Reply::with<protocol::MetadataApi>(r, self->selfMetadata());
    }
    return Reply::close();
  };
}

TEST_F(BrokerConnectionTest, NegotiatesTheHighestCommonVersionUnderTheCaps) {
  FakeBroker* broker = nullptr;
  FakeBroker fake(standardScript(
      broker, FakeBroker::allApis({{ApiKey::kMetadata, 0, 2}, {ApiKey::kListOffsets, 0, 5}})));
  broker = &fake;
  ConnectionConfig config;
  config.version_caps[ApiKey::kListOffsets] = 3;
  auto c = connect(fake.port(), config);
  auto f = send<protocol::MetadataApi>(c);
  auto response = await(f);
  ASSERT_TRUE(response.ok()) << response.error().toString();
  EXPECT_EQ(response->cluster_id, "fake-cluster");
  EXPECT_EQ(c->negotiatedVersion(ApiKey::kMetadata), 2);
  EXPECT_EQ(c->negotiatedVersion(ApiKey::kListOffsets), 3);
  EXPECT_EQ(c->negotiatedVersion(ApiKey::kApiVersions), protocol::ApiVersionsApi::kMaxVersion);
  EXPECT_EQ(c->state(), BrokerConnection::State::kUp);
}

TEST_F(BrokerConnectionTest, RetriesApiVersionsAtTheVersionTheBrokerNames) {
  std::vector<int16_t> seen;
  std::mutex mutex;
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      std::lock_guard lock(mutex);
      seen.push_back(r.header.api_version);
      if (r.header.api_version > 2) {
        // A broker that does not know this version answers in the v0 layout (KIP-511).
        protocol::ApiVersionsResponse unsupported;
        unsupported.error_code = static_cast<int16_t>(ErrorCode::kUnsupportedVersion);
        unsupported.api_keys = {{18, 0, 2, {}}};
        return Reply::raw(protocol::encodeResponseFrame<protocol::ApiVersionsApi>(
            unsupported, 0, r.header.correlation_id));
      }
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    return Reply::with<protocol::MetadataApi>(r, protocol::MetadataResponse{});
  });
  auto c = connect(fake.port());
  auto f = send<protocol::MetadataApi>(c);
  ASSERT_TRUE(await(f).ok());
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen, (std::vector<int16_t>{protocol::ApiVersionsApi::kMaxVersion, 2}));
}

TEST_F(BrokerConnectionTest, FallsBackToApiVersionsV0WhenTheBrokerDropsNewerOnes) {
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      if (r.header.api_version > 0) return Reply::close();
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    return Reply::with<protocol::MetadataApi>(r, protocol::MetadataResponse{});
  });
  auto c = connect(fake.port());
  auto first = send<protocol::MetadataApi>(c);
  auto failed = await(first);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kTransport);
  auto second = send<protocol::MetadataApi>(c);
  auto response = await(second);
  ASSERT_TRUE(response.ok()) << response.error().toString();
  EXPECT_EQ(fake.connectionsAccepted(), 2);
}

TEST_F(BrokerConnectionTest, UnsupportedApiNamesTheApiAndBothRanges) {
  FakeBroker* broker = nullptr;
  FakeBroker fake(standardScript(broker, FakeBroker::allApis({{ApiKey::kFetch, -1, -1}})));
  broker = &fake;
  auto c = connect(fake.port());
  auto f = send<protocol::FetchApi>(c);
  auto response = await(f);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::kUnsupportedApi);
  EXPECT_NE(response.error().message.find("Fetch"), std::string::npos) << response.error().message;
  EXPECT_NE(response.error().message.find("does not serve it"), std::string::npos);
  // The connection stays usable for what the broker does serve.
  auto g = send<protocol::MetadataApi>(c);
  EXPECT_TRUE(await(g).ok());
}

TEST_F(BrokerConnectionTest, ConcurrentRequestsEachGetTheirOwnAnswer) {
  // The broker echoes the correlation id into throttle_time_ms, so each caller can check it
  // received the answer to its own request.
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    protocol::MetadataResponse response;
    response.throttle_time_ms = r.header.correlation_id;
    response.controller_id = static_cast<int32_t>(r.body.size());
    return Reply::with<protocol::MetadataApi>(r, response);
  });
  ConnectionConfig config;
  config.max_in_flight = 2;
  auto c = connect(fake.port(), config);
  std::vector<std::future<Result<protocol::MetadataResponse>>> futures;
  std::vector<int32_t> sizes;
  for (int i = 0; i < 50; ++i) {
    protocol::MetadataRequest request;
    request.topics = std::vector<protocol::MetadataRequest::Topic>(
        static_cast<size_t>(i), protocol::MetadataRequest::Topic{{}, "t", {}});
    futures.push_back(send<protocol::MetadataApi>(c, request));
  }
  std::set<int32_t> correlation_ids;
  for (size_t i = 0; i < futures.size(); ++i) {
    auto r = await(futures[i]);
    ASSERT_TRUE(r.ok()) << r.error().toString();
    correlation_ids.insert(r->throttle_time_ms);
    // The request body grows with i, so the echoed size tells requests apart.
    if (i > 0) {
      EXPECT_GT(r->controller_id, sizes.back());
    }
    sizes.push_back(r->controller_id);
  }
  EXPECT_EQ(correlation_ids.size(), 50u);
}

TEST_F(BrokerConnectionTest, WithholdsWritesBeyondMaxInFlight) {
  std::mutex mutex;
  int metadata_seen = 0;
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    std::lock_guard lock(mutex);
    ++metadata_seen;
    return Reply::ignore();  // never answered: the client must stop at max_in_flight
  });
  ConnectionConfig config;
  config.max_in_flight = 3;
  config.request_timeout = std::chrono::milliseconds(1500);
  auto c = connect(fake.port(), config);
  std::vector<std::future<Result<protocol::MetadataResponse>>> futures;
  for (int i = 0; i < 6; ++i) futures.push_back(send<protocol::MetadataApi>(c));
  for (auto& f : futures) {
    auto r = await(f);
    ASSERT_FALSE(r.ok());
  }
  std::lock_guard lock(mutex);
  EXPECT_EQ(metadata_seen, 3);
}

TEST_F(BrokerConnectionTest, TimeoutFailsTheRequestAndClosesTheConnection) {
  std::atomic<bool> answer{false};
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    if (!answer) return Reply::ignore();
    return Reply::with<protocol::MetadataApi>(r, protocol::MetadataResponse{});
  });
  auto c = connect(fake.port());
  auto timed_out = send<protocol::MetadataApi>(c, {}, {.timeout = std::chrono::milliseconds(200)});
  auto behind = send<protocol::MetadataApi>(c, {}, {.timeout = std::chrono::milliseconds(5000)});
  auto first = await(timed_out);
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kRequestTimedOutLocally);
  EXPECT_NE(first.error().message.find("Metadata request timed out after 200 ms"),
            std::string::npos)
      << first.error().message;
  auto second = await(behind);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kTransport);
  EXPECT_NE(second.error().message.find("connection closed after a Metadata request timed out"),
            std::string::npos)
      << second.error().message;
  answer = true;
  auto again = send<protocol::MetadataApi>(c);
  EXPECT_TRUE(await(again).ok());
  EXPECT_EQ(fake.connectionsAccepted(), 2);
  EXPECT_EQ(c->connectCount(), 2u);
}

TEST_F(BrokerConnectionTest, UnknownCorrelationIdDropsTheConnection) {
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    return Reply::raw(protocol::encodeResponseFrame<protocol::MetadataApi>(
        {}, r.header.api_version, r.header.correlation_id + 1000));
  });
  auto c = connect(fake.port());
  auto f = send<protocol::MetadataApi>(c);
  auto r = await(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransport);
  EXPECT_NE(r.error().message.find("unknown correlation id"), std::string::npos);
}

TEST_F(BrokerConnectionTest, OversizedFrameIsRefusedBeforeAllocation) {
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    return Reply::raw({0x7f, 0xff, 0xff, 0xff});  // claims a 2 GiB frame
  });
  ConnectionConfig config;
  config.max_frame_bytes = 1024 * 1024;
  auto c = connect(fake.port(), config);
  auto f = send<protocol::MetadataApi>(c);
  auto r = await(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kFrameTooLarge);
  EXPECT_NE(r.error().message.find("exceeds the maximum of 1048576"), std::string::npos);
}

TEST_F(BrokerConnectionTest, MalformedResponseIsAnErrorNamingTheField) {
  FakeBroker fake([&](const FakeBroker::Request& r) {
    if (r.header.api_key == ApiKey::kApiVersions) {
      return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
    }
    protocol::Bytes frame;
    protocol::Writer w(frame);
    w.int32(12);
    w.int32(r.header.correlation_id);
    w.int32(0);   // throttle (v3+) or broker count
    w.int32(-5);  // a negative array count
    return Reply::raw(std::move(frame));
  });
  auto c = connect(fake.port());
  auto f = send<protocol::MetadataApi>(c);
  auto r = await(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kMalformedMessage);
  EXPECT_NE(r.error().message.find("MetadataResponse"), std::string::npos) << r.error().message;
}

TEST_F(BrokerConnectionTest, RefusedConnectFailsQuicklyAndCloseFailsTheRest) {
  uint16_t closed_port;
  {
    FakeBroker gone([](const FakeBroker::Request&) { return Reply::close(); });
    closed_port = gone.port();
  }
  auto c = connect(closed_port);
  auto f = send<protocol::MetadataApi>(c);
  auto r = await(f);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTransport);
  EXPECT_NE(r.error().message.find("connect failed"), std::string::npos) << r.error().message;
  c->close();
  auto g = send<protocol::MetadataApi>(c);
  auto closed = await(g);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, ErrorCode::kShuttingDown);
}

// A connection waiting out its reconnect backoff ends when closed, rather than holding itself
// (and its executor) until the backoff is over.
TEST_F(BrokerConnectionTest, CloseEndsAReconnectBackoff) {
  uint16_t closed_port;
  {
    FakeBroker gone([](const FakeBroker::Request&) { return Reply::close(); });
    closed_port = gone.port();
  }
  ConnectionConfig config;
  config.reconnect_backoff = std::chrono::seconds(60);
  config.reconnect_backoff_max = std::chrono::seconds(60);
  auto c = BrokerConnection::create(io_.get_executor(), "127.0.0.1", closed_port, config,
                                    ConnectionLabel("test"));
  auto refused = send<protocol::MetadataApi>(c);
  ASSERT_FALSE(await(refused).ok());
  auto waiting = send<protocol::MetadataApi>(c);  // waits for the 60 s backoff
  ASSERT_TRUE(
      integration::waitUntil([&] { return c->state() == BrokerConnection::State::kBackoff; }));
  c->close();
  auto closed = await(waiting);
  ASSERT_FALSE(closed.ok());
  EXPECT_EQ(closed.error().code, ErrorCode::kShuttingDown);
  std::weak_ptr<BrokerConnection> weak = c;
  c.reset();
  EXPECT_TRUE(integration::waitUntil([&] { return weak.expired(); }))
      << "the connection still runs its backoff";
}

}  // namespace
}  // namespace kafka::net
