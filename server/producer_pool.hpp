// ProducerPool: the daemon's Kafka producers. Each cluster gets one producer per distinct
// effective settings (the daemon's defaults with a call's acks and compression applied), created
// on first use and shared by every call that asks for the same: batching works best when the
// records of all callers meet in one producer. acks and compression each have a handful of
// values, so a cluster never has more than a few producers.
//
// Owned by the Daemon, which closes it at shutdown before the clusters stop, and outlives every
// producer's close handler (the I/O threads are joined first). Any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>

#include "client_core/cluster/cluster.hpp"
#include "client_core/producer/producer.hpp"

namespace kafka::sidecar {

// What one call may change of the daemon's producer settings; nullopt keeps the default.
struct ProducerOverrides {
  std::optional<producer::Acks> acks;
  std::optional<record::Compression> compression;
};

class ProducerPool {
 public:
  ProducerPool(boost::asio::any_io_executor executor, producer::ProducerConfig defaults);

  // The producer of `cluster` for these overrides, created on first use. kShuttingDown once
  // close() has begun; kInvalidArgument, naming the setting, when the overrides do not fit the
  // defaults.
  Result<std::shared_ptr<producer::Producer>> producerFor(const std::shared_ptr<Cluster>& cluster,
                                                          const ProducerOverrides& overrides);

  // Bytes of records the producers hold now, waiting or in batches.
  size_t bufferedBytes() const;

  // Refuses new producers and starts closing every producer: each sends what it holds at once
  // and, after `timeout`, fails what is left with SHUTTING_DOWN. Idempotent.
  void startClose(std::chrono::milliseconds timeout);
  // After startClose(): blocks until every producer has reported all its records, or `limit` has
  // passed; false in that case. Call from a thread that is not an I/O thread.
  bool waitClosed(std::chrono::milliseconds limit);

 private:
  // The cluster's name and the effective acks and compression.
  using Key = std::tuple<std::string, producer::Acks, record::Compression>;

  const boost::asio::any_io_executor executor_;
  const producer::ProducerConfig defaults_;

  mutable std::mutex mutex_;  // guards the members below
  std::condition_variable closed_;
  std::map<Key, std::shared_ptr<producer::Producer>> producers_;
  bool closing_ = false;
  size_t closing_producers_ = 0;  // closing, and not done yet
};

}  // namespace kafka::sidecar
