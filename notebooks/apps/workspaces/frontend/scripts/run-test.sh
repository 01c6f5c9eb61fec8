#!/bin/sh
# The end-to-end test: submit a user job on the frontend; it must come back from the CE, run there by a
# glidein that the factory submitted because the frontend asked for one.
out=$(python3 /opt/testbed/testbed.py submit 'echo "hello from $(hostname)"' --wait 30)
echo "$out"
if echo "$out" | grep -q "on ce-workspace" && echo "$out" | grep -q "output: hello from ce-workspace"; then
    echo "TEST PASSED"
else
    echo "TEST FAILED"
    exit 1
fi
