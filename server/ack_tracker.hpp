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
// Memory is bounded however long a record stays unacked: it is proportional to the unacked
// records, plus up to kMaxRuns runs of consecutive delivered offsets (to tell a repeated ack from
// one of an offset never delivered). Runs beyond that, which only gaps in the offsets make (a
// compacted topic, transaction markers), merge the oldest: an ack inside a forgotten gap is then
// taken as a repeat. Plain data, no executor: owned by one consumer session, used on its strand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <variant>

#include "client_core/protocol/result.hpp"
#include "server/offset_queue.hpp"

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
  size_t unacked() const { return unacked_.size(); }

  static constexpr size_t kMaxRuns = 1024;

 private:
  struct Run {
    int64_t first;
    int64_t last;
  };

  bool wasDelivered(int64_t offset) const;

  int64_t start_;  // the position given at construction
  OffsetQueue<std::monostate> unacked_;
  std::deque<Run> delivered_;  // ending at or above committable()
  int64_t next_position_;      // one past the last delivered or skipped offset
};

}  // namespace kafka::sidecar
