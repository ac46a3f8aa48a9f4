#!/usr/bin/python3
"""Regenerates the golden Kafka frames in this directory.

Golden frames are bytes that implementations other than ours put on the wire: the requests of
kcat (librdkafka) and kafka-python, and the responses of librdkafka's mock broker. The unit test
tests/unit/golden_test.cpp decodes each one with our message definitions and re-encodes it,
expecting the very same bytes.

How: build/bin/mock-cluster (librdkafka's mock cluster) is started with one broker and a topic;
a recording TCP proxy on 127.0.0.1:0 stands in front of it. The peers talk to the proxy, which
passes every frame through unchanged except that it points broker addresses in responses at
itself, so that the clients keep talking through it after bootstrap. The frames stored are the
original ones. Each peer produces two fixed records and consumes them in a consumer group,
which exercises ApiVersions, Metadata, Produce, InitProducerId, Fetch, ListOffsets and the group
APIs.

Each frame is also written, in the fuzz targets' input layout, to tests/fuzz/corpus/request or
tests/fuzz/corpus/response as a seed.

For every (producer, API, version, direction) the largest frame seen is kept: it is the one with
the most content (a Fetch response carrying records rather than an empty one, say).

The admin APIs (CreateTopics, DeleteTopics, DescribeConfigs, ListGroups, DescribeGroups) are
served by no broker we have: their requests and responses are encoded by kafka-python instead
(kafka_python_admin.py) and written with the others. --admin-only rewrites just those, keeping
the captured frames as they are.

Run from anywhere:  /usr/bin/python3 tests/golden/capture.py [--mock-cluster PATH] [--admin-only]
Needs kcat and python3-kafka. The frames differ from run to run in ports, the mock's cluster id,
record timestamps and CRCs; the test depends on none of these.
"""

import argparse
import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

import kafka_python_admin

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(REPO, "tests", "fuzz", "corpus")

TOPIC = "golden"
KCAT_CLIENT_ID = "golden-kcat"
KAFKA_PYTHON_CLIENT_ID = "golden-kafka-python"
RECORDS = [(b"key-1", b"value-1"), (b"key-2", b"value-2")]
# kafka-python lets us fix the record timestamps; kcat always uses the current time.
KAFKA_PYTHON_TIMESTAMP_MS = 1700000000000

# The APIs whose frames are kept: the ones our client core defines and the mock serves, and the
# admin ones that kafka_python_admin.py encodes.
API_NAMES = {
    0: "produce",
    1: "fetch",
    2: "list_offsets",
    3: "metadata",
    8: "offset_commit",
    9: "offset_fetch",
    10: "find_coordinator",
    11: "join_group",
    12: "heartbeat",
    13: "leave_group",
    14: "sync_group",
    15: "describe_groups",
    16: "list_groups",
    18: "api_versions",
    19: "create_topics",
    20: "delete_topics",
    22: "init_producer_id",
    32: "describe_configs",
}
API_VERSIONS_KEY = 18
UNSUPPORTED_VERSION = 35


def log(message):
    print("capture.py: " + message, file=sys.stderr, flush=True)


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_frame(sock):
    """One whole frame, length prefix included, or None when the stream ends."""
    prefix = recv_exact(sock, 4)
    if prefix is None:
        return None
    (length,) = struct.unpack(">i", prefix)
    if length < 0 or length > 64 * 1024 * 1024:
        raise ValueError("implausible frame length %d" % length)
    body = recv_exact(sock, length)
    if body is None:
        return None
    return prefix + body


class Recorder:
    """Frames seen by the proxy, tagged with the peer that was running at the time."""

    def __init__(self):
        self.lock = threading.Lock()
        self.peer = None
        # (peer, api_key, version, direction, answers_version) -> frame
        self.frames = {}

    def set_peer(self, peer):
        with self.lock:
            self.peer = peer

    def add(self, peer, api_key, version, direction, answers_version, frame):
        if api_key not in API_NAMES:
            return
        key = (peer, api_key, version, direction, answers_version)
        with self.lock:
            if key not in self.frames or len(frame) > len(self.frames[key]):
                self.frames[key] = frame


