#!/usr/bin/env bash
# Produce and consume through kafka-sidecar's REST gateway, with curl and jq.
#
# 1. Produces three records (a key, a value and a "run-id" header each) in one request.
# 2. Opens a consumer session in a group of its own, polls, and acks every record it is given,
#    one by one (manual acks: an ack says "done with this record").
# 3. Commits what was acked, closes the session, and checks that each record it produced came
#    back as it was sent, at the partition and offset that the produce request reported.
#
# Exits 0 when everything matched, 1 with a message naming what was missing or different.
#
#   SIDECAR_HTTP   the sidecar's HTTP listener (default http://localhost:8080)
#   SIDECAR_TOPIC  the topic (default "demo", which --embedded-broker creates)
#
# Every request uses ?encoding=text: keys, values and header values travel as UTF-8 text rather
# than base64, which is easier to read (use base64, the default, for binary data).
set -euo pipefail

readonly HTTP=${SIDECAR_HTTP:-http://localhost:8080}
readonly TOPIC=${SIDECAR_TOPIC:-demo}
readonly RECORD_COUNT=3
readonly CONSUME_DEADLINE_SECONDS=30
readonly RETRY_ATTEMPTS=5

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# api METHOD PATH [BODY]: one request to the gateway; prints the answer's JSON.
#
# A failure comes back as the HTTP status of its gRPC status, with {"code", "message"}. 503
# (UNAVAILABLE) means the sidecar is draining (its pod is stopping and a new one will take
# over), cannot be reached yet, or Kafka did not answer a commit in time: trying again shortly
# is the right reaction, and producing again is safe (at worst a record is written twice, which
# at-least-once delivery allows). 400 with INVALID_ARGUMENT names the field of the request that
# is wrong: a bug here, which no retry fixes. Other statuses (404 NOT_FOUND for an expired
# session, 400 FAILED_PRECONDITION after a rebalance, ...) are the caller's to handle; this
# script gives up on them.
api() {
  local method=$1 path=$2 body=${3:-} delay=0.2 attempt answer status curl_status
  local args=(-sS -X "$method" --max-time 10 -w '\n%{http_code}')
  # Bodies must say they are JSON: curl -d alone would send a form, refused with 415.
  [[ -z $body ]] || args+=(-H 'Content-Type: application/json' --data-binary "$body")
  for ((attempt = 1; ; attempt++)); do
    # The HTTP status is the last line of what curl prints.
    curl_status=0
    answer=$(curl "${args[@]}" "$HTTP$path") || curl_status=$?
    status=${answer##*$'\n'}
    answer=${answer%$'\n'*}
    # curl's 7: the connection was refused, as while the sidecar (re)starts.
    if [[ $status == 503 || $curl_status == 7 ]] && ((attempt < RETRY_ATTEMPTS)); then
      echo "sidecar unavailable, retrying in $delay s" >&2
      sleep "$delay"
      delay=$(awk "BEGIN { print ($delay * 2 > 5) ? 5 : $delay * 2 }")
      continue
    fi
    ((curl_status == 0)) || fail "$method $HTTP$path: curl failed with status $curl_status"
    case $status in
      2??)
        printf '%s\n' "$answer"
        return 0
        ;;
      400)
        if [[ $(jq -r .code <<<"$answer") == INVALID_ARGUMENT ]]; then
          fail "the sidecar refused $method $path as invalid (a bug here):" \
            "$(jq -r .message <<<"$answer")"
        fi
        ;;
    esac
    fail "$method $path: HTTP $status: $answer"
  done
}

# A run id tells this run's records apart from others on the topic; a group of our own starts
# with no committed offsets.
run_id=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
group=curl-example-$run_id
# The topic goes into URLs: percent-encode it.
topic_path=$(jq -rn --arg topic "$TOPIC" '$topic | @uri')

# 1. Produce. One result per record, in request order; a record that failed says why (the
# sidecar has already retried it for its whole delivery timeout).
records=$(jq -nc --arg run "$run_id" --argjson count "$RECORD_COUNT" '{records: [
  range($count) as $i | {key: "order-\($i)", value: "order \($i) of run \($run)",
                         headers: [{key: "run-id", value: $run}]}]}')
