#include "client_core/protocol/error.hpp"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "client_core/protocol/result.hpp"

namespace kafka {
namespace {

std::vector<ErrorCode> allCodes() {
  return {
#define KAFKA_ERROR_LIST_ENTRY(name, value, wire_name, action, written, description) \
  ErrorCode::name,
      KAFKA_ERROR_CODES(KAFKA_ERROR_LIST_ENTRY)
#undef KAFKA_ERROR_LIST_ENTRY
  };
}

TEST(ErrorTest, NamesAndNumbersMatchTheProtocol) {
  struct Expected {
    ErrorCode code;
    int32_t number;
    const char* name;
  };
  const Expected expected[] = {
      {ErrorCode::kUnknownServerError, -1, "UNKNOWN_SERVER_ERROR"},
      {ErrorCode::kNone, 0, "NONE"},
      {ErrorCode::kUnknownTopicOrPartition, 3, "UNKNOWN_TOPIC_OR_PARTITION"},
      {ErrorCode::kNotLeaderOrFollower, 6, "NOT_LEADER_OR_FOLLOWER"},
      {ErrorCode::kNotCoordinator, 16, "NOT_COORDINATOR"},
      {ErrorCode::kNotEnoughReplicasAfterAppend, 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND"},
      {ErrorCode::kUnsupportedVersion, 35, "UNSUPPORTED_VERSION"},
      {ErrorCode::kKafkaStorageError, 56, "KAFKA_STORAGE_ERROR"},
      {ErrorCode::kMemberIdRequired, 79, "MEMBER_ID_REQUIRED"},
      {ErrorCode::kGroupMaxSizeReached, 81, "GROUP_MAX_SIZE_REACHED"},
      {ErrorCode::kFencedInstanceId, 82, "FENCED_INSTANCE_ID"},
      {ErrorCode::kEligibleLeadersNotAvailable, 83, "ELIGIBLE_LEADERS_NOT_AVAILABLE"},
      {ErrorCode::kProducerFenced, 90, "PRODUCER_FENCED"},
      {ErrorCode::kPositionOutOfRange, 99, "POSITION_OUT_OF_RANGE"},
      {ErrorCode::kUnknownTopicId, 100, "UNKNOWN_TOPIC_ID"},
      {ErrorCode::kTransactionAbortable, 120, "TRANSACTION_ABORTABLE"},
      {ErrorCode::kInvalidRegularExpression, 128, "INVALID_REGULAR_EXPRESSION"},
      {ErrorCode::kShareSessionLimitReached, 133, "SHARE_SESSION_LIMIT_REACHED"},
  };
  for (const Expected& e : expected) {
    EXPECT_EQ(static_cast<int32_t>(e.code), e.number) << e.name;
    EXPECT_EQ(errorName(e.code), e.name);
    EXPECT_EQ(errorName(fromWire(static_cast<int16_t>(e.number))), e.name);
  }
}

TEST(ErrorTest, EveryKafkaCodeUpToTheNewestIsListed) {
  for (int16_t wire = -1; wire <= 133; ++wire) {
    EXPECT_EQ(errorName(fromWire(wire)).rfind("UNKNOWN_ERROR_CODE", 0), std::string::npos)
        << "wire code " << wire;
  }
}

TEST(ErrorTest, EveryCodeHasANameAndADescription) {
  std::vector<ErrorCode> codes = allCodes();
  EXPECT_EQ(codes.size(), 135u + 12u);  // Kafka's -1..133, then our twelve
  std::set<std::string> names;
  for (ErrorCode code : codes) {
    std::string name = errorName(code);
    EXPECT_FALSE(name.empty()) << static_cast<int32_t>(code);
    EXPECT_EQ(name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_"), std::string::npos) << name;
    EXPECT_FALSE(errorDescription(code).empty()) << name;
    EXPECT_TRUE(names.insert(name).second) << name << " is used twice";
    EXPECT_EQ(errorInfo(code).action == ErrorAction::kNone, code == ErrorCode::kNone) << name;
  }
}

TEST(ErrorTest, ClientCodesKeepTheirValues) {
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kTransport), -100);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kRequestTimedOutLocally), -101);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kMalformedMessage), -102);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kUnsupportedApi), -103);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kInvalidArgument), -104);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kShuttingDown), -105);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kTooManyInFlight), -106);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoBrokerAvailable), -107);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kUnknownCluster), -108);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kFrameTooLarge), -109);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kDeliveryTimedOut), -110);
  EXPECT_EQ(static_cast<int32_t>(ErrorCode::kNoOffsetToStartFrom), -111);
}