class Proxy:
    """Accepts client connections on 127.0.0.1:0 and relays each to the mock broker."""

    def __init__(self, upstream_port, recorder):
        self.upstream_port = upstream_port
        self.recorder = recorder
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closing = True
        self.listener.close()

    def _accept(self):
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.recorder.lock:
                peer = self.recorder.peer
            in_flight = {}  # correlation id -> (api key, request version)
            threading.Thread(target=self._requests, args=(client, upstream, peer, in_flight),
                             daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client, in_flight),
                             daemon=True).start()

    def _requests(self, client, upstream, peer, in_flight):
        try:
            while True:
                frame = read_frame(client)
                if frame is None:
                    break
                api_key, version, correlation_id = struct.unpack(">hhi", frame[4:12])
                in_flight[correlation_id] = (api_key, version)
                self.recorder.add(peer, api_key, version, "request", None, frame)
                upstream.sendall(frame)
        except OSError:
            pass
        finally:
            shutdown(upstream)

    def _responses(self, upstream, client, in_flight):
        try:
            while True:
                frame = read_frame(upstream)
                if frame is None:
                    break
                (correlation_id,) = struct.unpack(">i", frame[4:8])
                api_key, request_version = in_flight.pop(correlation_id)
                version = request_version
                # A broker answers an ApiVersions request of a version it does not know in v0,
                # so that any client can read the error and the versions it does serve.
                if api_key == API_VERSIONS_KEY and \
                        struct.unpack(">h", frame[8:10])[0] == UNSUPPORTED_VERSION:
                    version = 0
                self.recorder.add("mock", api_key, version, "response", request_version, frame)
                client.sendall(self._redirect(frame))
        except OSError:
            pass
        finally:
            shutdown(client)

    def _redirect(self, frame):
        # Broker and coordinator addresses are host "127.0.0.1" then an int32 port, in every
        # version; rewriting the port keeps the frame's length.
        host = b"127.0.0.1"
        return frame.replace(host + struct.pack(">i", self.upstream_port),
                             host + struct.pack(">i", self.port))


def shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def run(command, stdin_text=None, timeout=60):
    log("running " + " ".join(command))
    result = subprocess.run(command, input=stdin_text, capture_output=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (command[0], result.returncode,
                                                   result.stderr.decode(errors="replace")))
    return result.stdout


def run_kcat(bootstrap):
    common = ["kcat", "-b", bootstrap, "-X", "client.id=" + KCAT_CLIENT_ID]
    lines = b"".join(k + b":" + v + b"\n" for k, v in RECORDS)
    run(common + ["-P", "-t", TOPIC, "-p", "0", "-K", ":", "-X", "enable.idempotence=true",
                  "-X", "linger.ms=50"], stdin_text=lines)
    out = run(common + ["-G", "golden-kcat-group", "-X", "auto.offset.reset=earliest",
                        "-c", str(len(RECORDS)), "-f", "%k:%s\\n", TOPIC])
    expected = b"".join(k + b":" + v + b"\n" for k, v in RECORDS)
    if out != expected:
        raise RuntimeError("kcat consumed %r, expected %r" % (out, expected))


def run_kafka_python(bootstrap):
    # Imported here so that --help works without it.
    from kafka import KafkaConsumer, KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id=KAFKA_PYTHON_CLIENT_ID,
                             linger_ms=50, acks=1)
    for key, value in RECORDS:
        producer.send(TOPIC, key=key, value=value, partition=0,
                      timestamp_ms=KAFKA_PYTHON_TIMESTAMP_MS)
    producer.flush(timeout=30)
    producer.close(timeout=10)

    consumer = KafkaConsumer(TOPIC, bootstrap_servers=bootstrap, client_id=KAFKA_PYTHON_CLIENT_ID,
                             group_id="golden-kafka-python-group", auto_offset_reset="earliest",
                             enable_auto_commit=False, fetch_max_wait_ms=100,
                             consumer_timeout_ms=20000)
    seen = []
    deadline = time.monotonic() + 30
    # Both peers wrote to partition 0: the kafka-python records follow kcat's.
    while len(seen) < 2 * len(RECORDS) and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            seen.extend((m.key, m.value) for m in batch)
    consumer.commit()
    consumer.close()
    if seen != RECORDS + RECORDS:
        raise RuntimeError("kafka-python consumed %r" % seen)


def frame_name(peer, api_key, version, direction, answers):
    name = "%s_%s_%s_v%d" % (peer.replace("-", "_"), API_NAMES[api_key], direction, version)
    if answers is not None and answers != version:
        name += "_to_v%d" % answers
    return name + ".hex"


