#!/usr/bin/python3
"""Writes tests/fuzz/corpus/consumer_protocol: subscriptions and assignments of the consumer
protocol, every version and a newer one with fields we do not know, as seeds for
consumer_protocol_fuzzer. They are encoded with kafka-python's protocol types (an independent
implementation): its own v0 messages, and the later versions assembled from its primitives. Each
seed is one selector byte (0: subscription, 1: assignment) followed by the message.

Run with Debian's Python: /usr/bin/python3 tests/fuzz/make_consumer_protocol_corpus.py
"""
import os

from kafka.coordinator.protocol import (ConsumerProtocolMemberAssignment,
                                        ConsumerProtocolMemberMetadata)
from kafka.protocol.types import Array, Bytes, Int16, Int32, Schema, String

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "consumer_protocol")

TOPIC_PARTITIONS = Array(("topic", String("utf-8")), ("partitions", Array(Int32)))
SUBSCRIPTION_FIELDS = [
    ("version", Int16),
    ("topics", Array(String("utf-8"))),
    ("user_data", Bytes),
    ("owned_partitions", TOPIC_PARTITIONS),  # v1+
    ("generation_id", Int32),  # v2+
    ("rack_id", String("utf-8")),  # v3+, nullable
]
FIELDS_IN_VERSION = {0: 3, 1: 4, 2: 5, 3: 6}

TOPICS = ["orders", "payments"]
OWNED = [("orders", [0, 2]), ("payments", [1])]


def subscription(version, user_data=b"\x00\x00\x00\x07", rack="rack-a"):
    values = [version, TOPICS, user_data, OWNED, 12, rack]
    count = FIELDS_IN_VERSION[min(version, 3)]
    return Schema(*SUBSCRIPTION_FIELDS[:count]).encode(values[:count])


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for name in os.listdir(CORPUS):
        os.remove(os.path.join(CORPUS, name))
    seeds = {
        "subscription_v0_kafka_python":
            ConsumerProtocolMemberMetadata.encode([0, TOPICS, b""]),
        "assignment_v0_kafka_python":
            ConsumerProtocolMemberAssignment.encode([0, OWNED, b""]),
        "assignment_v3_null_user_data":
            ConsumerProtocolMemberAssignment.encode([3, OWNED, None]),
        "assignment_empty": b"",
        "subscription_v3_nulls": subscription(3, user_data=None, rack=None),
        # A later version appends fields: here an int32 and a string.
        "subscription_v4_newer": subscription(4) + Int32.encode(42) + String("utf-8").encode("z"),
    }
    for version in range(1, 4):
        seeds["subscription_v%d" % version] = subscription(version)
    for name, message in seeds.items():
        selector = b"\x01" if name.startswith("assignment") else b"\x00"
        with open(os.path.join(CORPUS, name), "wb") as out:
            out.write(selector + message)
    print("wrote %d seeds to %s" % (len(seeds), CORPUS))


if __name__ == "__main__":
    main()