TEST(ErrorTest, RepresentativeCodesHaveTheirActions) {
  EXPECT_EQ(errorAction(ErrorCode::kNone), ErrorAction::kNone);
  EXPECT_EQ(errorAction(ErrorCode::kRequestTimedOut), ErrorAction::kRetry);
  EXPECT_EQ(errorAction(ErrorCode::kNotEnoughReplicas), ErrorAction::kRetry);
  EXPECT_EQ(errorAction(ErrorCode::kCoordinatorLoadInProgress), ErrorAction::kRetry);
  EXPECT_EQ(errorAction(ErrorCode::kThrottlingQuotaExceeded), ErrorAction::kRetry);
  EXPECT_EQ(errorAction(ErrorCode::kNotLeaderOrFollower), ErrorAction::kRefreshMetadata);
  EXPECT_EQ(errorAction(ErrorCode::kUnknownTopicOrPartition), ErrorAction::kRefreshMetadata);
  EXPECT_EQ(errorAction(ErrorCode::kLeaderNotAvailable), ErrorAction::kRefreshMetadata);
  EXPECT_EQ(errorAction(ErrorCode::kFencedLeaderEpoch), ErrorAction::kRefreshMetadata);
  EXPECT_EQ(errorAction(ErrorCode::kUnknownLeaderEpoch), ErrorAction::kRefreshMetadata);
  EXPECT_EQ(errorAction(ErrorCode::kNotCoordinator), ErrorAction::kFindCoordinator);
  EXPECT_EQ(errorAction(ErrorCode::kCoordinatorNotAvailable), ErrorAction::kFindCoordinator);
  EXPECT_EQ(errorAction(ErrorCode::kUnknownMemberId), ErrorAction::kRejoinGroup);
  EXPECT_EQ(errorAction(ErrorCode::kIllegalGeneration), ErrorAction::kRejoinGroup);
  EXPECT_EQ(errorAction(ErrorCode::kRebalanceInProgress), ErrorAction::kRejoinGroup);
  EXPECT_EQ(errorAction(ErrorCode::kMemberIdRequired), ErrorAction::kRejoinGroup);
  EXPECT_EQ(errorAction(ErrorCode::kFencedInstanceId), ErrorAction::kFatalToSession);
  EXPECT_EQ(errorAction(ErrorCode::kProducerFenced), ErrorAction::kFatalToSession);
  EXPECT_EQ(errorAction(ErrorCode::kUnsupportedVersion), ErrorAction::kFatalToSession);
  EXPECT_EQ(errorAction(ErrorCode::kSaslAuthenticationFailed), ErrorAction::kFatalToSession);
  EXPECT_EQ(errorAction(ErrorCode::kTopicAuthorizationFailed), ErrorAction::kFatalToRequest);
  EXPECT_EQ(errorAction(ErrorCode::kInvalidReplicationFactor), ErrorAction::kFatalToRequest);
  EXPECT_EQ(errorAction(ErrorCode::kTopicAlreadyExists), ErrorAction::kFatalToRequest);
  EXPECT_EQ(errorAction(ErrorCode::kMessageTooLarge), ErrorAction::kFatalToRequest);
  EXPECT_EQ(errorAction(ErrorCode::kTransport), ErrorAction::kRetry);
  EXPECT_EQ(errorAction(ErrorCode::kRequestTimedOutLocally), ErrorAction::kRetry);
  EXPECT_EQ(errorAction(ErrorCode::kInvalidArgument), ErrorAction::kFatalToRequest);
}

