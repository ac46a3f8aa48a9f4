#!/usr/bin/python3
"""Writes tests/fuzz/corpus/record: record batches built by kafka-python (an independent
implementation) with every codec, RecordBatch v2 and legacy magic 0 and 1, as seeds for
record_fuzzer. Each seed is one flag byte (1: verify CRCs) followed by the batches.

Run with Debian's Python: /usr/bin/python3 tests/fuzz/make_record_corpus.py
"""
import os

from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.legacy_records import LegacyRecordBatchBuilder

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "record")
CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
RECORDS = [(b"key-%d" % i if i % 3 else None, b"value-%d " % i * (i + 1)) for i in range(12)]


def v2_batch(codec):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=False, producer_id=4242,
        producer_epoch=1, base_sequence=7, batch_size=1 << 20)
    for offset, (key, value) in enumerate(RECORDS):
        headers = [("h", b"header-%d" % offset)] if offset % 2 else []
        builder.append(offset, timestamp=1700000000000 + offset, key=key, value=value,
                       headers=headers)
    return bytes(builder.build())


def legacy_batch(magic, codec):
    builder = LegacyRecordBatchBuilder(magic=magic, compression_type=codec, batch_size=1 << 20)
    for offset, (key, value) in enumerate(RECORDS):
        timestamp = 1700000000000 + offset if magic else None
        builder.append(offset, timestamp=timestamp, key=key, value=value)
    return bytes(builder.build())


def main():
    os.makedirs(CORPUS, exist_ok=True)
    for name in os.listdir(CORPUS):
        os.remove(os.path.join(CORPUS, name))
    seeds = {}
    for name, codec in CODECS.items():
        seeds["v2_" + name] = v2_batch(codec)
        if codec != 4:  # zstd needs magic 2
            for magic in (0, 1):
                try:
                    seeds["magic%d_%s" % (magic, name)] = legacy_batch(magic, codec)
                except Exception as error:  # magic-0 lz4 needs python3-xxhash
                    raise SystemExit("cannot build magic %d %s: %s" % (magic, name, error))
    seeds["v2_two_batches"] = seeds["v2_none"] + seeds["v2_lz4"]
    for name, data in seeds.items():
        with open(os.path.join(CORPUS, name), "wb") as out:
            out.write(b"\x01" + data)
    print("wrote %d seeds to %s" % (len(seeds), CORPUS))


if __name__ == "__main__":
    main()
