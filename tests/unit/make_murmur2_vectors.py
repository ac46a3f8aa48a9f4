#!/usr/bin/python3
"""Writes tests/unit/murmur2_vectors.txt: Java-compatible murmur2 hashes and keyed partitions
computed by kafka-python's partitioner (an independent implementation of what the Java client
does), for client_core's partitioner test.

Each line: key as hex ("-" for the empty key), the 32-bit hash as an unsigned decimal, then the
partition for 1, 2, 3, 7, 12 and 100 partitions.

Run with Debian's Python: /usr/bin/python3 tests/unit/make_murmur2_vectors.py
"""
import os
import random

from kafka.partitioner.default import murmur2

COUNTS = [1, 2, 3, 7, 12, 100]


def keys():
    fixed = [b"", b"a", b"21", b"foobar", b"kafka-sidecar", b"order-12345", "ключ".encode(),
             b"\x00", b"\xff\xff\xff\xff", bytes(range(256))]
    rng = random.Random(20261121)
    # Every tail length (the hash treats the last len % 4 bytes separately), and longer keys.
    generated = [bytes(rng.getrandbits(8) for _ in range(n)) for n in list(range(1, 17)) * 4]
    generated += [bytes(rng.getrandbits(8) for _ in range(rng.randint(17, 300)))
                  for _ in range(40)]
    return fixed + generated


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "murmur2_vectors.txt")
    with open(path, "w") as out:
        out.write("# made by tests/unit/make_murmur2_vectors.py with kafka-python's murmur2\n")
        for key in keys():
            h = murmur2(key) & 0xFFFFFFFF
            parts = [str((h & 0x7FFFFFFF) % n) for n in COUNTS]
            out.write("%s %d %s\n" % (key.hex() or "-", h, " ".join(parts)))


if __name__ == "__main__":
    main()
