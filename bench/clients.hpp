// The clients the benchmarks compare:
//
//   librdkafka   the C API of Debian's librdkafka, the baseline
//   client_core  our kafka::producer::Producer or kafka::consumer::Consumer, called directly
//   sidecar      the daemon in this process, driven over gRPC: ProduceStream, or
//                Consumer.Subscribe
//   grpc_only    (consume_bench, when named) the sidecar's client against a bare gRPC server
//                that streams the records from memory: what the transport alone allows
//
// The producers all have the same settings: acks=all, idempotence, linger 5 ms, batches of up to
// 1,000,000 bytes, 64 MiB of buffered records, a 120 s delivery timeout, the workload's
// compression, keyless records spread by sticky partitioning. These are ProducerConfig's
// defaults, which client_core and the sidecar keep; librdkafka is told them.
//
// The consumers too: every partition assigned by hand (no group join) from its beginning,
// fetches of up to 50 MiB per response and 1 MiB per partition, a broker wait of up to 500 ms
// (unless consume_bench is told otherwise) for at least 1 byte, 8 MiB of records fetched ahead,
// CRCs checked, nothing committed. These are
// FetchConfig's and ConsumerConfig's defaults (the prefetch bound included), which client_core
// and the sidecar keep; librdkafka is told them.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "bench/bench_support.hpp"

namespace kafka::bench {

// `bootstraps`: "host:port,...". `io_threads`: threads running the client's io_context (the
// daemon's --threads for the sidecar). librdkafka and client_core make a fresh producer for every
// run. The sidecar's daemon is started here (throwing std::runtime_error if it cannot), serves
// every run with the producers it keeps, and is stopped when the client is destroyed.
std::unique_ptr<BenchClient> makeLibrdkafkaClient(std::string bootstraps);
std::unique_ptr<BenchClient> makeClientCoreClient(std::string bootstraps, unsigned io_threads);
std::unique_ptr<BenchClient> makeSidecarClient(std::string bootstraps, unsigned io_threads);

// Consumers, made the same way: librdkafka and client_core make a fresh consumer for every run;
// the sidecar's daemon serves every run, each with a session of its own. `fetch_wait`: how long
// a broker may hold a Fetch with no data (fetch.wait.max.ms); the daemon has no setting for it
// and keeps FetchConfig's 500 ms.
std::unique_ptr<ConsumeClient> makeLibrdkafkaConsumer(std::string bootstraps,
                                                      std::chrono::milliseconds fetch_wait);
std::unique_ptr<ConsumeClient> makeClientCoreConsumer(std::string bootstraps, unsigned io_threads,
                                                      std::chrono::milliseconds fetch_wait);
std::unique_ptr<ConsumeClient> makeSidecarConsumer(std::string bootstraps, unsigned io_threads);
// The sidecar's client against a bare gRPC server that streams each run's records from memory,
// encoded as the daemon encodes them (prepareRun() encodes them): the transport's ceiling.
std::unique_ptr<ConsumeClient> makeGrpcOnlyConsumer();

// Writes spec.workload to spec.topic with our producer (for consume_bench), record i to
// partition i % partitions, in batches of up to `batch_bytes` that are given time to fill.
// Throws std::runtime_error unless every record was delivered.
void loadTopic(const std::string& bootstraps, unsigned io_threads, const RunSpec& spec,
               int partitions, size_t batch_bytes);

}  // namespace kafka::bench
