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
  unacked_.push(offset);
  if (!delivered_.empty() && delivered_.back().last + 1 == offset) {
    delivered_.back().last = offset;
  } else {
    delivered_.push_back({offset, offset});
    if (delivered_.size() > kMaxRuns) {
      delivered_[1].first = delivered_[0].first;
      delivered_.pop_front();
    }
  }
  next_position_ = offset + 1;
  return {};
}

void AckTracker::skippedTo(int64_t offset) {
  next_position_ = std::max(next_position_, offset);
}

Result<void> AckTracker::ack(int64_t offset) {
  if (unacked_.remove(offset)) {
    const int64_t below = committable();
    while (!delivered_.empty() && delivered_.front().last < below) delivered_.pop_front();
    return {};
  }
  if (offset >= start_ && offset < committable()) return {};
  if (wasDelivered(offset)) return {};
  return Error{ErrorCode::kInvalidArgument,
               "offset " + std::to_string(offset) + " was never delivered"};
}

bool AckTracker::wasDelivered(int64_t offset) const {
  auto run = std::lower_bound(delivered_.begin(), delivered_.end(), offset,
                              [](const Run& candidate, int64_t wanted) {
                                return candidate.last < wanted;
                              });
  return run != delivered_.end() && run->first <= offset;
}

int64_t AckTracker::committable() const {
  return unacked_.empty() ? next_position_ : unacked_.frontOffset();
}

}  // namespace kafka::sidecar
