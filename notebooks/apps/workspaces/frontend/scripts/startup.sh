#!/bin/sh
# Make the frontend's token (in the real demo: the CILogon step), start its services, check the factory.
umask 077
[ -s /var/lib/tokens/frontend.token ] || head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > /var/lib/tokens/frontend.token
# both at once: supervisorctl waits startsecs (1 s) for each program it starts
supervisorctl start schedd >/dev/null 2>&1 & supervisorctl start vofrontend >/dev/null 2>&1 & wait
python3 /opt/testbed/testbed.py ping http://127.0.0.1:9618/ping --wait 20 || { echo "schedd does not answer"; exit 1; }
python3 /opt/testbed/testbed.py ping http://factory:8319/ping --wait 20 || { echo "cannot reach the factory"; exit 1; }
supervisorctl status schedd vofrontend | awk '{print "  " $1 " " $2}'
echo "$(hostname): frontend ready, token in the shared volume, the factory answers"