def captured_frames():
    """The frames MANIFEST.txt lists now, but kafka_python_admin.py's, keyed as Recorder keys
    them."""
    admin = {key[:4] for key in kafka_python_admin.frames()}
    frames = {}
    with open(os.path.join(HERE, "MANIFEST.txt")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            name, api_key, _, version, direction, peer, answers, _ = line.split()
            key = (peer, int(api_key), int(version), direction,
                   None if answers == "-" else int(answers))
            if key[:4] in admin:
                continue
            with open(os.path.join(HERE, name)) as hex_file:
                frames[key] = bytes.fromhex("".join(hex_file.read().split()))
    return frames


def write_frames(frames):
    for name in os.listdir(HERE):
        if name.endswith(".hex"):
            os.remove(os.path.join(HERE, name))
    for direction in ("request", "response"):
        corpus = os.path.join(CORPUS, direction)
        os.makedirs(corpus, exist_ok=True)
        for name in os.listdir(corpus):
            os.remove(os.path.join(corpus, name))
    frames = dict(frames)
    frames.update(kafka_python_admin.frames())
    rows = []
    for (peer, api_key, version, direction, answers), frame in frames.items():
        name = frame_name(peer, api_key, version, direction, answers)
        with open(os.path.join(HERE, name), "w") as f:
            for i in range(0, len(frame), 32):
                f.write(frame[i:i + 32].hex() + "\n")
        # Fuzz seed: API key (int16), version (int8), then the frame without its length prefix.
        with open(os.path.join(CORPUS, direction, name[:-len(".hex")]), "wb") as f:
            f.write(struct.pack(">hb", api_key, version) + frame[4:])
        rows.append((name, api_key, API_NAMES[api_key], version, direction, peer,
                     "-" if answers is None else str(answers),
                     "reject" if is_malformed(api_key, direction, answers, frame) else "reencode"))
    rows.sort()
    with open(os.path.join(HERE, "MANIFEST.txt"), "w") as f:
        f.write("# Golden Kafka frames from independent implementations: requests sent by kcat\n"
                "# (librdkafka %s) and kafka-python %s, responses of librdkafka's mock broker.\n"
                "# Captured by a recording proxy in front of mock-cluster while each client\n"
                "# produced and then consumed fixed records (see capture.py). The admin APIs'\n"
                "# requests and responses (producer kafka-python) are encoded by kafka-python\n"
                "# itself, as the mock serves none of them (see kafka_python_admin.py).\n"
                "# Regenerate: /usr/bin/python3 tests/golden/capture.py [--admin-only]\n"
                "# (it runs build/bin/mock-cluster; --mock-cluster PATH names another build)\n"
                "# Each .hex file is one whole frame, length prefix included, in hex.\n"
                "# expect: reencode = decodes and re-encodes to the same bytes; reject = the\n"
                "# peer's frame is malformed and must fail to decode. The only such frame is the\n"
                "# mock's answer to an ApiVersions request newer than it serves: it writes the\n"
                "# api_keys count as a raw int8 (1, where a compact array would say 2) in a body\n"
                "# that is neither the v0 layout a broker must use there nor the v3 one.\n"
                "# Columns: file api_key api version direction producer answers_request_version"
                " expect\n"
                % (librdkafka_version(), kafka_python_version()))
        for row in rows:
            f.write(" ".join(str(c) for c in row) + "\n")
    log("wrote %d frames, and as many fuzz seeds in %s" % (len(rows), CORPUS))


def is_malformed(api_key, direction, answers, frame):
    """True for the known malformed frame of the mock (see the MANIFEST header)."""
    return (api_key == API_VERSIONS_KEY and direction == "response" and answers >= 3 and
            struct.unpack(">h", frame[8:10])[0] == UNSUPPORTED_VERSION)


def librdkafka_version():
    out = subprocess.run(["kcat", "-V"], capture_output=True).stdout.decode()
    found = re.search(r"librdkafka ([0-9][0-9.]*)", out)
    return found.group(1) if found else "unknown"


def kafka_python_version():
    import kafka
    return kafka.__version__


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mock-cluster", default=os.path.join(REPO, "build", "bin",
                                                               "mock-cluster"))
    parser.add_argument("--admin-only", action="store_true",
                        help="rewrite only the frames kafka_python_admin.py encodes")
    args = parser.parse_args()
    if args.admin_only:
        write_frames(captured_frames())
        return

    mock = subprocess.Popen([args.mock_cluster, "--topic", TOPIC + ":1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        bootstrap = mock.stdout.readline().strip()
        upstream_port = int(bootstrap.split(":")[1])
        # ListOffsets v4-v5 answers of the mock are malformed (LeaderEpoch written as int64).
        mock.stdin.write("apiversion ListOffsets 0 3\n")
        mock.stdin.flush()
        answer = mock.stdout.readline().strip()
        if answer != "ok":
            raise RuntimeError("mock-cluster refused apiversion: " + answer)
        recorder = Recorder()
        proxy = Proxy(upstream_port, recorder)
        proxy_bootstrap = "127.0.0.1:%d" % proxy.port
        recorder.set_peer("kcat")
        run_kcat(proxy_bootstrap)
        recorder.set_peer("kafka-python")
        run_kafka_python(proxy_bootstrap)
        proxy.close()
    finally:
        mock.stdin.close()
        mock.wait(timeout=30)
    write_frames(recorder.frames)


if __name__ == "__main__":
    main()
