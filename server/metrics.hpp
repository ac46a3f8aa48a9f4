// Metrics: the daemon's Prometheus metrics, one prometheus::Registry, and their text exposition
// for GET /metrics (served by our HttpServer, not by prometheus-cpp's own exposer).
//
// Every name starts with kafka_sidecar_; counters end with _total, durations are in seconds and
// sizes in bytes. Labels are `topic` (producer metrics) and `group` (consumer metrics) only, to
// keep the number of series bounded by what the applications use.
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

#include <memory>
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

  // The series of one consumer group, for a session of it.
  struct SessionCounters {
    prometheus::Counter& delivered;
    prometheus::Counter& acked;
    prometheus::Counter& redelivered;
    prometheus::Counter& rebalances;
  };
  SessionCounters session(const std::string& group);
  prometheus::Gauge& sessionsOpen() { return sessions_open_; }

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
};

}  // namespace kafka::sidecar
