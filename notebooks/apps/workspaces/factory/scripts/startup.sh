#!/bin/sh
# Start the factory's services under supervisord; check that the CE it submits to answers.
# both at once: supervisorctl waits startsecs (1 s) for each program it starts
supervisorctl start factory >/dev/null 2>&1 & supervisorctl start logserver >/dev/null 2>&1 & wait
python3 /opt/testbed/testbed.py ping http://127.0.0.1:8319/ping --wait 20 || { echo "factory does not answer"; exit 1; }
python3 /opt/testbed/testbed.py ping http://ce:9619/ping --wait 20 || { echo "cannot reach the CE"; exit 1; }
supervisorctl status factory logserver | awk '{print "  " $1 " " $2}'
echo "$(hostname): factory ready, the CE answers"
