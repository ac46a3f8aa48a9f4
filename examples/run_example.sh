#!/usr/bin/env bash
# Runs one client example against a kafka-sidecar of its own (the examples' ctests use it):
#
#   run_example.sh KAFKA_SIDECAR COMMAND [ARGS...]
#
# Starts KAFKA_SIDECAR on an embedded broker (whose "demo" topic the examples use) with gRPC and
# HTTP on free loopback ports, waits until /readyz answers 200, runs COMMAND with SIDECAR_GRPC
# (host:port) and SIDECAR_HTTP (http://host:port) set, then stops the daemon with SIGTERM.
# Exits with COMMAND's status, or 1 when the daemon does not become ready or does not exit 0.
# Every wait is bounded and the daemon is killed whatever happens, so nothing outlives the run.
set -euo pipefail

if (($# < 2)); then
  echo "usage: $0 KAFKA_SIDECAR COMMAND [ARGS...]" >&2
  exit 2
fi
daemon=$1
shift

readonly START_SECONDS=30    # to listen and become ready
readonly EXAMPLE_SECONDS=120 # for the example itself
readonly STOP_SECONDS=15     # for the drain after SIGTERM

workdir=$(mktemp -d "${TMPDIR:-/tmp}/kafka-sidecar-example.XXXXXX")
log=$workdir/daemon.log
daemon_pid=
example_pid=

# On exit, whatever the reason: nothing started here outlives the script, and a failure shows the
# end of the daemon's log (which is then kept).
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  local status=$?
  if [[ -n $example_pid ]]; then
    kill -TERM "$example_pid" 2>/dev/null || true
  fi
  if [[ -n $daemon_pid ]] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -KILL "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  if ((status == 0)); then
    rm -rf "$workdir"
  else
    echo "---- kafka-sidecar's log ($log) ----" >&2
    tail -n 60 "$log" >&2 || true
    echo "----" >&2
  fi
}
trap cleanup EXIT
# Stopped from outside (ctest's timeout, Ctrl-C): clean up as well.
trap 'exit 143' TERM
trap 'exit 130' INT

# Port 0: the kernel picks free ports, and the daemon logs the ones it got. The log exists before
# the daemon starts, so that it can be read before the background process has opened it.
: >"$log"
"$daemon" --embedded-broker --grpc-listen=127.0.0.1:0 --http-listen=127.0.0.1:0 --threads=2 \
  </dev/null >"$log" 2>&1 &
daemon_pid=$!

# "... [daemon] gRPC listening on 127.0.0.1:PORT (plaintext)" -> 127.0.0.1:PORT
listener() {
  sed -n "s/.*\[daemon\] $1 listening on \([^ ]*\).*/\1/p;T;q" "$log"
}

grpc_address=
http_address=
ready=
for ((i = 0; i < START_SECONDS * 10; i++)); do
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    echo "run_example: kafka-sidecar exited before it was ready" >&2
    exit 1
  fi
  [[ -n $grpc_address ]] || grpc_address=$(listener gRPC)
  [[ -n $http_address ]] || http_address=$(listener HTTP)
  if [[ -n $grpc_address && -n $http_address ]] &&
    curl -fs -o /dev/null --max-time 2 "http://$http_address/readyz"; then
    ready=yes
    break
  fi
  sleep 0.1
done
if [[ -z $ready ]]; then
  echo "run_example: kafka-sidecar was not ready within $START_SECONDS s" >&2
  exit 1
fi

echo "run_example: kafka-sidecar (pid $daemon_pid) ready, gRPC $grpc_address, HTTP $http_address"
# In the background, so that a signal to this script is handled at once rather than after it.
SIDECAR_GRPC=$grpc_address SIDECAR_HTTP=http://$http_address \
  timeout --kill-after=5 "$EXAMPLE_SECONDS" "$@" &
example_pid=$!
status=0
wait "$example_pid" || status=$?
example_pid=
if ((status == 124)); then
  echo "run_example: $1 did not finish within $EXAMPLE_SECONDS s" >&2
fi

kill -TERM "$daemon_pid"
daemon_status=
for ((i = 0; i < STOP_SECONDS * 10; i++)); do
  if ! kill -0 "$daemon_pid" 2>/dev/null; then
    daemon_status=0
    wait "$daemon_pid" || daemon_status=$?
    break
  fi
  sleep 0.1
done
if [[ -z $daemon_status ]]; then
  echo "run_example: kafka-sidecar did not stop within $STOP_SECONDS s of SIGTERM" >&2
  exit 1
fi
daemon_pid=
if ((daemon_status != 0)); then
  echo "run_example: kafka-sidecar exited with $daemon_status after SIGTERM" >&2
  exit 1
fi
exit "$status"
