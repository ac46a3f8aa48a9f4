// kafka::ErrorCode: every error the client core can report, in one enum.
//
// Values >= -1 are Kafka's own protocol error codes (as sent on the wire). Values below -1 are the
// client's own (transport, decoding, timeouts, bad arguments); they never appear on the wire.
// Every code is classified by errorAction() into what a caller should do about it, so handlers
// switch on the action rather than on raw codes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace kafka {

enum class ErrorCode : int32_t {
  // Client-side errors (never on the wire).
  kTransport = -100,           // the connection failed or was closed under the request
  kRequestTimedOutLocally = -101,  // no response within the request timeout
  kMalformedMessage = -102,    // bytes from the network that did not decode
  kUnsupportedApi = -103,      // the broker does not serve the API (or none of our versions)
  kInvalidArgument = -104,     // the caller passed something unusable
  kShuttingDown = -105,        // the client is being stopped
  kTooManyInFlight = -106,     // the in-flight bound was hit and the request was not queued
  kNoBrokerAvailable = -107,   // no broker of the cluster could be reached
  kUnknownCluster = -108,      // a cluster name that is not configured
  kFrameTooLarge = -109,       // a frame larger than the configured maximum

  // Kafka protocol error codes.
  kUnknownServerError = -1,
  kNone = 0,
  kOffsetOutOfRange = 1,
  kCorruptMessage = 2,
  kUnknownTopicOrPartition = 3,
  kInvalidFetchSize = 4,
  kLeaderNotAvailable = 5,
  kNotLeaderOrFollower = 6,
  kRequestTimedOut = 7,
  kBrokerNotAvailable = 8,
  kReplicaNotAvailable = 9,
  kMessageTooLarge = 10,
  kStaleControllerEpoch = 11,
  kOffsetMetadataTooLarge = 12,
  kNetworkException = 13,
  kCoordinatorLoadInProgress = 14,
  kCoordinatorNotAvailable = 15,
  kNotCoordinator = 16,
  kInvalidTopicException = 17,
  kRecordListTooLarge = 18,
  kNotEnoughReplicas = 19,
  kNotEnoughReplicasAfterAppend = 20,
  kInvalidRequiredAcks = 21,
  kIllegalGeneration = 22,
  kInconsistentGroupProtocol = 23,
  kInvalidGroupId = 24,
  kUnknownMemberId = 25,
  kInvalidSessionTimeout = 26,
  kRebalanceInProgress = 27,
  kInvalidCommitOffsetSize = 28,
  kTopicAuthorizationFailed = 29,
  kGroupAuthorizationFailed = 30,
  kClusterAuthorizationFailed = 31,
  kInvalidTimestamp = 32,
  kUnsupportedSaslMechanism = 33,
  kIllegalSaslState = 34,
  kUnsupportedVersion = 35,
  kTopicAlreadyExists = 36,
  kInvalidPartitions = 37,
  kInvalidReplicationFactor = 38,
  kInvalidReplicaAssignment = 39,
  kInvalidConfig = 40,
  kNotController = 41,
  kInvalidRequest = 42,
  kUnsupportedForMessageFormat = 43,
  kPolicyViolation = 44,
  kOutOfOrderSequenceNumber = 45,
  kDuplicateSequenceNumber = 46,
  kInvalidProducerEpoch = 47,
  kInvalidTxnState = 48,
  kInvalidProducerIdMapping = 49,
  kInvalidTransactionTimeout = 50,
  kConcurrentTransactions = 51,
  kTransactionCoordinatorFenced = 52,
  kTransactionalIdAuthorizationFailed = 53,
  kSecurityDisabled = 54,
  kOperationNotAttempted = 55,
  kKafkaStorageError = 56,
  kLogDirNotFound = 57,
  kSaslAuthenticationFailed = 58,
  kUnknownProducerId = 59,
  kReassignmentInProgress = 60,
  kDelegationTokenAuthDisabled = 61,
  kDelegationTokenNotFound = 62,
  kDelegationTokenOwnerMismatch = 63,
  kDelegationTokenRequestNotAllowed = 64,
  kDelegationTokenAuthorizationFailed = 65,
  kDelegationTokenExpired = 66,
  kInvalidPrincipalType = 67,
  kNonEmptyGroup = 68,
  kGroupIdNotFound = 69,
  kFetchSessionIdNotFound = 70,
  kInvalidFetchSessionEpoch = 71,
  kListenerNotFound = 72,
  kTopicDeletionDisabled = 73,
  kFencedLeaderEpoch = 74,
  kUnknownLeaderEpoch = 75,
  kUnsupportedCompressionType = 76,
  kStaleBrokerEpoch = 77,
  kOffsetNotAvailable = 78,
  kMemberIdRequired = 79,
  kPreferredLeaderNotAvailable = 80,
  kEligibleLeadersNotAvailable = 81,
  kGroupMaxSizeReached = 82,
  kFencedInstanceId = 83,
  kEligibleLeadersNotAvailable2 = 84,
  kElectionNotNeeded = 85,
  kNoReassignmentInProgress = 86,
  kGroupSubscribedToTopic = 87,
  kInvalidRecord = 88,
  kUnstableOffsetCommit = 89,
  kThrottlingQuotaExceeded = 90,
  kProducerFenced = 91,
  kResourceNotFound = 92,
  kDuplicateResource = 93,
  kUnacceptableCredential = 94,
  kInconsistentVoterSet = 95,
  kInvalidUpdateVersion = 96,
  kFeatureUpdateFailed = 97,
  kPrincipalDeserializationFailure = 98,
  kSnapshotNotFound = 99,
  kPositionOutOfRange = 100,
  kUnknownTopicId = 101,
  kDuplicateBrokerRegistration = 102,
  kBrokerIdNotRegistered = 103,
  kInconsistentTopicId = 104,
  kInconsistentClusterId = 105,
  kTransactionalIdNotFound = 106,
  kFetchSessionTopicIdError = 107,
  kIneligibleReplica = 108,
  kNewLeaderElected = 109,
  kOffsetMovedToTieredStorage = 110,
  kFencedMemberEpoch = 111,
  kUnreleasedInstanceId = 112,
  kUnsupportedAssignor = 113,
  kStaleMemberEpoch = 114,
  kMismatchedEndpointType = 115,
  kUnsupportedEndpointType = 116,
  kUnknownControllerId = 117,
  kUnknownSubscriptionId = 118,
  kTelemetryTooLarge = 119,
  kInvalidRegistration = 120,
  kTransactionAbortable = 121,
};

