#!/usr/bin/python3
"""Produce and consume through kafka-sidecar's gRPC API, from Python.

1. Produces three records (a key, a value and a "run-id" header each) in one Produce call.
2. Opens a consumer session in a group of its own, polls, and acks every record it is given,
   one by one (manual acks: an ack says "done with this record").
3. Commits what was acked, closes the session, and checks that each record it produced came
   back as it was sent, at the partition and offset that Produce reported.

Exits 0 when everything matched, 1 with a message naming what was missing or different.

    SIDECAR_GRPC   the sidecar's gRPC address (default localhost:50051)
    SIDECAR_TOPIC  the topic (default "demo", which --embedded-broker creates)

The stubs come from protoc and grpc_python_plugin (see examples/README.md); their directory must
be on PYTHONPATH.
"""

import os
import sys
import time
import uuid

import grpc

from kafka.sidecar.v1 import common_pb2, consumer_pb2, consumer_pb2_grpc
from kafka.sidecar.v1 import producer_pb2, producer_pb2_grpc

RECORD_COUNT = 3
CONSUME_DEADLINE_SECONDS = 30
CALL_TIMEOUT_SECONDS = 10
RETRY_ATTEMPTS = 5


class ProgrammingError(Exception):
    """The sidecar refused a request as malformed (INVALID_ARGUMENT): a bug in this program."""


def call(method, request, timeout=CALL_TIMEOUT_SECONDS):
    """Calls a unary method of the sidecar, retrying a few times while it is UNAVAILABLE.

    UNAVAILABLE means the sidecar is draining (its pod is stopping and a new one will take
    over), cannot be reached yet, or Kafka did not answer a commit in time: trying again
    shortly is the right reaction. Produce is safe to retry: at worst a record is written
    twice, which at-least-once delivery allows. INVALID_ARGUMENT names the field of the request
    that is wrong; retrying cannot help. Other codes (NOT_FOUND for an expired session,
    FAILED_PRECONDITION after a rebalance, ...) are left to the caller.
    """
    delay = 0.2
    for attempt in range(1, RETRY_ATTEMPTS + 1):
        try:
            return method(request, timeout=timeout)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAVAILABLE and attempt < RETRY_ATTEMPTS:
                print(f"sidecar unavailable ({error.details()}), retrying in {delay:.1f} s",
                      file=sys.stderr)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise ProgrammingError(error.details()) from error
            raise
    raise AssertionError("unreachable")


def produce(producer, topic, run_id):
    """Writes RECORD_COUNT records and returns them, each with the partition and offset it got."""
    records = [
        producer_pb2.ProduceRecord(
            key=f"order-{i}".encode(),
            value=f"order {i} of run {run_id}".encode(),
            headers=[common_pb2.RecordHeader(key="run-id", value=run_id.encode())])
        for i in range(RECORD_COUNT)
    ]
    response = call(producer.Produce, producer_pb2.ProduceRequest(topic=topic, records=records))
    # One result per record, in request order. A record that failed says why; the sidecar has
    # already retried it for its whole delivery timeout.
    produced = {}
    for record, result in zip(records, response.results):
        if result.HasField("error"):
            raise RuntimeError(f"record {record.key.decode()} was not delivered: "
                               f"{result.error.name}: {result.error.message}")
        produced[(result.partition, result.offset)] = record
        print(f"produced {record.key.decode()} to {topic}/{result.partition} "
              f"at offset {result.offset}")
    return produced


