#!/usr/bin/python3
"""Golden frames of the admin APIs, encoded by kafka-python.

librdkafka's mock broker serves none of CreateTopics, DeleteTopics, DescribeConfigs, ListGroups
and DescribeGroups, so capture.py cannot record them on the wire. kafka-python 2.0.2 defines
both their requests and their responses (kafka.protocol.admin), so it is made to encode fixed
values in two versions of each: requests through its own client framing
(KafkaProtocol.send_request, as it sends them to a broker), responses as a broker frames them
(a correlation id, then the body). The consumer-protocol assignments and subscriptions inside
the DescribeGroups responses are kafka-python's too (kafka.coordinator.protocol).

capture.py imports frames() and writes the files with the captured ones; to rewrite only these,
run:  /usr/bin/python3 tests/golden/capture.py --admin-only

Versions, and kafka-python's mistakes they steer around:
  - CreateTopics v2, v3; DeleteTopics v1, v3; DescribeConfigs v1, v2; ListGroups v0, v1;
    DescribeGroups v0, v2, and a v3 request.
  - ListGroupsRequest_v2 says it is v1 (API_VERSION = 1): no ListGroups v2.
  - DescribeGroupsResponse_v3 puts authorized_operations after the groups array instead of in
    each group, as Kafka's v3 has it: no DescribeGroups v3 response.
  - DescribeConfigsResponse_v1 still has v0's is_default boolean where Kafka's v1 has
    config_source, an int8 of the same width: the frame re-encodes byte for byte, and its value
    1 reads as config_source 1.
"""

import struct

CLIENT_ID = "golden-kafka-python"
PEER = "kafka-python"
CREATE_TOPICS, DELETE_TOPICS, DESCRIBE_CONFIGS, LIST_GROUPS, DESCRIBE_GROUPS = 19, 20, 32, 16, 15
TOPIC_RESOURCE, BROKER_RESOURCE = 2, 4


def encode_request(request, correlation_id):
    """A whole request frame, as kafka-python writes it to a broker."""
    from kafka.protocol.parser import KafkaProtocol

    protocol = KafkaProtocol(client_id=CLIENT_ID)
    protocol.send_request(request, correlation_id=correlation_id)
    return protocol.send_bytes()


def encode_response(response, correlation_id):
    """A whole response frame: response header v0 (the correlation id), then the body."""
    body = struct.pack(">i", correlation_id) + response.encode()
    return struct.pack(">i", len(body)) + body


def consumer_member(subscription, assignment):
    """kafka-python's encodings of a consumer's subscription and assignment."""
    from kafka.coordinator.protocol import (ConsumerProtocolMemberAssignment,
                                            ConsumerProtocolMemberMetadata)

    metadata = ConsumerProtocolMemberMetadata(0, subscription, b"")
    assigned = ConsumerProtocolMemberAssignment(0, assignment, b"")
    return metadata.encode(), assigned.encode()


def frames():
    """{(peer, api_key, version, direction, answers_version): frame}, as capture.py keys them."""
    from kafka.protocol import admin

    out = {}

    def add(api_key, version, request, response):
        correlation_id = 100 + api_key * 10 + version
        out[(PEER, api_key, version, "request", None)] = encode_request(request, correlation_id)
        if response is not None:
            out[(PEER, api_key, version, "response", version)] = encode_response(response,
                                                                                  correlation_id)

    for version, validate_only in ((2, False), (3, True)):
        request = admin.CreateTopicsRequest[version](
            create_topic_requests=[
                ("golden-created", 3, 2, [], [("cleanup.policy", "compact"),
                                              ("retention.ms", None)]),
                ("golden-assigned", -1, -1, [(0, [1, 2]), (1, [2, 3])], []),
            ],
            timeout=30000, validate_only=validate_only)
        response = admin.CreateTopicsResponse[version](
            throttle_time_ms=version,
            topic_errors=[("golden-created", 0, None),
                          ("golden-assigned", 36, "Topic 'golden-assigned' already exists.")])
        add(CREATE_TOPICS, version, request, response)

    for version in (1, 3):
        request = admin.DeleteTopicsRequest[version](topics=["golden-a", "golden-b"],
                                                     timeout=15000)
        response = admin.DeleteTopicsResponse[version](
            throttle_time_ms=0, topic_error_codes=[("golden-a", 0), ("golden-b", 3)])
        add(DELETE_TOPICS, version, request, response)

    for version in (1, 2):
        request = admin.DescribeConfigsRequest[version](
            resources=[(TOPIC_RESOURCE, "golden", ["cleanup.policy", "ssl.key.password"]),
                       (BROKER_RESOURCE, "1", None)],
            include_synonyms=True)
        response = admin.DescribeConfigsResponse[version](
            throttle_time_ms=0,
            resources=[
                (0, None, TOPIC_RESOURCE, "golden", [
                    ("cleanup.policy", "compact", False, 1, False,
                     [("cleanup.policy", "compact", 1), ("log.cleanup.policy", "delete", 5)]),
                    ("ssl.key.password", None, True, 4 if version >= 2 else 0, True, []),
                ]),
                (29, "Not authorized", BROKER_RESOURCE, "1", []),
            ])
        add(DESCRIBE_CONFIGS, version, request, response)

    for version in (0, 1):
        request = admin.ListGroupsRequest[version]()
        fields = dict(error_code=0, groups=[("golden-group", "consumer"), ("golden-offsets", "")])
        if version >= 1:
            fields["throttle_time_ms"] = 0
        add(LIST_GROUPS, version, request, admin.ListGroupsResponse[version](**fields))

    metadata, assignment = consumer_member(["golden", "audit"], [("golden", [0, 2]),
                                                                 ("audit", [1])])
    for version in (0, 2, 3):
        fields = dict(groups=["golden-group", "golden-gone"])
        if version >= 3:
            fields["include_authorized_operations"] = True
        request = admin.DescribeGroupsRequest[version](**fields)
        response = None
        if version < 3:
            fields = dict(groups=[(0, "golden-group", "Stable", "consumer", "range",
                                   [("golden-member-1", "golden-client", "/127.0.0.1", metadata,
                                     assignment)]),
                                  (0, "golden-gone", "Dead", "", "", [])])
            if version >= 1:
                fields["throttle_time_ms"] = 7
            response = admin.DescribeGroupsResponse[version](**fields)
        add(DESCRIBE_GROUPS, version, request, response)
    return out


if __name__ == "__main__":
    for key, frame in sorted(frames().items(), key=lambda item: str(item[0])):
        print(key, frame.hex())
