#!/bin/sh
# Start the CE's services under supervisord and wait until the gatekeeper answers.
supervisorctl start gatekeeper batch >/dev/null 2>&1
python3 /opt/testbed/testbed.py ping http://127.0.0.1:9619/ping --wait 20 || { echo "gatekeeper does not answer"; exit 1; }
supervisorctl status gatekeeper batch | awk '{print "  " $1 " " $2}'
echo "$(hostname): CE ready, accepting jobs on port 9619"
