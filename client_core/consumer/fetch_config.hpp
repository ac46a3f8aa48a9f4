// Settings of a Fetcher. Names follow Kafka's consumer configuration where they mean the same
// thing; defaults follow Kafka's Java client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace kafka::consumer {

struct FetchConfig {
  // fetch.max.wait.ms: how long a broker may hold a Fetch that has less than min_bytes for it.
  std::chrono::milliseconds max_wait{500};
  // How long a broker may hold a Fetch while partitions it answered with records have not been
  // asked for again (for at most max_wait): their consumers are about to ask, from offsets that
  // have records, and a Fetch held for max_wait would keep those wants waiting behind it.
  std::chrono::milliseconds busy_max_wait{10};
  // fetch.min.bytes
  int32_t min_bytes = 1;
  // fetch.max.bytes: the most one Fetch response may carry (a first batch larger than this is
  // still returned whole, so that no partition can get stuck).
  int32_t max_bytes = 50 * 1024 * 1024;
  // max.partition.fetch.bytes: the default for one partition in one response.
  int32_t partition_max_bytes = 1024 * 1024;
  // Bytes of fetched records, across every consumer of the fetcher, handed out and not yet
  // released. While it is reached, no Fetch is sent.
  size_t max_buffered_bytes = 256 * 1024 * 1024;
};

}  // namespace kafka::consumer
