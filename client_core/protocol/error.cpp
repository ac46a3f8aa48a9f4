#include "client_core/protocol/error.hpp"

#include <optional>

#include "client_core/protocol/result.hpp"

namespace kafka {

namespace {

struct Entry {
  std::string_view name;
  std::string_view description;
  ErrorInfo info;
};

// The table row of a code, or nothing for a code the table does not list. The switch also makes
// the compiler reject a value listed twice.
std::optional<Entry> findEntry(ErrorCode code) {
  switch (code) {
#define KAFKA_ERROR_ENTRY(name, value, wire_name, action, written, description) \
  case ErrorCode::name:                                                         \
    return Entry{wire_name, description, {ErrorAction::action, written}};
    KAFKA_ERROR_CODES(KAFKA_ERROR_ENTRY)
#undef KAFKA_ERROR_ENTRY
  }
  return std::nullopt;
}

class KafkaCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }
  std::string message(int code) const override {
    auto error = static_cast<ErrorCode>(code);
    return errorName(error) + ": " + std::string(errorDescription(error));
  }
};

}  // namespace

std::string errorName(ErrorCode code) {
  if (auto entry = findEntry(code)) return std::string(entry->name);
  return "UNKNOWN_ERROR_CODE(" + std::to_string(static_cast<int32_t>(code)) + ")";
}

std::string_view errorDescription(ErrorCode code) {
  if (auto entry = findEntry(code)) return entry->description;
  return "An error code this client does not know";
}

ErrorInfo errorInfo(ErrorCode code) {
  if (auto entry = findEntry(code)) return entry->info;
  return {ErrorAction::kFatalToRequest, true};
}

std::string_view actionName(ErrorAction action) {
  switch (action) {
    case ErrorAction::kNone:
      return "none";
    case ErrorAction::kRetry:
      return "retry";
    case ErrorAction::kRefreshMetadata:
      return "refresh metadata";
    case ErrorAction::kFindCoordinator:
      return "find coordinator";
    case ErrorAction::kRejoinGroup:
      return "rejoin group";
    case ErrorAction::kFatalToRequest:
      return "fatal to request";
    case ErrorAction::kFatalToSession:
      return "fatal to session";
  }
  return "unknown action";
}

const std::error_category& kafkaCategory() {
  static const KafkaCategory category;
  return category;
}

std::string Error::toString() const {
  if (message.empty()) return errorName(code);
  return errorName(code) + ": " + message;
}

}  // namespace kafka
