// AdminService: kafka.sidecar.v1.Admin over the callback API. Each call looks up the named
// cluster, asks it for fresh metadata and answers from the completion; no gRPC thread ever
// waits for Kafka (see UnaryReactor for how cancellation and completion race safely).
//
// Owned by the Daemon, which keeps the ClusterRegistry alive for as long as the gRPC server
// runs. Methods run on gRPC's threads; completions run on the cluster's strand.
#pragma once

#include "client_core/cluster/cluster.hpp"
#include "kafka/sidecar/v1/admin.grpc.pb.h"

namespace kafka::sidecar {

class AdminService final : public v1::Admin::CallbackService {
 public:
  explicit AdminService(const ClusterRegistry& clusters) : clusters_(clusters) {}

  grpc::ServerUnaryReactor* DescribeCluster(grpc::CallbackServerContext* context,
                                            const v1::DescribeClusterRequest* request,
                                            v1::DescribeClusterResponse* response) override;

  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* context,
                                       const v1::ListTopicsRequest* request,
                                       v1::ListTopicsResponse* response) override;

 private:
  const ClusterRegistry& clusters_;
};

// The conversions the service answers with, from one metadata snapshot.
void fillDescribeCluster(const MetadataSnapshot& metadata, v1::DescribeClusterResponse& out);
void fillListTopics(const MetadataSnapshot& metadata, v1::ListTopicsResponse& out);

}  // namespace kafka::sidecar
