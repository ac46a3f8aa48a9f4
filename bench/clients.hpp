// The three producers the benchmark compares, all with the same settings: acks=all, idempotence,
// linger 5 ms, batches of up to 1,000,000 bytes, 64 MiB of buffered records, a 120 s delivery
// timeout, the workload's compression, keyless records spread by sticky partitioning. These are
// ProducerConfig's defaults, which client_core and the sidecar keep; librdkafka is told them.
//
//   librdkafka   the C API of Debian's librdkafka, the baseline
//   client_core  our kafka::producer::Producer, called directly
//   sidecar      the daemon in this process, driven over gRPC with ProduceStream
#pragma once

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

}  // namespace kafka::bench
