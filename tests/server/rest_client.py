#!/usr/bin/python3
"""A REST client in Python (urllib only) against the sidecar's gateway, with kafka-python as the
independent peer on the same cluster (tests/server/rest_gateway_test.cpp runs it):

  rest_client.py HTTP_PORT BOOTSTRAP TOPIC GROUP

1. kafka-python writes 3 records to partition 0 of TOPIC; the gateway writes 2 more (text).
2. Through the gateway: open a session of GROUP on partition 0, long-poll the 5 records
   (base64, compared byte for byte), ack them, commit, and close.
3. kafka-python reads the 5 records back and finds the gateway's as they were sent, and finds
   GROUP's committed offset at 5.

Prints "ok" and exits 0, or names the first difference and exits 1. Every wait is bounded.
"""

import base64
import json
import sys
import time
import urllib.error
import urllib.request

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

DEADLINE_SECONDS = 30


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def call(port, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=data,
                                     method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        fail("%s %s answered %d: %s" % (method, path, error.code, error.read().decode()))


def b64(data):
    return base64.b64encode(data).decode()


def main():
    port, bootstrap, topic, group = sys.argv[1:5]
    from_python = [(b"k0", b"\x00\xffbinary", [("h", b"\x01")]),
                   (None, b"v1", []),
                   (b"k2", None, [])]
    producer = KafkaProducer(bootstrap_servers=bootstrap, api_version_auto_timeout_ms=10000)
    for key, value, headers in from_python:
        producer.send(topic, key=key, value=value, headers=headers, partition=0).get(timeout=10)
    producer.close()

    results = call(port, "POST", "/v1/topics/%s/records?encoding=text" % topic, {
        "records": [{"key": "k3", "value": "héllo", "headers": [{"key": "via", "value": "rest"}]},
                    {"key": "k4", "value": "{\"json\": true}", "partition": 0}]})["results"]
    if [r["offset"] for r in results] != ["3", "4"]:
        fail("the gateway's records went to offsets %s" % [r["offset"] for r in results])

    session = call(port, "POST", "/v1/consumers", {"spec": {
        "group": group, "assignment": [{"topic": topic, "partitions": [0]}],
        "offset_reset": "OFFSET_RESET_EARLIEST"}})["session_id"]
    records = []
    deadline = time.time() + DEADLINE_SECONDS
    while len(records) < 5 and time.time() < deadline:
        polled = call(port, "GET", "/v1/consumers/%s/records?timeout_ms=1000" % session)
        for partition in polled["records"]:
            records.extend(partition["records"])
    if len(records) != 5:
        fail("polled %d records, not 5" % len(records))
    for record, (key, value, headers) in zip(records, from_python):
        if record.get("key") != (None if key is None else b64(key)):
            fail("key of offset %s: %s" % (record["offset"], record.get("key")))
        if record.get("value") != (None if value is None else b64(value)):
            fail("value of offset %s: %s" % (record["offset"], record.get("value")))
        got = [(h["key"], base64.b64decode(h["value"])) for h in record["headers"]]
        if got != headers:
            fail("headers of offset %s: %s" % (record["offset"], got))
    if records[3]["value"] != b64("héllo".encode()):
        fail("the gateway's text came back as %s" % records[3]["value"])

    call(port, "POST", "/v1/consumers/%s/acks" % session,
         {"partitions": [{"topic": topic, "partition": 0, "offsets": [0, 1, 2, 3, 4]}]})
    committed = call(port, "POST", "/v1/consumers/%s/commit" % session, {})["partitions"]
    if [c["offset"] for c in committed] != ["5"]:
        fail("committed %s" % committed)
    call(port, "DELETE", "/v1/consumers/%s" % session)

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, api_version_auto_timeout_ms=10000)
    partition = TopicPartition(topic, 0)
    if consumer.committed(partition) != 5:
        fail("kafka-python sees the committed offset %s" % consumer.committed(partition))
    consumer.assign([partition])
    consumer.seek(partition, 3)
    seen = []
    while len(seen) < 2 and time.time() < deadline:
        for batch in consumer.poll(timeout_ms=500).values():
            seen.extend(batch)
    consumer.close()
    expected = [(b"k3", "héllo".encode(), [("via", b"rest")]), (b"k4", b'{"json": true}', [])]
    if [(r.key, r.value, list(r.headers)) for r in seen] != expected:
        fail("kafka-python read %s" % [(r.key, r.value, r.headers) for r in seen])
    print("ok")


if __name__ == "__main__":
    main()