// What a caller should do when a request fails with a given code.
enum class ErrorAction {
  kNone,               // success
  kRetry,              // transient: retry the same request after a backoff
  kRefreshMetadata,    // routing is stale: refresh metadata, then retry
  kFindCoordinator,    // the group/transaction coordinator moved: rediscover, then retry
  kRejoinGroup,        // group membership is stale: rejoin the group
  kFatalToRequest,     // this request cannot succeed; report it, keep the session
  kFatalToSession,     // the producer/consumer session cannot continue
};

struct ErrorInfo {
  ErrorAction action;
  // For produce: whether a failed request may nonetheless have written its records.
  bool may_have_been_written;
};

// The wire name of the code (e.g. "NOT_LEADER_OR_FOLLOWER"), or "UNKNOWN_ERROR_CODE(n)".
std::string errorName(ErrorCode code);
// One line describing the code, for messages shown to applications.
std::string_view errorDescription(ErrorCode code);
ErrorInfo errorInfo(ErrorCode code);
inline ErrorAction errorAction(ErrorCode code) { return errorInfo(code).action; }
std::string_view actionName(ErrorAction action);

// Converts a wire int16 into ErrorCode; unknown codes stay numeric and classify as fatal-to-request.
inline ErrorCode fromWire(int16_t code) { return static_cast<ErrorCode>(code); }

const std::error_category& kafkaCategory();
inline std::error_code make_error_code(ErrorCode code) {
  return {static_cast<int>(code), kafkaCategory()};
}

}  // namespace kafka

template <>
struct std::is_error_code_enum<kafka::ErrorCode> : std::true_type {};
