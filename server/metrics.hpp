// Metrics: the daemon's Prometheus metrics, one prometheus::Registry, and their text exposition
// for GET /metrics (served by our HttpServer, not by prometheus-cpp's own exposer).
//
// Every name starts with kafka_sidecar_; counters end with _total, durations are in seconds and
// sizes in bytes. Every label takes a bounded set of values:
// - `topic`, `group`: the topics and groups the applications use;
// - `partition` (consumer lag, with group and topic): the partitions a session owns; a series is
//   removed when its partition is revoked or lost, or its session closes;
// - `cluster`, `broker`: the configured clusters and their brokers' node ids ("bootstrap" for
//   the configured bootstrap addresses);
// - `api`: the Kafka API names the client core speaks ("Fetch"), with the cluster only;
// - `method`: the sidecar's own gRPC methods, full names ("/kafka.sidecar.v1.Producer/Produce"),
//   and "unknown" for a name the services do not define;
// - `route`: the HTTP routes' templates ("POST /v1/topics/{topic}/records"), never raw paths,
//   and "unmatched" for every request that matches none;
// - `code`: gRPC status names, or HTTP status codes.
//
// Owned by the Daemon (or a test), which keeps it alive for as long as the services and sessions
// that count into it. Thread-safe: prometheus-cpp metrics may be updated from any thread, and
// looking up a labelled series takes a lock in its family, so hot paths look series up once and
// keep the references (a series lives as long as the registry).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace kafka::sidecar {

class Metrics {
 public:
  // The content type of scrape()'s text, Prometheus' text exposition format 0.0.4.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The series of one topic, for the outcomes of produced records.
  struct ProduceCounters {
    prometheus::Counter& records;  // delivered to Kafka
    prometheus::Counter& bytes;    // key + value bytes of those
    prometheus::Counter& errors;   // failed or refused
  };
  ProduceCounters produce(const std::string& topic);
  // Seconds from a produce request (or stream message) arriving to its record's outcome.
  prometheus::Histogram& produceLatency() { return produce_latency_; }

  // The lag series of one consumer group's partitions. Sessions of one group may hand a
  // partition to each other, so the series are set and removed by name under a lock, never
  // through a kept reference that another session could remove.
  class ConsumerLag {
   public:
    ConsumerLag(Metrics& metrics, std::string group)
        : metrics_(metrics), group_(std::move(group)) {}
    void set(const std::string& topic, int32_t partition, int64_t lag) const;
    void remove(const std::string& topic, int32_t partition) const;

   private:
    Metrics& metrics_;
    std::string group_;
  };

  // The series of one consumer group, for a session of it.
  struct SessionCounters {
    prometheus::Counter& delivered;
    prometheus::Counter& acked;
    prometheus::Counter& redelivered;
    prometheus::Counter& rebalances;
    ConsumerLag lag;
  };
  SessionCounters session(const std::string& group);
  prometheus::Gauge& sessionsOpen() { return sessions_open_; }

  // The series of one broker of one cluster (see BrokerMetrics).
  struct BrokerSeries {
    prometheus::Gauge& connections;  // up now
    prometheus::Counter& connects;
    prometheus::Counter& disconnects;
    prometheus::Counter& connect_failures;
    prometheus::Gauge& in_flight;  // requests written and awaiting their response
  };
  BrokerSeries broker(const std::string& cluster, const std::string& broker);
  // The series of one Kafka API on one cluster.
  struct RequestSeries {
    prometheus::Histogram& latency;  // seconds from write to response
    prometheus::Counter& errors;     // requests that got no response
  };
  RequestSeries request(const std::string& cluster, const std::string& api);

  // Bytes of records the producers hold; set from ProducerPool::bufferedBytes() at each scrape.
  prometheus::Gauge& producerBufferBytes() { return producer_buffer_; }

  // A call of gRPC method `method` ended with status `code` ("OK", "NOT_FOUND").
  prometheus::Counter& grpcRequests(const std::string& method, const std::string& code);
  // An HTTP request of `route` (a template, or "unmatched") was answered with `status`.
  prometheus::Counter& httpRequests(const std::string& route, unsigned status);

  // Every metric, in the text exposition format.
  std::string scrape() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& produce_records_;
  prometheus::Family<prometheus::Counter>& produce_bytes_;
  prometheus::Family<prometheus::Counter>& produce_errors_;
  prometheus::Histogram& produce_latency_;
  prometheus::Family<prometheus::Counter>& delivered_;
  prometheus::Family<prometheus::Counter>& acked_;
  prometheus::Family<prometheus::Counter>& redelivered_;
  prometheus::Family<prometheus::Counter>& rebalances_;
  prometheus::Gauge& sessions_open_;
  prometheus::Family<prometheus::Gauge>& lag_;
  std::mutex lag_mutex_;  // orders setting and removing lag series
  prometheus::Family<prometheus::Gauge>& broker_connections_;
  prometheus::Family<prometheus::Counter>& broker_connects_;
  prometheus::Family<prometheus::Counter>& broker_disconnects_;
  prometheus::Family<prometheus::Counter>& broker_connect_failures_;
  prometheus::Family<prometheus::Gauge>& broker_in_flight_;
  prometheus::Family<prometheus::Histogram>& request_latency_;
  prometheus::Family<prometheus::Counter>& request_errors_;
  prometheus::Gauge& producer_buffer_;
  prometheus::Family<prometheus::Counter>& grpc_requests_;
  prometheus::Family<prometheus::Counter>& http_requests_;
};

}  // namespace kafka::sidecar
