#!/bin/sh
# Every INTERVAL seconds: do a "job", count it in the store (all workers share the counter
# `jobs`) and under this worker's own key, then say so on stdout (compose logs shows it).
store() { echo "$*" | nc "${STORE_HOST:-store}" 6379; }
me=$(hostname)
# As PID 1 the shell would ignore SIGTERM (no handler): trap it, and sleep in the background so `wait` returns at once.
trap 'exit 0' TERM
while true; do
    total=$(store INCR jobs)
    mine=$(store INCR "worker:$me")
    echo "job $mine done by this worker; $total jobs in all"
    sleep "${INTERVAL:-1}" &
    wait $!
done
