// DirectClient: our client core used below the producer, to see and write the raw batches of a
// partition: it fetches a partition's batches and decodes them with CRC checks, and produces
// ready-made batches. The interop tests use it where only the bytes on the broker can tell
// (which codec a batch has), or to write batches of our own building.
//
// Owns an io_context run on its own thread and a Cluster on it. Blocking calls with bounded
// waits, from the test thread; failures are reported as gtest failures. Destroy it before the
// broker goes away, so that its connections close first.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/protocol/codec.hpp"
#include "client_core/record/compression.hpp"
#include "tests/interop/peer_record.hpp"

namespace kafka::interop {

class DirectClient {
 public:
  // `bootstrap`: "host:port,...".
  explicit DirectClient(const std::string& bootstrap);
  ~DirectClient();
  DirectClient(const DirectClient&) = delete;
  DirectClient& operator=(const DirectClient&) = delete;

  // Fetches partition 0 of `topic` from offset 0 until `count` records arrived, decoding every
  // batch with CRC checks. The codecs of the batches seen go to `codecs`.
  std::vector<PeerRecord> fetchRecords(const std::string& topic, size_t count,
                                       std::set<record::Compression>& codecs);

  // Produces one batch to partition 0 of `topic` with acks=-1; returns its base offset.
  int64_t produceBatch(const std::string& topic, protocol::Bytes batch);

 private:
  // The connection to the leader of partition 0 of `topic`, found through metadata.
  std::shared_ptr<net::BrokerConnection> leaderOf(const std::string& topic,
                                                  ConnectionPurpose purpose);
  template <protocol::ApiDefinition A>
  Result<typename A::Response> send(const std::shared_ptr<net::BrokerConnection>& connection,
                                    typename A::Request request);

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<Cluster> cluster_;
};

}  // namespace kafka::interop