def consume(consumer, topic, group, run_id, produced):
    """Reads the topic as a member of `group` until every produced record came back; acks every
    record it is given (ours and any other), commits and closes. Returns what it found wrong."""
    spec = consumer_pb2.SessionSpec(
        group=group,
        topics=[topic],
        # A new group has no committed offsets: start at the beginning of each partition.
        offset_reset=consumer_pb2.OFFSET_RESET_EARLIEST,
        ack_mode=consumer_pb2.ACK_MODE_MANUAL)
    session_id = call(consumer.Open, consumer_pb2.OpenRequest(spec=spec)).session_id
    print(f"opened session {session_id} in group {group}")

    missing = dict(produced)
    problems = []
    deadline = time.monotonic() + CONSUME_DEADLINE_SECONDS
    try:
        while missing and time.monotonic() < deadline:
            # A long poll: answers as soon as records are there, or after timeout_ms.
            polled = call(consumer.Poll,
                          consumer_pb2.PollRequest(session_id=session_id, timeout_ms=1000))
            for event in polled.events:
                if event.HasField("error") and event.error.fatal:
                    raise RuntimeError(f"session ended: {event.error.error.message}")
            for batch in polled.records:
                for record in batch.records:
                    problems += check(batch.topic, batch.partition, record, run_id, missing)
                    # Acked once handled: the commit below covers it, and the group will not
                    # deliver it again. Unacked records come back after the ack timeout.
                    call(consumer.Ack,
                         consumer_pb2.AckRequest(
                             session_id=session_id,
                             partitions=[
                                 consumer_pb2.PartitionOffsets(topic=batch.topic,
                                                               partition=batch.partition,
                                                               offsets=[record.offset])
                             ]))
        # Commit now rather than wait for the auto-commit interval (Close would commit too).
        committed = call(consumer.Commit, consumer_pb2.CommitRequest(session_id=session_id))
        for partition in committed.partitions:
            if partition.HasField("error"):
                problems.append(f"commit of {partition.topic}/{partition.partition} failed: "
                                f"{partition.error.name}")
            else:
                print(f"committed {partition.topic}/{partition.partition} "
                      f"up to offset {partition.offset}")
    finally:
        # Leaves the group at once; the session would otherwise linger for its idle TTL.
        call(consumer.Close, consumer_pb2.CloseRequest(session_id=session_id))
        print(f"closed session {session_id}")

    for (partition, offset), record in sorted(missing.items()):
        problems.append(f"record {record.key.decode()} ({topic}/{partition} at offset {offset}) "
                        f"was not delivered within {CONSUME_DEADLINE_SECONDS} s")
    return problems


def check(topic, partition, record, run_id, missing):
    """Compares a consumed record with the one produced at its place. Records of other runs on
    the same topic are skipped. Returns the differences found."""
    headers = {header.key: header.value for header in record.headers}
    if headers.get("run-id") != run_id.encode():
        return []
    expected = missing.pop((partition, record.offset), None)
    if expected is None:
        # Delivered twice (at-least-once allows it) or at a place Produce did not report.
        print(f"record {record.key.decode()} at {topic}/{partition}@{record.offset} again")
        return []
    print(f"consumed {record.key.decode()} from {topic}/{partition} at offset {record.offset}")
    problems = []
    for field in ("key", "value", "headers"):
        if getattr(record, field) != getattr(expected, field):
            problems.append(f"{topic}/{partition}@{record.offset}: {field} is "
                            f"{getattr(record, field)!r}, expected {getattr(expected, field)!r}")
    return problems


def main():
    address = os.environ.get("SIDECAR_GRPC", "localhost:50051")
    topic = os.environ.get("SIDECAR_TOPIC", "demo")
    # A run id tells this run's records apart from others on the topic; a group of our own
    # starts with no committed offsets.
    run_id = uuid.uuid4().hex
    group = f"python-example-{run_id}"

    # The sidecar runs beside the application: plain text on loopback (or a unix: socket).
    with grpc.insecure_channel(address) as channel:
        producer = producer_pb2_grpc.ProducerStub(channel)
        consumer = consumer_pb2_grpc.ConsumerStub(channel)
        try:
            produced = produce(producer, topic, run_id)
            problems = consume(consumer, topic, group, run_id, produced)
        except ProgrammingError as error:
            print(f"FAIL: the sidecar refused a request as invalid (a bug here): {error}",
                  file=sys.stderr)
            return 1
        except grpc.RpcError as error:
            print(f"FAIL: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
        except RuntimeError as error:
            print(f"FAIL: {error}", file=sys.stderr)
            return 1

    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {RECORD_COUNT} records produced, consumed, acked and committed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
