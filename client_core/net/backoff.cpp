#include "client_core/net/backoff.hpp"

#include <algorithm>

namespace kafka::net {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max)
    : base_(std::max(base, std::chrono::milliseconds(1))),
      max_(std::max(max, base_)),
      random_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
  const uint32_t shift = std::min<uint32_t>(attempt_, 20);
  ++attempt_;
  const int64_t ceiling = std::min<int64_t>(max_.count(), base_.count() << shift);
  const int64_t floor = std::min<int64_t>(ceiling, std::max<int64_t>(1, base_.count() / 2));
  std::uniform_int_distribution<int64_t> pick(floor, ceiling);
  return std::chrono::milliseconds(pick(random_));
}

}  // namespace kafka::net
