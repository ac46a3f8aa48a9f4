#include "tests/interop/direct_client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "client_core/net/host_port.hpp"
#include "client_core/record/record_batch_reader.hpp"

namespace kafka::interop {

using namespace std::chrono_literals;

DirectClient::DirectClient(const std::string& bootstrap)
    : work_(io_.get_executor()), thread_([this] { io_.run(); }) {
  ClusterConfig config;
  auto servers = net::parseHostPortList(bootstrap);
  EXPECT_TRUE(servers.ok()) << bootstrap;
  if (servers.ok()) {
    for (const auto& s : *servers) config.bootstrap_servers.push_back(s.toString());
  }
  config.connection.request_timeout = 10s;
  config.connection.version_caps[protocol::ApiKey::kListOffsets] = 3;
  cluster_ = std::make_shared<Cluster>(io_.get_executor(), config);
}

DirectClient::~DirectClient() {
  cluster_->stop();
  work_.reset();
  thread_.join();
}

template <protocol::ApiDefinition A>
Result<typename A::Response> DirectClient::send(
    const std::shared_ptr<net::BrokerConnection>& connection, typename A::Request request) {
  auto promise = std::make_shared<std::promise<Result<typename A::Response>>>();
  auto future = promise->get_future();
  connection->request<A>(std::move(request), [promise](Result<typename A::Response> r) {
    promise->set_value(std::move(r));
  });
  if (future.wait_for(20s) != std::future_status::ready) {
    return Error{ErrorCode::kRequestTimedOutLocally, "no answer within 20 s"};
  }
  return future.get();
}

std::shared_ptr<net::BrokerConnection> DirectClient::leaderOf(const std::string& topic,
                                                              ConnectionPurpose purpose) {
  std::promise<Result<MetadataPtr>> promise;
  auto future = promise.get_future();
  cluster_->refreshMetadata({topic},
                            [&promise](Result<MetadataPtr> r) { promise.set_value(std::move(r)); });
  if (future.wait_for(20s) != std::future_status::ready) return nullptr;
  auto metadata = future.get();
  if (!metadata.ok()) return nullptr;
  const TopicInfo* info = (*metadata)->topic(topic);
  if (info == nullptr || info->partitions.empty()) return nullptr;
  return cluster_->connection(info->partitions[0].leader, purpose);
}

std::vector<PeerRecord> DirectClient::fetchRecords(const std::string& topic, size_t count,
                                                   std::set<record::Compression>& codecs) {
  std::vector<PeerRecord> out;
  auto connection = leaderOf(topic, ConnectionPurpose::kFetch);
  EXPECT_NE(connection, nullptr);
  if (!connection) return out;
  int64_t offset = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    protocol::FetchRequest request;
    request.max_wait_ms = 100;
    request.min_bytes = 1;
    request.max_bytes = 16 << 20;
    protocol::FetchRequest::Partition partition;
    partition.partition = 0;
    partition.fetch_offset = offset;
    partition.partition_max_bytes = 8 << 20;
    protocol::FetchRequest::Topic wanted;
    wanted.topic = topic;
    wanted.partitions.push_back(partition);
    request.topics.push_back(wanted);
    auto response = send<protocol::FetchApi>(connection, request);
    EXPECT_TRUE(response.ok()) << response.error().toString();
    if (!response.ok()) return out;
    EXPECT_EQ(response->error_code, 0);
    if (response->responses.size() != 1 || response->responses[0].partitions.size() != 1) {
      ADD_FAILURE() << "unexpected Fetch response shape";
      return out;
    }
    const auto& data = response->responses[0].partitions[0];
    EXPECT_EQ(data.error_code, 0);
    if (data.error_code != 0 || !data.records) return out;
    record::RecordBatchReader reader(*data.records);
    record::RecordBatch batch;
    while (true) {
      auto next = reader.next(batch);
      if (!next.ok()) {
        ADD_FAILURE() << next.error().toString();
        return out;
      }
      if (!*next) break;
      EXPECT_EQ(batch.magic, 2);
      EXPECT_FALSE(batch.isControl());
      codecs.insert(batch.compression());
      for (const record::Record& r : batch.records) {
        if (r.offset < offset) continue;
        PeerRecord p{r.offset, r.timestamp, copyOf(r.key), copyOf(r.value), {}};
        for (const record::Header& h : r.headers) {
          p.headers.emplace_back(std::string(h.key), copyOf(h.value));
        }
        out.push_back(std::move(p));
      }
      offset = batch.nextOffset();
    }
    EXPECT_FALSE(reader.endedWithPartialBatch()) << "the mock returns whole batches";
  }
  return out;
}

int64_t DirectClient::produceBatch(const std::string& topic, protocol::Bytes batch) {
  auto connection = leaderOf(topic, ConnectionPurpose::kControl);
  EXPECT_NE(connection, nullptr);
  if (!connection) return -1;
  protocol::ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = 10000;
  protocol::ProduceRequest::PartitionData partition;
  partition.index = 0;
  auto owner = std::make_shared<const protocol::Bytes>(std::move(batch));
  partition.records = protocol::Records{owner, protocol::ByteView(*owner)};
  protocol::ProduceRequest::TopicData data;
  data.name = topic;
  data.partition_data.push_back(partition);
  request.topic_data.push_back(data);
  auto response = send<protocol::ProduceApi>(connection, request);
  EXPECT_TRUE(response.ok()) << response.error().toString();
  if (!response.ok() || response->responses.size() != 1 ||
      response->responses[0].partition_responses.size() != 1) {
    ADD_FAILURE() << "no partition response";
    return -1;
  }
  const auto& result = response->responses[0].partition_responses[0];
  EXPECT_EQ(result.error_code, 0);
  return result.base_offset;
}

}  // namespace kafka::interop
