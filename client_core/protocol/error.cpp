#include "client_core/protocol/error.hpp"

#include "client_core/protocol/result.hpp"

namespace kafka {

std::string errorName(ErrorCode code) {
  return "ERROR(" + std::to_string(static_cast<int>(code)) + ")";
}

std::string_view errorDescription(ErrorCode) { return "error"; }

ErrorInfo errorInfo(ErrorCode code) {
  if (code == ErrorCode::kNone) return {ErrorAction::kNone, false};
  return {ErrorAction::kFatalToRequest, true};
}

std::string_view actionName(ErrorAction) { return "action"; }

namespace {
class KafkaCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }
  std::string message(int code) const override { return errorName(static_cast<ErrorCode>(code)); }
};
}  // namespace

const std::error_category& kafkaCategory() {
  static const KafkaCategory category;
  return category;
}

std::string Error::toString() const {
  if (message.empty()) return errorName(code);
  return errorName(code) + ": " + message;
}

}  // namespace kafka
