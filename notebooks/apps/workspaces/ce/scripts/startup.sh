#!/bin/sh
# Start the CE's services under supervisord and wait until the gatekeeper answers.
# both at once: supervisorctl waits startsecs (1 s) for each program it starts
supervisorctl start gatekeeper >/dev/null 2>&1 & supervisorctl start batch >/dev/null 2>&1 & wait
python3 /opt/testbed/testbed.py ping http://127.0.0.1:9619/ping --wait 20 || { echo "gatekeeper does not answer"; exit 1; }
supervisorctl status gatekeeper batch | awk '{print "  " $1 " " $2}'
echo "$(hostname): CE ready, accepting jobs on port 9619"
