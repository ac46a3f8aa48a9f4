#include "server/admin_service.hpp"

#include "server/service_status.hpp"
#include "server/unary_reactor.hpp"

namespace kafka::sidecar {
namespace {

void fillError(ErrorCode code, const std::string& context, v1::KafkaError& out) {
  fillKafkaError({code, context + ": " + std::string(errorDescription(code))}, out);
}

grpc::Status metadataFailed(const std::string& cluster, const Error& error) {
  return {grpc::StatusCode::UNAVAILABLE,
          "cluster '" + cluster + "': cannot fetch metadata: " + error.toString()};
}

// Starts a metadata refresh of every topic and answers with fill(snapshot, *response) once it
// completes. The callback owns nothing of the call but the reactor's Finisher.
template <class Response, class Fill>
grpc::ServerUnaryReactor* answerFromMetadata(const ClusterRegistry& clusters,
                                             const std::string& name, Response* response,
                                             Fill fill) {
  auto* reactor = new UnaryReactor();
  std::shared_ptr<Cluster> cluster = clusters.find(name);
  if (!cluster) {
    reactor->finishNow(unknownCluster(clusters, name));
    return reactor;
  }
  cluster->refreshMetadata({}, [finisher = reactor->finisher(), cluster_name = cluster->name(),
                                response, fill](Result<MetadataPtr> result) {
    if (!finisher->claim()) return;
    if (!result.ok()) {
      finisher->finish(metadataFailed(cluster_name, result.error()));
      return;
    }
    fill(*result.value(), *response);
    finisher->finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::DescribeCluster(grpc::CallbackServerContext* /*context*/,
                                                        const v1::DescribeClusterRequest* request,
                                                        v1::DescribeClusterResponse* response) {
  return answerFromMetadata(clusters_, request->cluster(), response,
                            [](const MetadataSnapshot& metadata, v1::DescribeClusterResponse& out) {
                              fillDescribeCluster(metadata, out);
                            });
}

grpc::ServerUnaryReactor* AdminService::ListTopics(grpc::CallbackServerContext* /*context*/,
                                                   const v1::ListTopicsRequest* request,
                                                   v1::ListTopicsResponse* response) {
  return answerFromMetadata(clusters_, request->cluster(), response,
                            [](const MetadataSnapshot& metadata, v1::ListTopicsResponse& out) {
                              fillListTopics(metadata, out);
                            });
}

grpc::ServerUnaryReactor* AdminService::DescribeOffsets(grpc::CallbackServerContext* /*context*/,
                                                        const v1::DescribeOffsetsRequest* request,
                                                        v1::DescribeOffsetsResponse* response) {
  auto* reactor = new UnaryReactor();
  std::shared_ptr<Cluster> cluster = clusters_.find(request->cluster());
  if (!cluster) {
    reactor->finishNow(unknownCluster(clusters_, request->cluster()));
    return reactor;
  }
  consumer::OffsetsQuery query;
  query.topics.assign(request->topics().begin(), request->topics().end());
  query.group = request->group();
  if (request->read_committed()) query.isolation = consumer::IsolationLevel::kReadCommitted;
  consumer::describeOffsets(
      executor_, cluster, std::move(query),
      [finisher = reactor->finisher(), cluster_name = cluster->name(),
       response](Result<std::vector<consumer::TopicOffsets>> result) {
        if (!finisher->claim()) return;
        if (!result.ok()) {
          finisher->finish(statusOf(result.error(), "cluster '" + cluster_name + "'"));
          return;
        }
        fillDescribeOffsets(*result, *response);
        finisher->finish(grpc::Status::OK);
      });
  return reactor;
}

void fillDescribeCluster(const MetadataSnapshot& metadata, v1::DescribeClusterResponse& out) {
  out.set_cluster_id(metadata.cluster_id);
  out.set_controller_id(metadata.controller_id);
  // std::map keeps brokers ordered by node id, as the API promises.
  for (const auto& [id, info] : metadata.brokers) {
    v1::Broker* broker = out.add_brokers();
    broker->set_node_id(id);
    broker->set_host(info.host);
    broker->set_port(info.port);
    if (info.rack) broker->set_rack(*info.rack);
  }
}

void fillListTopics(const MetadataSnapshot& metadata, v1::ListTopicsResponse& out) {
  for (const auto& [name, info] : metadata.topics) {
    v1::Topic* topic = out.add_topics();
    topic->set_name(name);
    if (!info.id.isZero()) topic->set_topic_id(info.id.toString());
    topic->set_internal(info.internal);
    if (info.error != ErrorCode::kNone) {
      fillError(info.error, "topic '" + name + "'", *topic->mutable_error());
    }
    for (const PartitionInfo& p : info.partitions) {
      v1::Partition* partition = topic->add_partitions();
      partition->set_partition(p.partition);
      partition->set_leader(p.leader);
      partition->set_leader_epoch(p.leader_epoch);
      partition->mutable_replicas()->Add(p.replicas.begin(), p.replicas.end());
      partition->mutable_isr()->Add(p.isr.begin(), p.isr.end());
      partition->mutable_offline_replicas()->Add(p.offline_replicas.begin(),
                                                 p.offline_replicas.end());
      if (p.error != ErrorCode::kNone) {
        fillError(p.error, "topic '" + name + "' partition " + std::to_string(p.partition),
                  *partition->mutable_error());
      }
    }
  }
}

void fillDescribeOffsets(const std::vector<consumer::TopicOffsets>& topics,
                         v1::DescribeOffsetsResponse& out) {
  for (const consumer::TopicOffsets& in : topics) {
    v1::TopicOffsets* topic = out.add_topics();
    topic->set_topic(in.topic);
    if (in.error.code != ErrorCode::kNone) fillKafkaError(in.error, *topic->mutable_error());
    for (const consumer::PartitionOffsets& p : in.partitions) {
      v1::PartitionOffsetInfo* partition = topic->add_partitions();
      partition->set_partition(p.partition);
      partition->set_earliest(p.earliest);
      partition->set_latest(p.latest);
      if (p.committed) partition->set_committed(*p.committed);
      partition->set_committed_metadata(p.committed_metadata);
      if (p.lag) partition->set_lag(*p.lag);
      if (p.error.code != ErrorCode::kNone) fillKafkaError(p.error, *partition->mutable_error());
    }
  }
}

}  // namespace kafka::sidecar
