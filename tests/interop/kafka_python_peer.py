#!/usr/bin/python3
"""kafka-python as an independent peer for the interop tests (tests/interop/*_interop_test.cpp).

Records travel one per line, as space-separated fields, so that any byte survives:
  OFFSET TIMESTAMP KEY VALUE HEADER_COUNT [HEADER_NAME HEADER_VALUE]...
where every byte string is "=" followed by its bytes in hex ("=" alone is empty), or "-" for
null (header names are never null).

  produce BOOTSTRAP TOPIC CODEC [PARTITION]
                                  reads records (offset ignored) from stdin and produces them to
                                  PARTITION (default 0) with compression CODEC (none, gzip,
                                  snappy, lz4, zstd)
  consume BOOTSTRAP TOPIC COUNT   reads COUNT records of partition 0 from the beginning, with CRC
                                  checks, and prints them
  commit BOOTSTRAP GROUP TOPIC PARTITION:OFFSET...
                                  commits these offsets for GROUP, without joining it (the
                                  mock refuses that for a group that has ever had members)
  committed BOOTSTRAP GROUP TOPIC PARTITION...
                                  prints "PARTITION OFFSET" per partition: GROUP's committed
                                  offset, or -1 when it has none
  legacy MAGIC CODEC              builds a legacy (magic 0 or 1) message set from the records on
                                  stdin (offsets and timestamps as given) and prints it in hex;
                                  exits 3 if kafka-python cannot (magic-0 lz4 without xxhash)

Every wait is bounded; the process exits non-zero on any failure.
"""

import sys
import time

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
from kafka.record.legacy_records import LegacyRecordBatchBuilder

DEADLINE_SECONDS = 30


def decode_bytes(field):
    if field == "-":
        return None
    if not field.startswith("="):
        sys.exit("bad byte string field %r" % field)
    return bytes.fromhex(field[1:])


def encode_bytes(value):
    return "-" if value is None else "=" + bytes(value).hex()


def read_records():
    """Each record as a dict of offset, timestamp, key, value and headers [(name, value)]."""
    records = []
    for line in sys.stdin:
        fields = line.split()
        if not fields:
            continue
        count = int(fields[4])
        if len(fields) != 5 + 2 * count:
            sys.exit("bad record line %r" % line)
        headers = [(decode_bytes(fields[5 + 2 * i]).decode(), decode_bytes(fields[6 + 2 * i]))
                   for i in range(count)]
        records.append({"offset": int(fields[0]), "timestamp": int(fields[1]),
                        "key": decode_bytes(fields[2]), "value": decode_bytes(fields[3]),
                        "headers": headers})
    return records


def format_record(offset, timestamp, key, value, headers):
    fields = [str(offset), str(timestamp), encode_bytes(key), encode_bytes(value),
              str(len(headers))]
    for name, header_value in headers:
        fields += [encode_bytes(name.encode()), encode_bytes(header_value)]
    return " ".join(fields)


def produce(bootstrap, topic, codec, partition):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=100,
                             batch_size=1 << 20, retries=0,
                             compression_type=None if codec == "none" else codec)
    futures = []
    for r in read_records():
        futures.append(producer.send(topic, partition=partition, key=r["key"], value=r["value"],
                                     headers=r["headers"], timestamp_ms=r["timestamp"]))
    producer.flush(timeout=DEADLINE_SECONDS)
    for future in futures:
        future.get(timeout=DEADLINE_SECONDS)
    producer.close(timeout=10)
    print("ok")


def consume(bootstrap, topic, count):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", check_crcs=True,
                             fetch_max_wait_ms=100)
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    consumer.seek_to_beginning(partition)
    seen = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while len(seen) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            seen.extend(batch)
    consumer.close()
    for m in seen:
        print(format_record(m.offset, m.timestamp, m.key, m.value, m.headers))
    if len(seen) != count:
        sys.exit("consumed %d records, expected %d" % (len(seen), count))


def group_consumer(bootstrap, group):
    return KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                         request_timeout_ms=DEADLINE_SECONDS * 1000)


def commit(bootstrap, group, topic, assignments):
    """Commits with a manual assignment: kafka-python sends generation -1 and no member id."""
    offsets = {}
    for assignment in assignments:
        partition, offset = assignment.split(":")
        offsets[TopicPartition(topic, int(partition))] = OffsetAndMetadata(int(offset), "")
    consumer = group_consumer(bootstrap, group)
    consumer.assign(list(offsets))
    consumer.commit(offsets)
    consumer.close(autocommit=False)
    print("ok")


def committed(bootstrap, group, topic, partitions):
    consumer = group_consumer(bootstrap, group)
    for partition in partitions:
        offset = consumer.committed(TopicPartition(topic, int(partition)))
        print(partition, -1 if offset is None else offset)
    consumer.close(autocommit=False)


# Exit code of `legacy` when kafka-python lacks what the request needs.
UNSUPPORTED = 3


def legacy(magic, codec):
    codecs = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3}
    if magic == 0 and codec == "lz4":
        # kafka-python writes the broken header checksum of magic-0 lz4 with python3-xxhash.
        try:
            import xxhash  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
        except ImportError:
            print("python3-xxhash is not installed", file=sys.stderr)
            sys.exit(UNSUPPORTED)
    builder = LegacyRecordBatchBuilder(magic=magic, compression_type=codecs[codec],
                                       batch_size=1 << 30)
    for r in read_records():
        if builder.append(r["offset"], r["timestamp"], r["key"], r["value"]) is None:
            sys.exit("the builder refused a record")
    print(bytes(builder.build()).hex())


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "produce" and len(sys.argv) in (5, 6):
        partition = int(sys.argv[5]) if len(sys.argv) == 6 else 0
        produce(sys.argv[2], sys.argv[3], sys.argv[4], partition)
    elif command == "consume" and len(sys.argv) == 5:
        consume(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif command == "commit" and len(sys.argv) >= 6:
        commit(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif command == "committed" and len(sys.argv) >= 6:
        committed(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    elif command == "legacy" and len(sys.argv) == 4:
        legacy(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
