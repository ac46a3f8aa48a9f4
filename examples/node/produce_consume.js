#!/usr/bin/env node
// Produce and consume through kafka-sidecar's gRPC API, from Node.js.
//
// 1. Produces three records (a key, a value and a "run-id" header each) in one Produce call.
// 2. Opens a consumer session in a group of its own, polls, and acks every record it is given,
//    one by one (manual acks: an ack says "done with this record").
// 3. Commits what was acked, closes the session, and checks that each record it produced came
//    back as it was sent, at the partition and offset that Produce reported.
//
// Exits 0 when everything matched, 1 with a message naming what was missing or different.
//
//   SIDECAR_GRPC       the sidecar's gRPC address (default localhost:50051)
//   SIDECAR_TOPIC      the topic (default "demo", which --embedded-broker creates)
//   SIDECAR_PROTO_DIR  the directory holding kafka/sidecar/v1/*.proto (default: this
//                      repository's proto/)
//
// @grpc/grpc-js and @grpc/proto-loader come from npm (package.json); the .proto files are loaded
// at run time, so there is no code generation step.
'use strict';

const crypto = require('node:crypto');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const RECORD_COUNT = 3;
const CONSUME_DEADLINE_MS = 30000;
const CALL_TIMEOUT_MS = 10000;
const RETRY_ATTEMPTS = 5;

// A request that the sidecar refused as malformed (INVALID_ARGUMENT): a bug in this program.
class ProgrammingError extends Error {}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calls a unary method of the sidecar with a deadline, retrying a few times while the sidecar is
// UNAVAILABLE.
//
// UNAVAILABLE means the sidecar is draining (its pod is stopping and a new one will take over),
// cannot be reached yet, or Kafka did not answer a commit in time: trying again shortly is the
// right reaction. Produce is safe to retry: at worst a record is written twice, which
// at-least-once delivery allows. INVALID_ARGUMENT names the field of the request that is wrong;
// retrying cannot help. Other codes (NOT_FOUND for an expired session, FAILED_PRECONDITION after
// a rebalance, ...) are left to the caller.
async function call(client, method, request) {
  let delayMs = 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await new Promise((resolve, reject) => {
        const deadline = new Date(Date.now() + CALL_TIMEOUT_MS);
        client[method](request, { deadline }, (error, response) =>
          error ? reject(error) : resolve(response));
      });
    } catch (error) {
      if (error.code === grpc.status.UNAVAILABLE && attempt < RETRY_ATTEMPTS) {
        console.error(`sidecar unavailable (${error.details}), retrying in ${delayMs} ms`);
        await sleep(delayMs);
        delayMs = Math.min(delayMs * 2, 5000);
        continue;
      }
      if (error.code === grpc.status.INVALID_ARGUMENT) {
        throw new ProgrammingError(error.details);
      }
      throw error;
    }
  }
}

