// AckTracker: which records of one partition the application has acknowledged, and so which
// offset may be committed for it.
//
// Records are delivered in offset order (with gaps: compacted records, transaction markers and
// aborted records are never delivered) and acked in any order. The committable offset is the
// first delivered offset not yet acked, or, once all are acked, one past the last offset
// delivered or skipped: the offset a restarted consumer would continue from without losing an
// unacked record. Acking an offset that was never delivered is an error naming it; acking one
// twice is harmless. Offsets below committable() are forgotten, so an ack of one of them (at or
// after the starting position) is taken as such a repeat.
//
// Memory is proportional to the records delivered and not yet committable. Plain data, no
// executor: owned by one consumer session, used on its strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include "client_core/protocol/result.hpp"

namespace kafka::sidecar {

class AckTracker {
 public:
  // `position`: the partition's starting point (its committed offset, or where the reset put
  // it); committable() starts there.
  explicit AckTracker(int64_t position);

  // `offset` was delivered. Offsets must increase from one call to the next and be at or after
  // the position; an offset that does not is an error (kInvalidArgument) and changes nothing.
  Result<void> delivered(int64_t offset);
  // Delivery moved on to `offset` without delivering what lies before it (skipped records):
  // once everything delivered is acked, committable() reaches it. An offset before where
  // delivery already is changes nothing.
  void skippedTo(int64_t offset);
  // The app acked `offset`. kInvalidArgument naming the offset when it was never delivered.
  Result<void> ack(int64_t offset);

  int64_t committable() const;
  size_t unacked() const { return unacked_; }

 private:
  int64_t start_;                // the position given at construction
  std::deque<int64_t> offsets_;  // delivered and not yet below committable(); front unacked
  std::deque<bool> acked_;       // parallel to offsets_
  int64_t next_position_;        // one past the last delivered or skipped offset
  size_t unacked_ = 0;
};

}  // namespace kafka::sidecar
