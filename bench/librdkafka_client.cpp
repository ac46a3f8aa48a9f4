// The baseline: librdkafka's C producer API, used the way a careful application uses it. Records
// are copied at produce time (RD_KAFKA_MSG_F_COPY, as our producer copies them into batches), a
// full queue is waited out by serving delivery reports, and the run ends at the last report.
#include <librdkafka/rdkafka.h>

#include <memory>
#include <stdexcept>
#include <utility>

#include "bench/clients.hpp"

namespace kafka::bench {
namespace {

// Delivery reports arrive on the thread that calls rd_kafka_poll() or rd_kafka_flush(): the run's
// thread, so the tally needs no lock.
struct ReportTarget {
  DeliveryTally* tally = nullptr;
};

void onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* target = static_cast<ReportTarget*>(opaque);
  const auto index = reinterpret_cast<uintptr_t>(message->_private);
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    target->tally->delivered(index);
  } else {
    target->tally->failed(index, rd_kafka_err2str(message->err));
  }
}

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct TopicDeleter {
  void operator()(rd_kafka_topic_t* rkt) const { rd_kafka_topic_destroy(rkt); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, TopicDeleter>;

KafkaHandle newProducer(const std::string& bootstraps, record::Compression codec,
                        ReportTarget& target) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char error[512];
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", bootstraps},
      {"client.id", "produce-bench"},
      {"acks", "all"},
      {"enable.idempotence", "true"},
      {"linger.ms", "5"},
      {"batch.size", "1000000"},
      // Only batch.size bounds a batch, as in our producer (librdkafka's default is 10,000).
      {"batch.num.messages", "1000000"},
      // buffer.memory = 64 MiB, with no separate bound on the number of records.
      {"queue.buffering.max.kbytes", "65536"},
      {"queue.buffering.max.messages", "0"},
      {"message.timeout.ms", "120000"},
      {"compression.codec", std::string(record::compressionName(codec))},
  };
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("librdkafka: ") + key + ": " + error);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
  rd_kafka_conf_set_opaque(conf, &target);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("librdkafka: ") + error);
  }
  return KafkaHandle(rk);
}

TopicHandle newTopic(rd_kafka_t* rk, const std::string& name) {
  rd_kafka_topic_t* topic = rd_kafka_topic_new(rk, name.c_str(), nullptr);
  if (topic == nullptr) {
    throw std::runtime_error("librdkafka: topic " + name + ": " +
                             rd_kafka_err2str(rd_kafka_last_error()));
  }
  return TopicHandle(topic);
}

// Produces records [0, count) of `payloads` to `topic`, polling for reports whenever the queue
// is full. Empty on success; otherwise why producing stopped.
std::string produceAll(rd_kafka_t* rk, rd_kafka_topic_t* topic, const Payloads& payloads,
                       size_t count) {
  // Serving reports now and then keeps them from piling up behind a queue that never fills.
  constexpr size_t kPollEvery = 1000;
  for (size_t i = 0; i < count; ++i) {
    auto value = payloads.value(i);
    // librdkafka's API takes a non-const payload even when it copies it.
    void* data = const_cast<uint8_t*>(value.data());
    while (rd_kafka_produce(topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, data, value.size(),
                            nullptr, 0, reinterpret_cast<void*>(i)) != 0) {
      rd_kafka_resp_err_t err = rd_kafka_last_error();
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return std::string("produce failed: ") + rd_kafka_err2str(err);
      }
      rd_kafka_poll(rk, 1);
    }
    if (i % kPollEvery == 0) rd_kafka_poll(rk, 0);
  }
  return {};
}

// Serves reports until the tally is complete or the deadline passes; true when complete.
bool awaitReports(rd_kafka_t* rk, const DeliveryTally& tally, Clock::time_point deadline) {
  while (!tally.complete() && Clock::now() < deadline) rd_kafka_flush(rk, 100);
  return tally.complete();
}

class LibrdkafkaClient : public BenchClient {
 public:
  explicit LibrdkafkaClient(std::string bootstraps) : bootstraps_(std::move(bootstraps)) {}

  std::string_view name() const override { return "librdkafka"; }

  RunResult run(const RunSpec& spec) override {
    const auto deadline = Clock::now() + kRunTimeout;
    // Declared before the producer: destroying it may still report records.
    DeliveryTally warmup(1);
    DeliveryTally tally(spec.workload.records);
    ReportTarget target{&warmup};
    KafkaHandle rk = newProducer(bootstraps_, spec.workload.codec, target);

    TopicHandle topic = newTopic(rk.get(), spec.topic);

    std::string error = produceAll(rk.get(), topic.get(), spec.payloads, 1);
    if (!error.empty()) return {0, "warm-up: " + error};
    bool timed_out = !awaitReports(rk.get(), warmup, deadline);
    if (std::string warmup_error = runError(warmup, timed_out); !warmup_error.empty()) {
      return {0, "warm-up: " + warmup_error};
    }

    target.tally = &tally;
    const auto start = Clock::now();
    error = produceAll(rk.get(), topic.get(), spec.payloads, tally.records());
    if (!error.empty()) return {0, error};
    timed_out = !awaitReports(rk.get(), tally, deadline);
    const std::chrono::duration<double> elapsed = tally.completedAt() - start;
    return {elapsed.count(), runError(tally, timed_out)};
  }

 private:
  std::string bootstraps_;
};

}  // namespace

std::unique_ptr<BenchClient> makeLibrdkafkaClient(std::string bootstraps) {
  return std::make_unique<LibrdkafkaClient>(std::move(bootstraps));
}

}  // namespace kafka::bench