TEST(ErrorTest, MayHaveBeenWrittenOnlyWhereTheBrokerMightHaveAppended) {
  for (ErrorCode code :
       {ErrorCode::kTransport, ErrorCode::kRequestTimedOutLocally, ErrorCode::kRequestTimedOut,
        ErrorCode::kNotEnoughReplicasAfterAppend, ErrorCode::kUnknownServerError}) {
    EXPECT_TRUE(errorInfo(code).may_have_been_written) << errorName(code);
  }
  for (ErrorCode code :
       {ErrorCode::kNone, ErrorCode::kNotLeaderOrFollower, ErrorCode::kNotEnoughReplicas,
        ErrorCode::kMessageTooLarge, ErrorCode::kTopicAuthorizationFailed,
        ErrorCode::kInvalidRecord, ErrorCode::kCorruptMessage, ErrorCode::kTooManyInFlight}) {
    EXPECT_FALSE(errorInfo(code).may_have_been_written) << errorName(code);
  }
}

TEST(ErrorTest, UnknownCodesStayNumericAndAreFatalToTheRequest) {
  ErrorCode code = fromWire(9999);
  EXPECT_EQ(static_cast<int32_t>(code), 9999);
  EXPECT_EQ(errorName(code), "UNKNOWN_ERROR_CODE(9999)");
  EXPECT_FALSE(errorDescription(code).empty());
  EXPECT_EQ(errorAction(code), ErrorAction::kFatalToRequest);
  EXPECT_EQ(errorName(fromWire(134)), "UNKNOWN_ERROR_CODE(134)");
}

TEST(ErrorTest, WireCodesBelowMinusOneCannotPoseAsClientCodes) {
  EXPECT_EQ(fromWire(-100), ErrorCode::kUnknownServerError);
  EXPECT_EQ(fromWire(-2), ErrorCode::kUnknownServerError);
  EXPECT_EQ(fromWire(-1), ErrorCode::kUnknownServerError);
  EXPECT_EQ(fromWire(0), ErrorCode::kNone);
}

TEST(ErrorTest, ActionsHaveNames) {
  EXPECT_EQ(actionName(ErrorAction::kRetry), "retry");
  EXPECT_EQ(actionName(ErrorAction::kRefreshMetadata), "refresh metadata");
  EXPECT_EQ(actionName(ErrorAction::kFatalToSession), "fatal to session");
}

TEST(ErrorTest, WorksAsStdErrorCode) {
  std::error_code ec = ErrorCode::kNotLeaderOrFollower;
  EXPECT_EQ(ec.value(), 6);
  EXPECT_STREQ(ec.category().name(), "kafka");
  EXPECT_EQ(&ec.category(), &kafkaCategory());
  EXPECT_EQ(ec, ErrorCode::kNotLeaderOrFollower);
  EXPECT_NE(ec, ErrorCode::kUnknownTopicOrPartition);
  EXPECT_TRUE(static_cast<bool>(ec));
  EXPECT_EQ(ec.message().rfind("NOT_LEADER_OR_FOLLOWER: ", 0), 0u) << ec.message();

  std::error_code none = make_error_code(ErrorCode::kNone);
  EXPECT_FALSE(static_cast<bool>(none));
  // The same number in another category is a different error.
  EXPECT_NE(std::error_code(6, std::generic_category()), ec);
  EXPECT_EQ(make_error_code(fromWire(9999)).message().rfind("UNKNOWN_ERROR_CODE(9999)", 0), 0u);
}

TEST(ErrorTest, ErrorToStringNamesTheCode) {
  Error bare{ErrorCode::kTransport, ""};
  EXPECT_EQ(bare.toString(), "TRANSPORT_ERROR");
  Error detailed{ErrorCode::kNotLeaderOrFollower, "topic orders partition 3"};
  EXPECT_EQ(detailed.toString(), "NOT_LEADER_OR_FOLLOWER: topic orders partition 3");
  EXPECT_EQ(detailed.action(), ErrorAction::kRefreshMetadata);
}

}  // namespace
}  // namespace kafka
