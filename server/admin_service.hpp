// AdminService: kafka.sidecar.v1.Admin over the callback API. Each call looks up the named
// cluster, asks it (fresh metadata, consumer::describeOffsets, or an operation of
// client_core/admin) and answers from the completion; no gRPC thread ever waits for Kafka (see
// UnaryReactor for how cancellation and completion race safely). Operations that retry do so
// until the caller's deadline, or for 30 s at most.
//
// With bearer tokens, each call authenticates first. DescribeCluster, ListTopics, ListGroups,
// CreateTopics and DeleteTopics need a token with admin: true; DescribeOffsets and
// DescribeTopicConfigs need each topic in the token's produce or consume grants (and the group,
// if named); DescribeGroup needs the group; ResetGroupOffsets needs the group and to consume each
// topic. An admin token may make every Admin call.
//
// Owned by the Daemon, which keeps the ClusterRegistry alive for as long as the gRPC server
// runs. Methods run on gRPC's threads; completions run on strands of `executor`.
#pragma once

#include <grpcpp/support/status.h>

#include <boost/asio/any_io_executor.hpp>
#include <optional>
#include <vector>

#include "client_core/admin/group_admin.hpp"
#include "client_core/admin/offset_reset.hpp"
#include "client_core/admin/topic_admin.hpp"
#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/partition_offsets.hpp"
#include "kafka/sidecar/v1/admin.grpc.pb.h"
#include "server/auth.hpp"

namespace kafka::sidecar {

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(boost::asio::any_io_executor executor, const ClusterRegistry& clusters,
               const Authorizer& authorizer)
      : executor_(std::move(executor)), clusters_(clusters), authorizer_(authorizer) {}

  grpc::ServerUnaryReactor* DescribeCluster(grpc::CallbackServerContext* context,
                                            const v1::DescribeClusterRequest* request,
                                            v1::DescribeClusterResponse* response) override;

  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* context,
                                       const v1::ListTopicsRequest* request,
                                       v1::ListTopicsResponse* response) override;

  grpc::ServerUnaryReactor* DescribeOffsets(grpc::CallbackServerContext* context,
                                            const v1::DescribeOffsetsRequest* request,
                                            v1::DescribeOffsetsResponse* response) override;

  grpc::ServerUnaryReactor* CreateTopics(grpc::CallbackServerContext* context,
                                         const v1::CreateTopicsRequest* request,
                                         v1::CreateTopicsResponse* response) override;

  grpc::ServerUnaryReactor* DeleteTopics(grpc::CallbackServerContext* context,
                                         const v1::DeleteTopicsRequest* request,
                                         v1::DeleteTopicsResponse* response) override;

  grpc::ServerUnaryReactor* DescribeTopicConfigs(
      grpc::CallbackServerContext* context, const v1::DescribeTopicConfigsRequest* request,
      v1::DescribeTopicConfigsResponse* response) override;

  grpc::ServerUnaryReactor* ListGroups(grpc::CallbackServerContext* context,
                                       const v1::ListGroupsRequest* request,
                                       v1::ListGroupsResponse* response) override;

  grpc::ServerUnaryReactor* DescribeGroup(grpc::CallbackServerContext* context,
                                          const v1::DescribeGroupRequest* request,
                                          v1::DescribeGroupResponse* response) override;

  grpc::ServerUnaryReactor* ResetGroupOffsets(grpc::CallbackServerContext* context,
                                              const v1::ResetGroupOffsetsRequest* request,
                                              v1::ResetGroupOffsetsResponse* response) override;

 private:
  // OK when the call's token may make it: an admin token may, another if check(caller, arg)
  // says so; else UNAUTHENTICATED or PERMISSION_DENIED.
  template <class Check, class Arg>
  grpc::Status allowed(const grpc::CallbackServerContext& context, Check check,
                       const Arg& arg) const;

  boost::asio::any_io_executor executor_;
  const ClusterRegistry& clusters_;
  const Authorizer& authorizer_;
};

// The conversions the service answers with, from one metadata snapshot.
void fillDescribeCluster(const MetadataSnapshot& metadata, v1::DescribeClusterResponse& out);
void fillListTopics(const MetadataSnapshot& metadata, v1::ListTopicsResponse& out);
void fillDescribeOffsets(const std::vector<consumer::TopicOffsets>& topics,
                         v1::DescribeOffsetsResponse& out);

// The requests' fields that client_core cannot check, because they do not exist in its types
// (a replication factor beyond int16, a reset target left unspecified): the query to run, or
// INVALID_ARGUMENT naming the field. client_core checks the rest (empty names, counts, ...).
std::optional<grpc::Status> toQuery(const v1::CreateTopicsRequest& request,
                                    admin::CreateTopicsQuery& out);
std::optional<grpc::Status> toQuery(const v1::ResetGroupOffsetsRequest& request,
                                    admin::OffsetResetQuery& out);

// The answers, from what the operations found.
void fillCreateTopics(const std::vector<admin::CreatedTopic>& topics,
                      v1::CreateTopicsResponse& out);
void fillDeleteTopics(const std::vector<admin::DeletedTopic>& topics,
                      v1::DeleteTopicsResponse& out);
void fillTopicConfigs(const std::vector<admin::TopicConfigs>& topics,
                      v1::DescribeTopicConfigsResponse& out);
void fillListGroups(const admin::GroupListing& listing, v1::ListGroupsResponse& out);
void fillDescribeGroup(const admin::GroupDescription& group, v1::DescribeGroupResponse& out);
void fillResetGroupOffsets(const std::vector<admin::TopicReset>& topics,
                           v1::ResetGroupOffsetsResponse& out);

}  // namespace kafka::sidecar