results=$(api POST "/v1/topics/$topic_path/records?encoding=text" "$records")
failed=$(jq -r '.results[] | select(.error) | "\(.error.name): \(.error.message)"' <<<"$results")
[[ -z $failed ]] || fail "records were not delivered: $failed"
# What the consumer must find: each record with the place Kafka gave it.
expected=$(jq -c --argjson sent "$records" \
  '[.results | to_entries[] | $sent.records[.key] + {partition: .value.partition,
                                                       offset: .value.offset}]' <<<"$results")
jq -r --arg topic "$TOPIC" \
  '.[] | "produced \(.key) to \($topic)/\(.partition) at offset \(.offset)"' <<<"$expected"

# 2. Consume as a member of the group, manual acks.
spec=$(jq -nc --arg group "$group" --arg topic "$TOPIC" '{spec: {
  group: $group, topics: [$topic],
  offset_reset: "OFFSET_RESET_EARLIEST",
  ack_mode: "ACK_MODE_MANUAL"}}')
# offset_reset: a new group has no committed offsets, so start at each partition's beginning.
session=$(api POST /v1/consumers "$spec" | jq -r .session_id)
echo "opened session $session in group $group"
close_session() {
  # Leaves the group at once; the session would otherwise linger for its idle TTL.
  api DELETE "/v1/consumers/$session" >/dev/null
  echo "closed session $session"
}
trap close_session EXIT

consumed='[]'
deadline=$((SECONDS + CONSUME_DEADLINE_SECONDS))
while (($(jq length <<<"$consumed") < RECORD_COUNT && SECONDS < deadline)); do
  # A long poll: answers as soon as records are there, or after timeout_ms.
  polled=$(api GET "/v1/consumers/$session/records?timeout_ms=1000&encoding=text")
  fatal=$(jq -r '.events[]? | select(.error.fatal) | .error.error.message' <<<"$polled")
  [[ -z $fatal ]] || fail "session ended: $fatal"
  # One line per record, with its topic and partition.
  while IFS= read -r record; do
    [[ -n $record ]] || continue
    if jq -e --arg run "$run_id" 'any(.headers[]?; .key == "run-id" and .value == $run)' \
      <<<"$record" >/dev/null; then
      jq -r '"consumed \(.key) from \(.topic)/\(.partition) at offset \(.offset)"' <<<"$record"
      # Kept once per place: at-least-once delivery may hand a record over twice.
      consumed=$(jq -c --argjson record "$record" \
        'map(select(.partition != $record.partition or .offset != $record.offset))
         + [$record]' <<<"$consumed")
    fi
    # Acked once handled: the commit below covers it, and the group will not deliver it again.
    # Unacked records come back after the ack timeout.
    ack=$(jq -c '{partitions: [{topic, partition, offsets: [.offset]}]}' <<<"$record")
    api POST "/v1/consumers/$session/acks" "$ack" >/dev/null
  done < <(jq -c '.records[]? | .topic as $t | .partition as $p
                  | .records[] | {topic: $t, partition: $p} + .' <<<"$polled")
done

# 3. Commit now rather than wait for the auto-commit interval (closing would commit too).
committed=$(api POST "/v1/consumers/$session/commit" '{}')
jq -r '.partitions[] | select(.error == null)
       | "committed \(.topic)/\(.partition) up to offset \(.offset)"' <<<"$committed"
trap - EXIT
close_session

# Every produced record must have come back as it was sent, where Kafka put it, and every
# commit must have succeeded.
problems=$(jq -r --argjson consumed "$consumed" --argjson committed "$committed" \
  --arg topic "$TOPIC" --argjson deadline "$CONSUME_DEADLINE_SECONDS" '
  (.[] as $sent
   | ($consumed | map(select(.partition == $sent.partition and .offset == $sent.offset))
      | first) as $got
   | "\($topic)/\($sent.partition)@\($sent.offset)" as $where
   | if $got == null then
       "record \($sent.key) (\($where)) was not delivered within \($deadline) s"
     else
       ["key", "value", "headers"][] as $field
       | select($got[$field] != $sent[$field])
       | "\($where): \($field) is \($got[$field] | tojson), expected \($sent[$field] | tojson)"
     end),
  ($committed.partitions[] | select(.error)
   | "commit of \(.topic)/\(.partition) failed: \(.error.name)")' <<<"$expected")
if [[ -n $problems ]]; then
  while IFS= read -r problem; do
    echo "FAIL: $problem" >&2
  done <<<"$problems"
  exit 1
fi
echo "ok: $RECORD_COUNT records produced, consumed, acked and committed"
