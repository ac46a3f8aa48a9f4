// OffsetQueue<T>: values kept by increasing offset, appended at the back and removed from
// anywhere: the records of a partition delivered and not yet acked.
//
// Acks come mostly in delivery order, so lookups try the front first and otherwise search.
// A removal in the middle leaves a hole that is dropped once it reaches the front, and the
// holes are swept out whenever they outnumber the values: lookups stay O(log n), removals
// amortized O(1), and memory stays within about twice what is held, however the acks are
// ordered and however long the oldest value stays.
//
// Plain data, no executor; used on its owner's strand.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <utility>

namespace kafka::sidecar {

template <class T>
class OffsetQueue {
 public:
  bool empty() const { return live_ == 0; }
  size_t size() const { return live_; }
  // The lowest offset held; the queue must not be empty.
  int64_t frontOffset() const { return entries_.front().offset; }

  // Appends `offset`, which must be above every offset held.
  T& push(int64_t offset) {
    ++live_;
    return entries_.emplace_back(Entry{offset, T{}, true}).value;
  }

  // The value held at `offset`, or null.
  T* find(int64_t offset) {
    auto found = locate(offset);
    return found == entries_.end() ? nullptr : &found->value;
  }

  // Removes the value at `offset`; false when none is held there.
  bool remove(int64_t offset) {
    auto found = locate(offset);
    if (found == entries_.end()) return false;
    found->live = false;
    found->value = T{};
    --live_;
    while (!entries_.empty() && !entries_.front().live) entries_.pop_front();
    if (entries_.size() > kMinSweep && entries_.size() > 2 * live_) {
      std::erase_if(entries_, [](const Entry& entry) { return !entry.live; });
    }
    return true;
  }

  // Entries kept, holes included.
  size_t slotsForTest() const { return entries_.size(); }

  void clear() {
    entries_.clear();
    live_ = 0;
  }

  // Calls visit(offset, value) for the values at `from` and above, in order, while it returns
  // true.
  template <class Visit>
  void visitFrom(int64_t from, Visit visit) {
    auto entry = std::lower_bound(entries_.begin(), entries_.end(), from, before);
    for (; entry != entries_.end(); ++entry) {
      if (entry->live && !visit(entry->offset, entry->value)) return;
    }
  }
  template <class Visit>
  void visit(Visit visit) {
    for (Entry& entry : entries_) {
      if (entry.live && !visit(entry.offset, entry.value)) return;
    }
  }

 private:
  struct Entry {
    int64_t offset;
    T value;
    bool live;
  };
  static constexpr size_t kMinSweep = 64;

  static bool before(const Entry& entry, int64_t offset) { return entry.offset < offset; }

  typename std::deque<Entry>::iterator locate(int64_t offset) {
    if (!entries_.empty() && entries_.front().offset == offset) return entries_.begin();
    auto found = std::lower_bound(entries_.begin(), entries_.end(), offset, before);
    return found != entries_.end() && found->offset == offset && found->live ? found
                                                                             : entries_.end();
  }

  std::deque<Entry> entries_;
  size_t live_ = 0;
};

}  // namespace kafka::sidecar
