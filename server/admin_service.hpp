// AdminService: kafka.sidecar.v1.Admin over the callback API. Each call looks up the named
// cluster, asks it (fresh metadata, or the offsets of consumer::describeOffsets) and answers from
// the completion; no gRPC thread ever waits for Kafka (see UnaryReactor for how cancellation and
// completion race safely).
//
// Owned by the Daemon, which keeps the ClusterRegistry alive for as long as the gRPC server
// runs. Methods run on gRPC's threads; completions run on strands of `executor`.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <vector>

#include "client_core/cluster/cluster.hpp"
#include "client_core/consumer/partition_offsets.hpp"
#include "kafka/sidecar/v1/admin.grpc.pb.h"

namespace kafka::sidecar {

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(boost::asio::any_io_executor executor, const ClusterRegistry& clusters)
      : executor_(std::move(executor)), clusters_(clusters) {}

  grpc::ServerUnaryReactor* DescribeCluster(grpc::CallbackServerContext* context,
                                            const v1::DescribeClusterRequest* request,
                                            v1::DescribeClusterResponse* response) override;

  grpc::ServerUnaryReactor* ListTopics(grpc::CallbackServerContext* context,
                                       const v1::ListTopicsRequest* request,
                                       v1::ListTopicsResponse* response) override;

  grpc::ServerUnaryReactor* DescribeOffsets(grpc::CallbackServerContext* context,
                                            const v1::DescribeOffsetsRequest* request,
                                            v1::DescribeOffsetsResponse* response) override;

 private:
  boost::asio::any_io_executor executor_;
  const ClusterRegistry& clusters_;
};

// The conversions the service answers with, from one metadata snapshot.
void fillDescribeCluster(const MetadataSnapshot& metadata, v1::DescribeClusterResponse& out);
void fillListTopics(const MetadataSnapshot& metadata, v1::ListTopicsResponse& out);
void fillDescribeOffsets(const std::vector<consumer::TopicOffsets>& topics,
                         v1::DescribeOffsetsResponse& out);

}  // namespace kafka::sidecar
