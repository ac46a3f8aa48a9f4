#include "tests/integration/log_reader.hpp"

#include <chrono>
#include <future>
#include <thread>

#include "client_core/record/record_batch_reader.hpp"

namespace kafka::integration {

namespace {

std::string text(protocol::ByteView bytes) {
  return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::optional<std::string> text(const std::optional<protocol::ByteView>& bytes) {
  if (!bytes) return std::nullopt;
  return text(*bytes);
}

Result<MetadataPtr> refresh(Cluster& cluster, const std::string& topic) {
  std::promise<Result<MetadataPtr>> promise;
  auto future = promise.get_future();
  cluster.refreshMetadata({topic}, [&promise](Result<MetadataPtr> r) {
    promise.set_value(std::move(r));
  });
  if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    return Error{ErrorCode::kRequestTimedOutLocally, "Metadata did not complete"};
  }
  return future.get();
}

Result<std::vector<LoggedRecord>> readFromLeader(Cluster& cluster, const MetadataPtr& metadata,
                                                 const std::string& topic, int32_t partition) {
  const PartitionInfo* info = metadata ? metadata->partition(topic, partition) : nullptr;
  if (info == nullptr) {
    return Error{ErrorCode::kUnknownTopicOrPartition,
                 "no metadata for " + describePartition(topic, partition)};
  }
  auto connection = cluster.connection(info->leader, ConnectionPurpose::kFetch, "log-reader");
  if (!connection) return Error{ErrorCode::kNoBrokerAvailable, "no leader for " + topic};

  std::vector<LoggedRecord> records;
  int64_t next_offset = 0;
  for (;;) {
    protocol::FetchRequest request;
    request.max_wait_ms = 0;
    request.min_bytes = 0;
    auto& t = request.topics.emplace_back();
    t.topic = topic;
    auto& p = t.partitions.emplace_back();
    p.partition = partition;
    p.fetch_offset = next_offset;
    p.partition_max_bytes = 64 * 1024 * 1024;
    std::promise<Result<protocol::FetchResponse>> promise;
    auto future = promise.get_future();
    connection->request<protocol::FetchApi>(
        std::move(request),
        [&promise](Result<protocol::FetchResponse> r) { promise.set_value(std::move(r)); });
    if (future.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      return Error{ErrorCode::kRequestTimedOutLocally, "Fetch did not complete"};
    }
    auto response = future.get();
    if (!response.ok()) return response.error();
    if (response->responses.empty() || response->responses[0].partitions.empty()) {
      return Error{ErrorCode::kMalformedMessage, "empty Fetch response"};
    }
    const auto& data = response->responses[0].partitions[0];
    if (data.error_code != 0) return Error{fromWire(data.error_code), "Fetch " + topic};
    if (next_offset >= data.high_watermark || !data.records || data.records->data.empty()) {
      return records;
    }
    record::RecordBatchReader reader(*data.records);
    record::RecordBatch batch;
    const int64_t before = next_offset;
    for (;;) {
      auto more = reader.next(batch);
      if (!more.ok()) return more.error();
      if (!*more) break;
      for (size_t i = 0; i < batch.records.size(); ++i) {
        const record::Record& r = batch.records[i];
        if (r.offset < next_offset) continue;
        LoggedRecord logged;
        logged.offset = r.offset;
        logged.timestamp = r.timestamp;
        logged.key = text(r.key);
        logged.value = text(r.value);
        for (const auto& h : r.headers) logged.headers.emplace_back(std::string(h.key), text(h.value));
        logged.producer_id = batch.producer_id;
        logged.producer_epoch = batch.producer_epoch;
        logged.sequence = batch.base_sequence < 0 ? -1
                                                  : batch.base_sequence + static_cast<int32_t>(i);
        records.push_back(std::move(logged));
        next_offset = r.offset + 1;
      }
    }
    if (next_offset == before) {
      return Error{ErrorCode::kMalformedMessage, "Fetch made no progress at offset " +
                                                     std::to_string(next_offset)};
    }
  }
}

}  // namespace

Result<std::vector<LoggedRecord>> readPartition(Cluster& cluster, const std::string& topic,
                                                int32_t partition) {
  // The leader may have moved since the cached metadata: ask again, and again after a
  // routing error.
  for (int attempt = 0;; ++attempt) {
    auto metadata = refresh(cluster, topic);
    if (!metadata.ok()) return metadata.error();
    auto records = readFromLeader(cluster, *metadata, topic, partition);
    if (records.ok() || records.error().action() != ErrorAction::kRefreshMetadata ||
        attempt == 5) {
      return records;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace kafka::integration