// Loads the API from its .proto files. keepCase: fields keep their proto names (session_id);
// 64-bit integers (offsets) come as strings, so that none loses precision.
function loadApi(protoDir) {
  const files = ['producer.proto', 'consumer.proto'].map((name) =>
    path.join('kafka/sidecar/v1', name));
  const definition = protoLoader.loadSync(files, {
    includeDirs: [protoDir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(definition).kafka.sidecar.v1;
}

// Where Kafka put a record, as a map key.
const place = (partition, offset) => `${partition}@${offset}`;

// Writes RECORD_COUNT records and returns them by the place each got.
async function produce(producer, topic, runId) {
  const records = [];
  for (let i = 0; i < RECORD_COUNT; i++) {
    records.push({
      key: Buffer.from(`order-${i}`),
      value: Buffer.from(`order ${i} of run ${runId}`),
      headers: [{ key: 'run-id', value: Buffer.from(runId) }],
    });
  }
  const response = await call(producer, 'Produce', { topic, records });
  // One result per record, in request order. A record that failed says why; the sidecar has
  // already retried it for its whole delivery timeout.
  const produced = new Map();
  response.results.forEach((result, i) => {
    const record = records[i];
    if (result.error) {
      throw new Error(`record ${record.key} was not delivered: ` +
        `${result.error.name}: ${result.error.message}`);
    }
    produced.set(place(result.partition, result.offset), record);
    console.log(`produced ${record.key} to ${topic}/${result.partition} ` +
      `at offset ${result.offset}`);
  });
  return produced;
}

// Reads the topic as a member of `group` until every produced record came back; acks every
// record it is given (ours and any other), commits and closes. Returns what it found wrong.
async function consume(consumer, topic, group, runId, produced) {
  const spec = {
    group,
    topics: [topic],
    // A new group has no committed offsets: start at the beginning of each partition.
    offset_reset: 'OFFSET_RESET_EARLIEST',
    ack_mode: 'ACK_MODE_MANUAL',
  };
  const { session_id } = await call(consumer, 'Open', { spec });
  console.log(`opened session ${session_id} in group ${group}`);

  const missing = new Map(produced);
  const problems = [];
  try {
    const deadline = Date.now() + CONSUME_DEADLINE_MS;
    while (missing.size > 0 && Date.now() < deadline) {
      // A long poll: answers as soon as records are there, or after timeout_ms.
      const polled = await call(consumer, 'Poll', { session_id, timeout_ms: 1000 });
      for (const event of polled.events) {
        if (event.error && event.error.fatal) {
          throw new Error(`session ended: ${event.error.error.message}`);
        }
      }
      for (const batch of polled.records) {
        for (const record of batch.records) {
          problems.push(...check(batch, record, runId, missing));
          // Acked once handled: the commit below covers it, and the group will not deliver it
          // again. Unacked records come back after the ack timeout.
          await call(consumer, 'Ack', {
            session_id,
            partitions: [{ topic: batch.topic, partition: batch.partition,
              offsets: [record.offset] }],
          });
        }
      }
    }
    // Commit now rather than wait for the auto-commit interval (Close would commit too).
    const committed = await call(consumer, 'Commit', { session_id });
    for (const partition of committed.partitions) {
      if (partition.error) {
        problems.push(`commit of ${partition.topic}/${partition.partition} failed: ` +
          partition.error.name);
      } else {
        console.log(`committed ${partition.topic}/${partition.partition} ` +
          `up to offset ${partition.offset}`);
      }
    }
  } finally {
    // Leaves the group at once; the session would otherwise linger for its idle TTL.
    await call(consumer, 'Close', { session_id });
    console.log(`closed session ${session_id}`);
  }

  for (const [at, record] of missing) {
    problems.push(`record ${record.key} (${topic}/${at.replace('@', ' at offset ')}) ` +
      `was not delivered within ${CONSUME_DEADLINE_MS / 1000} s`);
  }
  return problems;
}

// Compares a consumed record with the one produced at its place. Records of other runs on the
// same topic are skipped. Returns the differences found.
function check(batch, record, runId, missing) {
  const ours = record.headers.some((header) =>
    header.key === 'run-id' && header.value && header.value.toString() === runId);
  if (!ours) return [];
  const at = place(batch.partition, record.offset);
  const where = `${batch.topic}/${at}`;
  const expected = missing.get(at);
  if (!expected) {
    // Delivered twice (at-least-once allows it) or at a place Produce did not report.
    console.log(`record ${record.key} at ${where} again`);
    return [];
  }
  missing.delete(at);
  console.log(`consumed ${record.key} from ${batch.topic}/${batch.partition} ` +
    `at offset ${record.offset}`);
  const problems = [];
  const same = (a, b) => a && b && Buffer.compare(a, b) === 0;
  if (!same(record.key, expected.key)) {
    problems.push(`${where}: key is ${record.key}, expected ${expected.key}`);
  }
  if (!same(record.value, expected.value)) {
    problems.push(`${where}: value is ${record.value}, expected ${expected.value}`);
  }
  const headers = (list) => JSON.stringify(list.map((h) => [h.key, h.value && h.value.toString()]));
  if (headers(record.headers) !== headers(expected.headers)) {
    problems.push(`${where}: headers are ${headers(record.headers)}, ` +
      `expected ${headers(expected.headers)}`);
  }
  return problems;
}

async function main() {
  const address = process.env.SIDECAR_GRPC || 'localhost:50051';
  const topic = process.env.SIDECAR_TOPIC || 'demo';
  const protoDir = process.env.SIDECAR_PROTO_DIR || path.join(__dirname, '..', '..', 'proto');
  // A run id tells this run's records apart from others on the topic; a group of our own starts
  // with no committed offsets.
  const runId = crypto.randomUUID().replaceAll('-', '');
  const group = `node-example-${runId}`;

  const api = loadApi(protoDir);
  // The sidecar runs beside the application: plain text on loopback (or a unix: socket). One
  // channel (one connection) serves both services.
  const channel = new grpc.Channel(address, grpc.credentials.createInsecure(), {});
  const producer = new api.Producer(address, null, { channelOverride: channel });
  const consumer = new api.Consumer(address, null, { channelOverride: channel });
  try {
    const produced = await produce(producer, topic, runId);
    const problems = await consume(consumer, topic, group, runId, produced);
    for (const problem of problems) console.error(`FAIL: ${problem}`);
    if (problems.length > 0) return 1;
    console.log(`ok: ${RECORD_COUNT} records produced, consumed, acked and committed`);
    return 0;
  } catch (error) {
    if (error instanceof ProgrammingError) {
      console.error('FAIL: the sidecar refused a request as invalid (a bug here): ' +
        error.message);
    } else if (error.code !== undefined && error.details !== undefined) {
      console.error(`FAIL: ${grpc.status[error.code]}: ${error.details}`);
    } else {
      console.error(`FAIL: ${error.message}`);
    }
    return 1;
  } finally {
    // Not consumer.close(), which is the Consumer.Close call: the generated client names its
    // methods after the service's, shadowing the client's own close().
    channel.close();
  }
}

main().then((code) => {
  process.exitCode = code;
});
