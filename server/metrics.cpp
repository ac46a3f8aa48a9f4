#include "server/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace kafka::sidecar {

namespace {

prometheus::Family<prometheus::Counter>& counterFamily(prometheus::Registry& registry,
                                                       const std::string& name,
                                                       const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

// From 1 ms to 10 s in steps of about 2.5x: a local broker acks in a few ms, a loaded or remote
// one in tens to hundreds, and retries and linger push the tail into seconds.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      produce_records_(counterFamily(*registry_, "kafka_sidecar_produce_records_total",
                                     "Records produced and acknowledged by Kafka, by topic.")),
      produce_bytes_(counterFamily(*registry_, "kafka_sidecar_produce_bytes_total",
                                   "Key plus value bytes of the records produced and acknowledged "
                                   "by Kafka, by topic.")),
      produce_errors_(counterFamily(*registry_, "kafka_sidecar_produce_errors_total",
                                    "Records whose produce failed or was refused, by topic.")),
      produce_latency_(prometheus::BuildHistogram()
                           .Name("kafka_sidecar_produce_latency_seconds")
                           .Help("Seconds from the arrival of a produce request or stream message "
                                 "to the outcome of each of its records.")
                           .Register(*registry_)
                           .Add({}, kLatencyBuckets)),
      delivered_(counterFamily(*registry_, "kafka_sidecar_consumer_records_delivered_total",
                               "Records handed to applications for the first time, by group.")),
      acked_(counterFamily(*registry_, "kafka_sidecar_consumer_records_acked_total",
                           "Delivered records acknowledged by applications, by group.")),
      redelivered_(counterFamily(*registry_, "kafka_sidecar_consumer_records_redelivered_total",
                                 "Records handed to applications again after an ack timeout or a "
                                 "detached call, by group.")),
      rebalances_(counterFamily(*registry_, "kafka_sidecar_consumer_rebalances_total",
                                "Times a consumer session had partitions revoked or lost, by "
                                "group (one per revoke or loss callback).")),
      sessions_open_(prometheus::BuildGauge()
                         .Name("kafka_sidecar_consumer_sessions_open")
                         .Help("Consumer sessions created and not closed yet.")
                         .Register(*registry_)
                         .Add({})) {}

Metrics::ProduceCounters Metrics::produce(const std::string& topic) {
  const prometheus::Labels labels{{"topic", topic}};
  return {produce_records_.Add(labels), produce_bytes_.Add(labels), produce_errors_.Add(labels)};
}

Metrics::SessionCounters Metrics::session(const std::string& group) {
  const prometheus::Labels labels{{"group", group}};
  return {delivered_.Add(labels), acked_.Add(labels), redelivered_.Add(labels),
          rebalances_.Add(labels)};
}

std::string Metrics::scrape() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace kafka::sidecar
