// kafka::ErrorCode: every error the client core can report, in one enum, and the one table that
// classifies each of them.
//
// Values >= -1 are Kafka's own protocol error codes (as sent on the wire). Values below -1 are the
// client's own (transport, decoding, timeouts, bad arguments); they never appear on the wire.
// Every code is classified into what a caller should do about it, so handlers switch on the action
// rather than on raw codes. Free functions, no state: usable from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace kafka {

// What a caller should do when a request fails with a given code.
enum class ErrorAction {
  kNone,             // success
  kRetry,            // transient: retry the same request after a backoff
  kRefreshMetadata,  // routing is stale: refresh metadata, then retry
  kFindCoordinator,  // the group/transaction coordinator moved: rediscover, then retry
  kRejoinGroup,      // group membership is stale: rejoin the group
  kFatalToRequest,   // this request cannot succeed; report it, keep the session
  kFatalToSession,   // the producer/consumer session cannot continue
};

// The table: X(enumerator, value, name, action, may_have_been_written, description).
//
// `name` is Kafka's name for the code (Errors.java); `description` is one line of our own for
// messages shown to applications. The action follows how Kafka's Java client and librdkafka react:
//  - retriable conditions (timeouts, coordinator loading, throttling, fetch/share sessions):
//    kRetry;
//  - stale routing (leadership, unknown partitions or topic ids, leader epochs, controller moves,
//    broker disk errors): kRefreshMetadata;
//  - NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE: kFindCoordinator;
//  - membership the coordinator no longer accepts (unknown member, old generation, rebalance,
//    fenced member epoch): kRejoinGroup;
//  - a request the broker refuses as such (authorization, INVALID_* about the request, policy,
//    sizes, existing topics): kFatalToRequest;
//  - a session that cannot go on: producer fencing and producer state the broker rejects, SASL
//    failures, a static instance id taken by another member, a group that cannot admit the
//    member, and UNSUPPORTED_VERSION (the negotiated versions are wrong for the whole session).
// may_have_been_written matters for Produce only: true where a request that failed with the code
// may still have been appended (timeouts, transport errors, NETWORK_EXCEPTION,
// NOT_ENOUGH_REPLICAS_AFTER_APPEND, unknown server errors, sequence number errors), false where
// the broker certainly did not append it.
// Codes the table does not list (newer brokers) are fatal to the request and may have been
// written: the caller cannot know more.
// clang-format off
#define KAFKA_ERROR_CODES(X)                                                                       \
  /* Client-side codes, never on the wire. */                                                      \
  X(kTransport, -100, "TRANSPORT_ERROR", kRetry, true,                                             \
    "The connection failed or closed while the request was outstanding")                           \
  X(kRequestTimedOutLocally, -101, "REQUEST_TIMED_OUT_LOCALLY", kRetry, true,                      \
    "No response arrived within the client's request timeout")                                     \
  X(kMalformedMessage, -102, "MALFORMED_MESSAGE", kFatalToRequest, true,                           \
    "Bytes from the network did not decode as the expected message")                               \
  X(kUnsupportedApi, -103, "UNSUPPORTED_API", kFatalToRequest, false,                              \
    "The broker serves neither the API nor any version of it that the client speaks")              \
  X(kInvalidArgument, -104, "INVALID_ARGUMENT", kFatalToRequest, false,                            \
    "The caller passed a value the client cannot use")                                             \
  X(kShuttingDown, -105, "SHUTTING_DOWN", kFatalToRequest, true,                                   \
    "The client or its connection is stopping, and the request was abandoned")                     \
  X(kTooManyInFlight, -106, "TOO_MANY_IN_FLIGHT", kRetry, false,                                   \
    "The in-flight bound was reached and the request was not queued")                              \
  X(kNoBrokerAvailable, -107, "NO_BROKER_AVAILABLE", kRetry, false,                                \
    "No broker of the cluster could be reached")                                                   \
  X(kUnknownCluster, -108, "UNKNOWN_CLUSTER", kFatalToRequest, false,                              \
    "No cluster of this name is configured")                                                       \
  X(kFrameTooLarge, -109, "FRAME_TOO_LARGE", kFatalToRequest, true,                                \
    "A frame was longer than the configured maximum")                                              \
  X(kDeliveryTimedOut, -110, "DELIVERY_TIMED_OUT", kFatalToRequest, true,                          \
    "The record had no outcome within the producer's delivery timeout")                            \
  X(kNoOffsetToStartFrom, -111, "NO_OFFSET_TO_START_FROM", kFatalToRequest, false,                 \
    "The partition has no committed offset and the offset reset policy is none")                   \
  /* Kafka protocol codes. */                                                                      \
  X(kUnknownServerError, -1, "UNKNOWN_SERVER_ERROR", kFatalToRequest, true,                        \
    "The broker hit an unexpected error while handling the request")                               \
  X(kNone, 0, "NONE", kNone, false,                                                                \
    "Success")                                                                                     \
  X(kOffsetOutOfRange, 1, "OFFSET_OUT_OF_RANGE", kFatalToRequest, false,                           \
    "The requested offset lies outside the partition's log")                                       \
  X(kCorruptMessage, 2, "CORRUPT_MESSAGE", kRetry, false,                                          \
    "A record failed its CRC or size check, or was otherwise corrupt")                             \
  X(kUnknownTopicOrPartition, 3, "UNKNOWN_TOPIC_OR_PARTITION", kRefreshMetadata, false,            \
    "The broker does not host this topic or partition")                                            \
  X(kInvalidFetchSize, 4, "INVALID_FETCH_SIZE", kFatalToRequest, false,                            \
    "The fetch size in the request is invalid")                                                    \
  X(kLeaderNotAvailable, 5, "LEADER_NOT_AVAILABLE", kRefreshMetadata, false,                       \
    "The partition has no leader at the moment, e.g. during an election")                          \
  X(kNotLeaderOrFollower, 6, "NOT_LEADER_OR_FOLLOWER", kRefreshMetadata, false,                    \
    "The broker is not the partition's leader, or not one of its replicas")                        \
  X(kRequestTimedOut, 7, "REQUEST_TIMED_OUT", kRetry, true,                                        \
    "The broker gave up on the request, e.g. while waiting for replication")                       \
  X(kBrokerNotAvailable, 8, "BROKER_NOT_AVAILABLE", kRefreshMetadata, false,                       \
    "The broker is not available")                                                                 \
  X(kReplicaNotAvailable, 9, "REPLICA_NOT_AVAILABLE", kRefreshMetadata, false,                     \
    "A replica of the partition is not available")                                                 \
  X(kMessageTooLarge, 10, "MESSAGE_TOO_LARGE", kFatalToRequest, false,                             \
    "A record batch is larger than the broker accepts")                                            \
  X(kStaleControllerEpoch, 11, "STALE_CONTROLLER_EPOCH", kFatalToRequest, false,                   \
    "The controller has moved to another broker")                                                  \
  X(kOffsetMetadataTooLarge, 12, "OFFSET_METADATA_TOO_LARGE", kFatalToRequest, false,              \
    "The metadata string of an offset commit is too long")                                         \
  X(kNetworkException, 13, "NETWORK_EXCEPTION", kRefreshMetadata, true,                            \
    "The broker lost a connection before it had a response")                                       \
  X(kCoordinatorLoadInProgress, 14, "COORDINATOR_LOAD_IN_PROGRESS", kRetry, false,                 \
    "The coordinator is still loading its state")                                                  \
  X(kCoordinatorNotAvailable, 15, "COORDINATOR_NOT_AVAILABLE", kFindCoordinator, false,            \
    "No coordinator is available for the group or transaction")                                    \
  X(kNotCoordinator, 16, "NOT_COORDINATOR", kFindCoordinator, false,                               \
    "This broker is not the coordinator of the group or transaction")                              \
  X(kInvalidTopicException, 17, "INVALID_TOPIC_EXCEPTION", kFatalToRequest, false,                 \
    "The topic name is invalid, or the operation is not allowed on that topic")                    \
  X(kRecordListTooLarge, 18, "RECORD_LIST_TOO_LARGE", kFatalToRequest, false,                      \
    "A record batch is larger than the broker's log segments")                                     \
  X(kNotEnoughReplicas, 19, "NOT_ENOUGH_REPLICAS", kRetry, false,                                  \
    "Too few replicas are in sync to accept the write, so nothing was written")                    \
  X(kNotEnoughReplicasAfterAppend, 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", kRetry, true,           \
    "The write was appended but reached fewer in-sync replicas than required")                     \
  X(kInvalidRequiredAcks, 21, "INVALID_REQUIRED_ACKS", kFatalToRequest, false,                     \
    "The acks value of the produce request is invalid")                                            \
  X(kIllegalGeneration, 22, "ILLEGAL_GENERATION", kRejoinGroup, false,                             \
    "The group generation in the request is not the current one")                                  \
  X(kInconsistentGroupProtocol, 23, "INCONSISTENT_GROUP_PROTOCOL", kFatalToSession, false,         \
    "The member's protocols do not match those of the group's other members")                      \
  X(kInvalidGroupId, 24, "INVALID_GROUP_ID", kFatalToRequest, false,                               \
    "The group id is invalid")                                                                     \
  X(kUnknownMemberId, 25, "UNKNOWN_MEMBER_ID", kRejoinGroup, false,                                \
    "The coordinator does not know this member id")                                                \
  X(kInvalidSessionTimeout, 26, "INVALID_SESSION_TIMEOUT", kFatalToRequest, false,                 \
    "The session timeout is outside the range the broker allows")                                  \
  X(kRebalanceInProgress, 27, "REBALANCE_IN_PROGRESS", kRejoinGroup, false,                        \
    "The group is rebalancing, so the member has to rejoin")                                       \
  X(kInvalidCommitOffsetSize, 28, "INVALID_COMMIT_OFFSET_SIZE", kFatalToRequest, false,            \
    "The size of the offset commit is invalid")                                                    \
  X(kTopicAuthorizationFailed, 29, "TOPIC_AUTHORIZATION_FAILED", kFatalToRequest, false,           \
    "The principal may not perform this operation on the topic")                                   \
  X(kGroupAuthorizationFailed, 30, "GROUP_AUTHORIZATION_FAILED", kFatalToRequest, false,           \
    "The principal may not perform this operation on the group")                                   \
  X(kClusterAuthorizationFailed, 31, "CLUSTER_AUTHORIZATION_FAILED", kFatalToRequest, false,       \
    "The principal may not perform this operation on the cluster")                                 \
  X(kInvalidTimestamp, 32, "INVALID_TIMESTAMP", kFatalToRequest, false,                            \
    "A record timestamp is outside the range the broker accepts")                                  \
  X(kUnsupportedSaslMechanism, 33, "UNSUPPORTED_SASL_MECHANISM", kFatalToSession, false,           \
    "The broker does not enable the requested SASL mechanism")                                     \
  X(kIllegalSaslState, 34, "ILLEGAL_SASL_STATE", kFatalToSession, false,                           \
    "The request is not allowed in the connection's current SASL state")                           \
  X(kUnsupportedVersion, 35, "UNSUPPORTED_VERSION", kFatalToSession, false,                        \
    "The broker does not support this version of the API")                                         \
  X(kTopicAlreadyExists, 36, "TOPIC_ALREADY_EXISTS", kFatalToRequest, false,                       \
    "A topic with this name already exists")                                                       \
  X(kInvalidPartitions, 37, "INVALID_PARTITIONS", kFatalToRequest, false,                          \
    "The number of partitions is invalid")                                                         \
  X(kInvalidReplicationFactor, 38, "INVALID_REPLICATION_FACTOR", kFatalToRequest, false,           \
    "The replication factor is below 1 or above the number of brokers")                            \
  X(kInvalidReplicaAssignment, 39, "INVALID_REPLICA_ASSIGNMENT", kFatalToRequest, false,           \
    "The replica assignment is invalid")                                                           \
  X(kInvalidConfig, 40, "INVALID_CONFIG", kFatalToRequest, false,                                  \
    "The configuration is invalid")                                                                \
  X(kNotController, 41, "NOT_CONTROLLER", kRefreshMetadata, false,                                 \
    "This broker is not the active controller")                                                    \
  X(kInvalidRequest, 42, "INVALID_REQUEST", kFatalToRequest, false,                                \
    "The broker found the request malformed or not valid for it")                                  \
  X(kUnsupportedForMessageFormat, 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", kFatalToRequest, false,    \
    "The topic's message format is too old for the request")                                       \
  X(kPolicyViolation, 44, "POLICY_VIOLATION", kFatalToRequest, false,                              \
    "The request breaks a policy configured on the broker")                                        \
  X(kOutOfOrderSequenceNumber, 45, "OUT_OF_ORDER_SEQUENCE_NUMBER", kFatalToSession, true,          \
    "The broker saw a gap in the producer's sequence numbers")                                     \
  X(kDuplicateSequenceNumber, 46, "DUPLICATE_SEQUENCE_NUMBER", kFatalToRequest, true,              \
    "The batch repeats one the broker already wrote, so it need not be sent again")                \
  X(kInvalidProducerEpoch, 47, "INVALID_PRODUCER_EPOCH", kFatalToSession, false,                   \
    "The producer epoch is older than the one the broker knows")                                   \
  X(kInvalidTxnState, 48, "INVALID_TXN_STATE", kFatalToSession, false,                             \
    "The transactional operation is not valid in the producer's current state")                    \
  X(kInvalidProducerIdMapping, 49, "INVALID_PRODUCER_ID_MAPPING", kFatalToSession, false,          \
    "The producer id is not the one assigned to this transactional id")                            \
  X(kInvalidTransactionTimeout, 50, "INVALID_TRANSACTION_TIMEOUT", kFatalToRequest, false,         \
    "The transaction timeout is larger than the broker allows")                                    \
  X(kConcurrentTransactions, 51, "CONCURRENT_TRANSACTIONS", kRetry, false,                         \
    "Another operation on the same transaction is still in progress")                              \
  X(kTransactionCoordinatorFenced, 52, "TRANSACTION_COORDINATOR_FENCED", kFatalToSession, false,   \
    "A newer transaction coordinator has taken over this producer")                                \
  X(kTransactionalIdAuthorizationFailed, 53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",              \
    kFatalToRequest, false,                                                                        \
    "The principal may not use the transactional id")                                              \
  X(kSecurityDisabled, 54, "SECURITY_DISABLED", kFatalToRequest, false,                            \
    "Security features are disabled on the broker")                                                \
  X(kOperationNotAttempted, 55, "OPERATION_NOT_ATTEMPTED", kRetry, false,                          \
    "The broker skipped the operation because another one in the batch failed")                    \
  X(kKafkaStorageError, 56, "KAFKA_STORAGE_ERROR", kRefreshMetadata, false,                        \
    "A disk error on the broker kept it from the log")                                             \
  X(kLogDirNotFound, 57, "LOG_DIR_NOT_FOUND", kFatalToRequest, false,                              \
    "The broker has no log directory of that name")                                                \
  X(kSaslAuthenticationFailed, 58, "SASL_AUTHENTICATION_FAILED", kFatalToSession, false,           \
    "SASL authentication failed")                                                                  \
  X(kUnknownProducerId, 59, "UNKNOWN_PRODUCER_ID", kFatalToSession, false,                         \
    "The broker holds no state for the producer id, e.g. after its records expired")               \
  X(kReassignmentInProgress, 60, "REASSIGNMENT_IN_PROGRESS", kFatalToRequest, false,               \
    "A partition reassignment is in progress")                                                     \
  X(kDelegationTokenAuthDisabled, 61, "DELEGATION_TOKEN_AUTH_DISABLED", kFatalToRequest, false,    \
    "Delegation tokens are not enabled on the broker")                                             \
  X(kDelegationTokenNotFound, 62, "DELEGATION_TOKEN_NOT_FOUND", kFatalToRequest, false,            \
    "The delegation token does not exist")                                                         \
  X(kDelegationTokenOwnerMismatch, 63, "DELEGATION_TOKEN_OWNER_MISMATCH", kFatalToRequest, false,  \
    "The principal is not the token's owner or renewer")                                           \
  X(kDelegationTokenRequestNotAllowed, 64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED",                 \
    kFatalToRequest, false,                                                                        \
    "Delegation token requests are not allowed on this kind of connection")                        \
  X(kDelegationTokenAuthorizationFailed, 65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED",              \
    kFatalToRequest, false,                                                                        \
    "The principal may not perform this delegation token operation")                               \
  X(kDelegationTokenExpired, 66, "DELEGATION_TOKEN_EXPIRED", kFatalToRequest, false,               \
    "The delegation token has expired")                                                            \
  X(kInvalidPrincipalType, 67, "INVALID_PRINCIPAL_TYPE", kFatalToRequest, false,                   \
    "The principal type is not supported")                                                         \
  X(kNonEmptyGroup, 68, "NON_EMPTY_GROUP", kFatalToRequest, false,                                 \
    "The group still has members")                                                                 \
  X(kGroupIdNotFound, 69, "GROUP_ID_NOT_FOUND", kFatalToRequest, false,                            \
    "The group does not exist")                                                                    \
  X(kFetchSessionIdNotFound, 70, "FETCH_SESSION_ID_NOT_FOUND", kRetry, false,                      \
    "The broker does not know the fetch session")                                                  \
  X(kInvalidFetchSessionEpoch, 71, "INVALID_FETCH_SESSION_EPOCH", kRetry, false,                   \
    "The fetch session epoch does not match the broker's")                                         \
  X(kListenerNotFound, 72, "LISTENER_NOT_FOUND", kRefreshMetadata, false,                          \
    "The leader has no listener matching the one the metadata came from")                          \
  X(kTopicDeletionDisabled, 73, "TOPIC_DELETION_DISABLED", kFatalToRequest, false,                 \
    "Topic deletion is disabled on the broker")                                                    \
  X(kFencedLeaderEpoch, 74, "FENCED_LEADER_EPOCH", kRefreshMetadata, false,                        \
    "The leader epoch in the request is older than the broker's")                                  \
  X(kUnknownLeaderEpoch, 75, "UNKNOWN_LEADER_EPOCH", kRefreshMetadata, false,                      \
    "The leader epoch in the request is newer than the broker's")                                  \
  X(kUnsupportedCompressionType, 76, "UNSUPPORTED_COMPRESSION_TYPE", kFatalToRequest, false,       \
    "The compression codec cannot be used with this request version")                              \
  X(kStaleBrokerEpoch, 77, "STALE_BROKER_EPOCH", kFatalToRequest, false,                           \
    "The broker epoch in the request is out of date")                                              \
  X(kOffsetNotAvailable, 78, "OFFSET_NOT_AVAILABLE", kRetry, false,                                \
    "A new leader's high watermark has not caught up, so offsets are not yet known")               \
  X(kMemberIdRequired, 79, "MEMBER_ID_REQUIRED", kRejoinGroup, false,                              \
    "The member has to join again with the member id the coordinator assigned")                    \
  X(kPreferredLeaderNotAvailable, 80, "PREFERRED_LEADER_NOT_AVAILABLE", kRefreshMetadata, false,   \
    "The partition's preferred leader is not available")                                           \
  X(kGroupMaxSizeReached, 81, "GROUP_MAX_SIZE_REACHED", kFatalToSession, false,                    \
    "The group already has as many members as it may")                                             \
  X(kFencedInstanceId, 82, "FENCED_INSTANCE_ID", kFatalToSession, false,                           \
    "Another member has registered with the same static instance id")                              \
  X(kEligibleLeadersNotAvailable, 83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", kRefreshMetadata, false,   \
    "No eligible leader is available for the partition")                                           \
  X(kElectionNotNeeded, 84, "ELECTION_NOT_NEEDED", kFatalToRequest, false,                         \
    "The partition already has the leader an election would choose")                               \
  X(kNoReassignmentInProgress, 85, "NO_REASSIGNMENT_IN_PROGRESS", kFatalToRequest, false,          \
    "No partition reassignment is in progress")                                                    \
  X(kGroupSubscribedToTopic, 86, "GROUP_SUBSCRIBED_TO_TOPIC", kFatalToRequest, false,              \
    "The group is subscribed to the topic, so its offsets cannot be deleted")                      \
  X(kInvalidRecord, 87, "INVALID_RECORD", kFatalToRequest, false,                                  \
    "The broker rejected a record that failed its validation")                                     \
  X(kUnstableOffsetCommit, 88, "UNSTABLE_OFFSET_COMMIT", kRetry, false,                            \
    "Offsets of transactions still pending have to settle first")                                  \
  X(kThrottlingQuotaExceeded, 89, "THROTTLING_QUOTA_EXCEEDED", kRetry, false,                      \
    "The request exceeded a throttling quota")                                                     \
  X(kProducerFenced, 90, "PRODUCER_FENCED", kFatalToSession, false,                                \
    "A newer producer with the same transactional id has fenced this one")                         \
  X(kResourceNotFound, 91, "RESOURCE_NOT_FOUND", kFatalToRequest, false,                           \
    "The request refers to a resource that does not exist")                                        \
  X(kDuplicateResource, 92, "DUPLICATE_RESOURCE", kFatalToRequest, false,                          \
    "The request names the same resource twice")                                                   \
  X(kUnacceptableCredential, 93, "UNACCEPTABLE_CREDENTIAL", kFatalToRequest, false,                \
    "The credential does not meet the broker's criteria")                                          \
  X(kInconsistentVoterSet, 94, "INCONSISTENT_VOTER_SET", kFatalToRequest, false,                   \
    "The sender or receiver is not among the expected quorum voters")                              \
  X(kInvalidUpdateVersion, 95, "INVALID_UPDATE_VERSION", kFatalToRequest, false,                   \
    "The feature update version is invalid")                                                       \
  X(kFeatureUpdateFailed, 96, "FEATURE_UPDATE_FAILED", kFatalToRequest, false,                     \
    "The finalized features could not be updated")                                                 \
  X(kPrincipalDeserializationFailure, 97, "PRINCIPAL_DESERIALIZATION_FAILURE",                     \
    kFatalToRequest, false,                                                                        \
    "The principal of a forwarded request could not be deserialized")                              \
  X(kSnapshotNotFound, 98, "SNAPSHOT_NOT_FOUND", kFatalToRequest, false,                           \
    "The requested metadata snapshot does not exist")                                              \
  X(kPositionOutOfRange, 99, "POSITION_OUT_OF_RANGE", kFatalToRequest, false,                      \
    "The requested position lies outside the snapshot")                                            \
  X(kUnknownTopicId, 100, "UNKNOWN_TOPIC_ID", kRefreshMetadata, false,                             \
    "The broker does not host a topic with this id")                                               \
  X(kDuplicateBrokerRegistration, 101, "DUPLICATE_BROKER_REGISTRATION", kFatalToRequest, false,    \
    "The broker id is already in use")                                                             \
  X(kBrokerIdNotRegistered, 102, "BROKER_ID_NOT_REGISTERED", kFatalToRequest, false,               \
    "The broker id is not registered")                                                             \
  X(kInconsistentTopicId, 103, "INCONSISTENT_TOPIC_ID", kRefreshMetadata, false,                   \
    "The topic id in the request does not match the log's")                                        \
  X(kInconsistentClusterId, 104, "INCONSISTENT_CLUSTER_ID", kFatalToRequest, false,                \
    "The cluster id in the request does not match the broker's")                                   \
  X(kTransactionalIdNotFound, 105, "TRANSACTIONAL_ID_NOT_FOUND", kFatalToRequest, false,           \
    "The transactional id does not exist")                                                         \
  X(kFetchSessionTopicIdError, 106, "FETCH_SESSION_TOPIC_ID_ERROR", kRetry, false,                 \
    "The fetch session used topic ids inconsistently")                                             \
  X(kIneligibleReplica, 107, "INELIGIBLE_REPLICA", kFatalToRequest, false,                         \
    "The proposed in-sync replica set contains an ineligible replica")                             \
  X(kNewLeaderElected, 108, "NEW_LEADER_ELECTED", kFatalToRequest, false,                          \
    "The partition state was updated, but its leader changed meanwhile")                           \
  X(kOffsetMovedToTieredStorage, 109, "OFFSET_MOVED_TO_TIERED_STORAGE", kFatalToRequest, false,    \
    "The requested offset is now held only in tiered storage")                                     \
  X(kFencedMemberEpoch, 110, "FENCED_MEMBER_EPOCH", kRejoinGroup, false,                           \
    "The coordinator fenced the member's epoch; it must drop its partitions and rejoin")           \
  X(kUnreleasedInstanceId, 111, "UNRELEASED_INSTANCE_ID", kFatalToSession, false,                  \
    "Another member still holds the static instance id")                                           \
  X(kUnsupportedAssignor, 112, "UNSUPPORTED_ASSIGNOR", kFatalToSession, false,                     \
    "The group does not support the requested assignor or its versions")                           \
  X(kStaleMemberEpoch, 113, "STALE_MEMBER_EPOCH", kRetry, false,                                   \
    "The member epoch is stale; retry once a heartbeat has brought the new one")                   \
  X(kMismatchedEndpointType, 114, "MISMATCHED_ENDPOINT_TYPE", kFatalToRequest, false,              \
    "The request was sent to the wrong kind of endpoint")                                          \
  X(kUnsupportedEndpointType, 115, "UNSUPPORTED_ENDPOINT_TYPE", kFatalToRequest, false,            \
    "The endpoint type is not supported")                                                          \
  X(kUnknownControllerId, 116, "UNKNOWN_CONTROLLER_ID", kFatalToRequest, false,                    \
    "The controller id is not known")                                                              \
  X(kUnknownSubscriptionId, 117, "UNKNOWN_SUBSCRIPTION_ID", kFatalToRequest, false,                \
    "The telemetry subscription id is unknown or outdated")                                        \
  X(kTelemetryTooLarge, 118, "TELEMETRY_TOO_LARGE", kFatalToRequest, false,                        \
    "The pushed telemetry is larger than the broker accepts")                                      \
  X(kInvalidRegistration, 119, "INVALID_REGISTRATION", kFatalToRequest, false,                     \
    "The controller found the broker's registration invalid")                                      \
  X(kTransactionAbortable, 120, "TRANSACTION_ABORTABLE", kFatalToRequest, false,                   \
    "The transaction failed; abort it to go on using the transactional id")                        \
  X(kInvalidRecordState, 121, "INVALID_RECORD_STATE", kFatalToRequest, false,                      \
    "The record's delivery state does not allow this acknowledgement")                             \
  X(kShareSessionNotFound, 122, "SHARE_SESSION_NOT_FOUND", kRetry, false,                          \
    "The broker does not know the share session")                                                  \
  X(kInvalidShareSessionEpoch, 123, "INVALID_SHARE_SESSION_EPOCH", kRetry, false,                  \
    "The share session epoch does not match the broker's")                                         \
  X(kFencedStateEpoch, 124, "FENCED_STATE_EPOCH", kFatalToRequest, false,                          \
    "The share-group state epoch does not match the share coordinator's")                          \
  X(kInvalidVoterKey, 125, "INVALID_VOTER_KEY", kFatalToRequest, false,                            \
    "The voter key does not match the receiving replica's")                                        \
  X(kDuplicateVoter, 126, "DUPLICATE_VOTER", kFatalToRequest, false,                               \
    "The voter is already in the set of voters")                                                   \
  X(kVoterNotFound, 127, "VOTER_NOT_FOUND", kFatalToRequest, false,                                \
    "The voter is not in the set of voters")                                                       \
  X(kInvalidRegularExpression, 128, "INVALID_REGULAR_EXPRESSION", kFatalToRequest, false,          \
    "The regular expression is invalid")                                                           \
  X(kRebootstrapRequired, 129, "REBOOTSTRAP_REQUIRED", kRefreshMetadata, false,                    \
    "The client's metadata is too stale; it has to bootstrap again")                               \
  X(kStreamsInvalidTopology, 130, "STREAMS_INVALID_TOPOLOGY", kFatalToRequest, false,              \
    "The Streams topology is invalid")                                                             \
  X(kStreamsInvalidTopologyEpoch, 131, "STREAMS_INVALID_TOPOLOGY_EPOCH", kFatalToRequest, false,   \
    "The Streams topology epoch is invalid")                                                       \
  X(kStreamsTopologyFenced, 132, "STREAMS_TOPOLOGY_FENCED", kFatalToRequest, false,                \
    "The Streams topology epoch is outdated")                                                      \
  X(kShareSessionLimitReached, 133, "SHARE_SESSION_LIMIT_REACHED", kRetry, false,                  \
    "The broker has as many share sessions as it allows")

// clang-format on

enum class ErrorCode : int32_t {
#define KAFKA_ERROR_ENUMERATOR(name, value, wire_name, action, written, description) name = value,
  KAFKA_ERROR_CODES(KAFKA_ERROR_ENUMERATOR)
#undef KAFKA_ERROR_ENUMERATOR
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
inline ErrorAction errorAction(ErrorCode code) {
  return errorInfo(code).action;
}
std::string_view actionName(ErrorAction action);

// Converts a wire int16 into ErrorCode. Codes this client does not know stay numeric (and classify
// as fatal to the request). Codes below -1 are not Kafka's and would alias the client-side codes,
// so a broker sending one gets UNKNOWN_SERVER_ERROR instead.
inline ErrorCode fromWire(int16_t code) {
  return code < -1 ? ErrorCode::kUnknownServerError : static_cast<ErrorCode>(code);
}

const std::error_category& kafkaCategory();
inline std::error_code make_error_code(ErrorCode code) {
  return {static_cast<int>(code), kafkaCategory()};
}

}  // namespace kafka

template <>
struct std::is_error_code_enum<kafka::ErrorCode> : std::true_type {};
