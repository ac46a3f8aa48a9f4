#!/usr/bin/python3
"""kafka-python as one member of a consumer group shared with the sidecar's GroupMembership
(group_membership_test.cpp).

  kafka_python_group_member.py BOOTSTRAP GROUP TOPIC SESSION_MS HEARTBEAT_MS

Subscribes to TOPIC in GROUP with the range assignor and polls. After every rebalance it prints
  assigned TOPIC:PARTITION,...      (its whole assignment; "assigned" alone when empty)
and before giving partitions up
  revoked TOPIC:PARTITION,...
and it answers these commands, one per line on stdin:
  commit TOPIC PARTITION OFFSET METADATA   commits, then prints "committed"
  committed TOPIC PARTITION                prints "offset TOPIC PARTITION OFFSET METADATA"
                                           (-1 and - when nothing is committed)
  quit                                     leaves the group, prints "closed" and exits 0
Every wait is bounded: without "quit" it exits 1 after a minute.
"""

import os
import select
import sys
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.range import RangePartitionAssignor
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

DEADLINE_SECONDS = 60


def say(line):
    print(line, flush=True)


def listed(partitions):
    ordered = sorted(partitions, key=lambda tp: (tp.topic, tp.partition))
    return ",".join("%s:%d" % (tp.topic, tp.partition) for tp in ordered)


class Reporter(ConsumerRebalanceListener):
    def __init__(self):
        self.consumer = None

    def on_partitions_revoked(self, revoked):
        say("revoked " + listed(revoked))

    def on_partitions_assigned(self, assigned):
        say("assigned " + listed(self.consumer.assignment()))


def handle(consumer, words):
    if words[0] == "commit" and len(words) == 5:
        partition = TopicPartition(words[1], int(words[2]))
        consumer.commit({partition: OffsetAndMetadata(int(words[3]), words[4])})
        say("committed")
    elif words[0] == "committed" and len(words) == 3:
        committed = consumer.committed(TopicPartition(words[1], int(words[2])), metadata=True)
        if committed is None:
            say("offset %s %s -1 -" % (words[1], words[2]))
        else:
            say("offset %s %s %d %s" % (words[1], words[2], committed.offset,
                                        committed.metadata or "-"))
    elif words[0] == "quit":
        consumer.close()
        say("closed")
        sys.exit(0)
    else:
        sys.exit("unknown command %r" % " ".join(words))


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    bootstrap, group, topic = sys.argv[1:4]
    session_ms, heartbeat_ms = int(sys.argv[4]), int(sys.argv[5])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False,
                             partition_assignment_strategy=[RangePartitionAssignor],
                             session_timeout_ms=session_ms, heartbeat_interval_ms=heartbeat_ms,
                             fetch_max_wait_ms=100)
    reporter = Reporter()
    reporter.consumer = consumer
    consumer.subscribe([topic], listener=reporter)
    pending = b""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            consumer.poll(timeout_ms=50)
        except KafkaError as e:
            # kafka-python hands rebalance failures (such as the mock's INVALID_REQUEST to a
            # late follower SyncGroup) to the application; polling again rejoins.
            print("poll: %r" % e, file=sys.stderr, flush=True)
        while select.select([sys.stdin], [], [], 0)[0]:
            chunk = os.read(sys.stdin.fileno(), 4096)
            if not chunk:
                handle(consumer, ["quit"])
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    handle(consumer, line.decode().split())
    sys.exit("no quit command within %d seconds" % DEADLINE_SECONDS)


if __name__ == "__main__":
    main()
