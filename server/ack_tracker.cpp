#include "server/ack_tracker.hpp"

#include <algorithm>
#include <limits>
#include <string>

namespace kafka::sidecar {

AckTracker::AckTracker(int64_t position) : start_(position), next_position_(position) {}

Result<void> AckTracker::delivered(int64_t offset) {
  if (offset < next_position_) {
    return Error{ErrorCode::kInvalidArgument, "offset " + std::to_string(offset) +
                                                  " delivered, but delivery is already at " +
                                                  std::to_string(next_position_)};
  }
  // The offset after it must exist too.
  if (offset == std::numeric_limits<int64_t>::max()) {
    return Error{ErrorCode::kInvalidArgument,
                 "offset " + std::to_string(offset) + " cannot be delivered: no offset follows it"};
  }
  offsets_.push_back(offset);
  acked_.push_back(false);
  next_position_ = offset + 1;
  ++unacked_;
  return {};
}

void AckTracker::skippedTo(int64_t offset) {
  next_position_ = std::max(next_position_, offset);
}

Result<void> AckTracker::ack(int64_t offset) {
  // In-order acks hit the front; others are found by binary search, offsets being increasing.
  auto it = !offsets_.empty() && offsets_.front() == offset
                ? offsets_.begin()
                : std::lower_bound(offsets_.begin(), offsets_.end(), offset);
  if (it == offsets_.end() || *it != offset) {
    if (offset >= start_ && offset < committable()) return {};
    return Error{ErrorCode::kInvalidArgument,
                 "offset " + std::to_string(offset) + " was never delivered"};
  }
  auto acked = acked_.begin() + (it - offsets_.begin());
  if (*acked) return {};
  *acked = true;
  --unacked_;
  while (!acked_.empty() && acked_.front()) {
    offsets_.pop_front();
    acked_.pop_front();
  }
  return {};
}

int64_t AckTracker::committable() const {
  return offsets_.empty() ? next_position_ : offsets_.front();
}

}  // namespace kafka::sidecar
