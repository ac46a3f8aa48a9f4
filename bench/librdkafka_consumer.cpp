// The baseline consumer: librdkafka's high-level C consumer, given every partition with
// rd_kafka_assign() at OFFSET_BEGINNING (so there is no group join to wait for, as with our
// clients), and read the way a careful application reads it: rd_kafka_consume_batch_queue() on
// the consumer queue, up to 1,000 messages a call. Before the run, the client is created and
// asked for the topic's metadata, so that it is connected and knows the leaders, as ours are.
#include <librdkafka/rdkafka.h>

#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "bench/clients.hpp"

namespace kafka::bench {
namespace {

constexpr size_t kBatchMessages = 1000;
// How long one call waits for its batch to fill: short, so that a partial batch at the end of
// the topic is not held back for long.
constexpr int kBatchWaitMs = 1;
constexpr int kMetadataTimeoutMs = 10'000;

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const {
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
  }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
};
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* rkqu) const { rd_kafka_queue_destroy(rkqu); }
};
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;
using QueueHandle = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

KafkaHandle newConsumer(const std::string& bootstraps, const std::string& group,
                        std::chrono::milliseconds fetch_wait) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", bootstraps},
      {"client.id", "consume-bench"},
      {"group.id", group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"check.crcs", "true"},
      {"fetch.wait.max.ms", std::to_string(fetch_wait.count())},
      {"fetch.min.bytes", "1"},
      {"fetch.max.bytes", "52428800"},
      {"max.partition.fetch.bytes", "1048576"},
      // Our consumer's prefetch bound (max_buffered_bytes, 8 MiB): with the high-level consumer
      // this bounds the one consumer queue, whatever the number of partitions.
      {"queued.max.messages.kbytes", "8192"},
  };
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("librdkafka: ") + key + ": " + error);
    }
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("librdkafka: ") + error);
  }
  return KafkaHandle(rk);
}

// Connects and learns the topic's leaders; throws unless the topic has `partitions` partitions.
TopicHandle lookUpTopic(rd_kafka_t* rk, const std::string& name, int partitions) {
  TopicHandle topic(rd_kafka_topic_new(rk, name.c_str(), nullptr));
  if (!topic) {
    throw std::runtime_error("librdkafka: topic " + name + ": " +
                             rd_kafka_err2str(rd_kafka_last_error()));
  }
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, topic.get(), &metadata, kMetadataTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    throw std::runtime_error("librdkafka: metadata of " + name + ": " + rd_kafka_err2str(err));
  }
  const int found = metadata->topic_cnt == 1 ? metadata->topics[0].partition_cnt : 0;
  rd_kafka_metadata_destroy(metadata);
  if (found != partitions) {
    throw std::runtime_error("librdkafka: " + name + " has " + std::to_string(found) +
                             " partitions, not " + std::to_string(partitions));
  }
  return topic;
}

class LibrdkafkaConsumer : public ConsumeClient {
 public:
  LibrdkafkaConsumer(std::string bootstraps, std::chrono::milliseconds fetch_wait)
      : bootstraps_(std::move(bootstraps)), fetch_wait_(fetch_wait) {}

  std::string_view name() const override { return "librdkafka"; }

  RunResult run(const ConsumeSpec& spec) override {
    const auto deadline = Clock::now() + kRunTimeout;
    ConsumeTally tally(spec.workload.records, spec.partitions);
    KafkaHandle rk = newConsumer(bootstraps_, spec.group, fetch_wait_);
    TopicHandle topic = lookUpTopic(rk.get(), spec.topic, spec.partitions);
    QueueHandle queue(rd_kafka_queue_get_consumer(rk.get()));
    PartitionList assignment(rd_kafka_topic_partition_list_new(spec.partitions));
    for (int p = 0; p < spec.partitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), spec.topic.c_str(), p)->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }

    const auto start = Clock::now();
    if (rd_kafka_resp_err_t err = rd_kafka_assign(rk.get(), assignment.get()); err) {
      return {0, std::string("assign: ") + rd_kafka_err2str(err)};
    }
    std::vector<rd_kafka_message_t*> messages(kBatchMessages);
    bool failed = false;
    while (!tally.complete() && !failed && Clock::now() < deadline) {
      const ssize_t count =
          rd_kafka_consume_batch_queue(queue.get(), kBatchWaitMs, messages.data(), messages.size());
      if (count < 0) {
        tally.failed(std::string("consume: ") + rd_kafka_err2str(rd_kafka_last_error()));
        break;
      }
      for (ssize_t i = 0; i < count; ++i) {
        rd_kafka_message_t* message = messages[static_cast<size_t>(i)];
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          tally.failed(rd_kafka_message_errstr(message));
          failed = true;
        } else {
          tally.received(message->partition, message->offset);
        }
        rd_kafka_message_destroy(message);
      }
    }
    return tally.result(start, !tally.complete() && Clock::now() >= deadline);
  }

 private:
  std::string bootstraps_;
  std::chrono::milliseconds fetch_wait_;
};

}  // namespace

std::unique_ptr<ConsumeClient> makeLibrdkafkaConsumer(std::string bootstraps,
                                                      std::chrono::milliseconds fetch_wait) {
  return std::make_unique<LibrdkafkaConsumer>(std::move(bootstraps), fetch_wait);
}

}  // namespace kafka::bench
