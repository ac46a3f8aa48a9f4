// The producer against a scripted broker that speaks like Kafka 4.1: Metadata v13 gives topic
// ids, and Produce v13 names topics by id only. The mock cluster serves Produce up to v7, so this
// path is proven here.
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "client_core/producer/producer.hpp"
#include "tests/integration/fake_broker.hpp"
#include "tests/integration/mock_cluster_process.hpp"

namespace kafka::producer {
namespace {

using namespace std::chrono_literals;
using testing::FakeBroker;
using Reply = FakeBroker::Reply;

TEST(ProducerTopicIdTest, ProducesByTopicIdAtProduceV13) {
  protocol::Uuid topic_id;
  for (uint8_t i = 0; i < 16; ++i) topic_id.bytes[i] = static_cast<uint8_t>(0xa0 + i);
  std::mutex mutex;
  std::optional<protocol::ProduceRequest> produced;
  int16_t produce_version = -1;

  FakeBroker* self = nullptr;
  FakeBroker broker([&](const FakeBroker::Request& r) {
    switch (r.header.api_key) {
      case protocol::ApiKey::kApiVersions:
        return Reply::with<protocol::ApiVersionsApi>(r, FakeBroker::allApis());
      case protocol::ApiKey::kMetadata: {
        auto metadata = self->selfMetadata();
        auto& topic = metadata.topics.emplace_back();
        topic.name = "events";
        topic.topic_id = topic_id;
        auto& partition = topic.partitions.emplace_back();
        partition.partition_index = 0;
        partition.leader_id = 1;
        return Reply::with<protocol::MetadataApi>(r, metadata);
      }
      case protocol::ApiKey::kInitProducerId: {
        protocol::InitProducerIdResponse response;
        response.producer_id = 42;
        response.producer_epoch = 0;
        return Reply::with<protocol::InitProducerIdApi>(r, response);
      }
      case protocol::ApiKey::kProduce: {
        protocol::Reader reader(r.body);
        auto request = protocol::decodeRequestBody<protocol::ProduceApi>(reader,
                                                                        r.header.api_version);
        if (!request.ok()) return Reply::close();
        {
          std::lock_guard lock(mutex);
          produced = *request;
          produce_version = r.header.api_version;
        }
        protocol::ProduceResponse response;
        auto& topic = response.responses.emplace_back();
        topic.topic_id = topic_id;
        auto& partition = topic.partition_responses.emplace_back();
        partition.index = 0;
        partition.base_offset = 100;
        return Reply::with<protocol::ProduceApi>(r, response);
      }
      default:
        return Reply::close();
    }
  });
  self = &broker;

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread thread([&io] { io.run(); });
  ClusterConfig config;
  config.bootstrap_servers = {"127.0.0.1:" + std::to_string(broker.port())};
  auto cluster = std::make_shared<Cluster>(io.get_executor(), config);
  cluster->start();
  ASSERT_TRUE(integration::waitUntil([&] { return cluster->ready(); }));

  auto producer = Producer::create(io.get_executor(), cluster, ProducerConfig{});
  const std::string value = "v";
  OutgoingRecord record;
  record.topic = "events";
  record.value = protocol::ByteView(reinterpret_cast<const uint8_t*>(value.data()), value.size());
  std::promise<DeliveryReport> reported;
  producer->send(
      {record},
      [&reported](const DeliveryReport& report) {
        DeliveryReport copy = report;
        copy.indices = {};
        reported.set_value(copy);
      },
      [] {});
  auto future = reported.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  DeliveryReport report = future.get();
  EXPECT_EQ(report.error.code, ErrorCode::kNone) << report.error.toString();
  EXPECT_EQ(report.partition, 0);
  EXPECT_EQ(report.base_offset, 100);

  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(produce_version, 13);
    ASSERT_TRUE(produced.has_value());
    ASSERT_EQ(produced->topic_data.size(), 1u);
    EXPECT_EQ(produced->topic_data[0].topic_id, topic_id);
    EXPECT_EQ(produced->topic_data[0].name, "") << "v13 names topics by id only";
    ASSERT_EQ(produced->topic_data[0].partition_data.size(), 1u);
    EXPECT_TRUE(produced->topic_data[0].partition_data[0].records.has_value());
    EXPECT_EQ(produced->acks, -1);
    EXPECT_EQ(produced->transactional_id, std::nullopt);
  }

  std::promise<void> closed;
  producer->close(5s, [&closed] { closed.set_value(); });
  EXPECT_EQ(closed.get_future().wait_for(10s), std::future_status::ready);
  producer.reset();
  cluster->stop();
  work.reset();
  thread.join();
}

}  // namespace
}  // namespace kafka::producer
