#include "server/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace kafka::sidecar {

namespace {

prometheus::Family<prometheus::Counter>& counterFamily(prometheus::Registry& registry,
                                                       const std::string& name,
                                                       const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

prometheus::Family<prometheus::Gauge>& gaugeFamily(prometheus::Registry& registry,
                                                   const std::string& name,
                                                   const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry);
}

// A gauge without labels.
prometheus::Gauge& gauge(prometheus::Registry& registry, const std::string& name,
                         const std::string& help) {
  return gaugeFamily(registry, name, help).Add({});
}

// From 1 ms to 10 s in steps of about 2.5x: a local broker acks in a few ms, a loaded or remote
// one in tens to hundreds, and retries and linger push the tail into seconds.
const prometheus::Histogram::BucketBoundaries kLatencyBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// The same, and 30 s on top: the default request timeout, which a Fetch held for its MaxWait or a
// JoinGroup held for a rebalance may come close to.
const prometheus::Histogram::BucketBoundaries kRequestBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

prometheus::Labels lagLabels(const std::string& group, const std::string& topic,
                             int32_t partition) {
  return {{"group", group}, {"topic", topic}, {"partition", std::to_string(partition)}};
}

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
      sessions_open_(gauge(*registry_, "kafka_sidecar_consumer_sessions_open",
                           "Consumer sessions created and not closed yet.")),
      lag_(gaugeFamily(*registry_, "kafka_sidecar_consumer_lag_records",
                       "Records between a consumer session's position (the next record it "
                       "takes for delivery) and the partition's high watermark, by group, topic "
                       "and partition; while the session owns the partition.")),
      broker_connections_(gaugeFamily(*registry_, "kafka_sidecar_broker_connections",
                                      "Connections to a broker that are up, by cluster and "
                                      "broker.")),
      broker_connects_(counterFamily(*registry_, "kafka_sidecar_broker_connects_total",
                                     "Connections to a broker established (connected and API "
                                     "versions agreed), by cluster and broker.")),
      broker_disconnects_(counterFamily(*registry_, "kafka_sidecar_broker_disconnects_total",
                                        "Established connections to a broker that dropped or "
                                        "were closed, by cluster and broker.")),
      broker_connect_failures_(
          counterFamily(*registry_, "kafka_sidecar_broker_connect_failures_total",
                        "Attempts to connect to a broker that failed, by cluster and broker.")),
      broker_in_flight_(gaugeFamily(*registry_, "kafka_sidecar_broker_requests_in_flight",
                                    "Requests written to a broker and awaiting their response, "
                                    "by cluster and broker.")),
      request_latency_(prometheus::BuildHistogram()
                           .Name("kafka_sidecar_broker_request_latency_seconds")
                           .Help("Seconds from writing a Kafka request to its response, by "
                                 "cluster and API; a Fetch includes the time the broker held "
                                 "it (its MaxWait).")
                           .Register(*registry_)),
      request_errors_(counterFamily(*registry_, "kafka_sidecar_broker_request_errors_total",
                                    "Kafka requests that got no response (timed out, their "
                                    "connection failed, or no version could be agreed), by "
                                    "cluster and API.")),
      producer_buffer_(gauge(*registry_, "kafka_sidecar_producer_buffer_bytes",
                             "Bytes of records the producers hold, waiting to be sent or "
                             "awaiting their acknowledgement (bounded by buffer.memory per "
                             "producer).")),
      grpc_requests_(counterFamily(*registry_, "kafka_sidecar_grpc_requests_total",
                                   "Calls of the sidecar's gRPC methods, by method and status "
                                   "code; REST requests count here too, as the gRPC calls they "
                                   "make.")),
      http_requests_(counterFamily(*registry_, "kafka_sidecar_http_requests_total",
                                   "HTTP requests answered, by route template and status "
                                   "code.")) {}

Metrics::ProduceCounters Metrics::produce(const std::string& topic) {
  const prometheus::Labels labels{{"topic", topic}};
  return {produce_records_.Add(labels), produce_bytes_.Add(labels), produce_errors_.Add(labels)};
}

Metrics::SessionCounters Metrics::session(const std::string& group) {
  const prometheus::Labels labels{{"group", group}};
  return {delivered_.Add(labels), acked_.Add(labels), redelivered_.Add(labels),
          rebalances_.Add(labels), ConsumerLag(*this, group)};
}

void Metrics::ConsumerLag::set(const std::string& topic, int32_t partition, int64_t lag) const {
  std::lock_guard lock(metrics_.lag_mutex_);
  metrics_.lag_.Add(lagLabels(group_, topic, partition)).Set(static_cast<double>(lag));
}

void Metrics::ConsumerLag::remove(const std::string& topic, int32_t partition) const {
  std::lock_guard lock(metrics_.lag_mutex_);
  metrics_.lag_.Remove(&metrics_.lag_.Add(lagLabels(group_, topic, partition)));
}

Metrics::BrokerSeries Metrics::broker(const std::string& cluster, const std::string& broker) {
  const prometheus::Labels labels{{"cluster", cluster}, {"broker", broker}};
  return {broker_connections_.Add(labels), broker_connects_.Add(labels),
          broker_disconnects_.Add(labels), broker_connect_failures_.Add(labels),
          broker_in_flight_.Add(labels)};
}

Metrics::RequestSeries Metrics::request(const std::string& cluster, const std::string& api) {
  const prometheus::Labels labels{{"cluster", cluster}, {"api", api}};
  return {request_latency_.Add(labels, kRequestBuckets), request_errors_.Add(labels)};
}

prometheus::Counter& Metrics::grpcRequests(const std::string& method, const std::string& code) {
  return grpc_requests_.Add({{"method", method}, {"code", code}});
}

prometheus::Counter& Metrics::httpRequests(const std::string& route, unsigned status) {
  return http_requests_.Add({{"route", route}, {"code", std::to_string(status)}});
}

std::string Metrics::scrape() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace kafka::sidecar
