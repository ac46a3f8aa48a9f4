// kafka::Error and kafka::Result<T>: the error-or-value type used on every I/O and decode path,
// where exceptions are not used.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include "client_core/protocol/error.hpp"

namespace kafka {

// An error code plus a message naming what was wrong (topic, partition, field, offset...).
struct Error {
  ErrorCode code = ErrorCode::kNone;
  std::string message;

  // "NOT_LEADER_OR_FOLLOWER: topic orders partition 3" style text for logs and apps.
  std::string toString() const;
  ErrorAction action() const { return errorAction(code); }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const Error& error() const { return std::get<1>(state_); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success or an Error.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT: implicit

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace kafka
