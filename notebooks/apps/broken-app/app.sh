#!/bin/sh
# A tiny web service that needs its configuration file, /etc/app/app.conf (PORT=...).
if [ ! -r /etc/app/app.conf ]; then
    echo "app: cannot read /etc/app/app.conf: no such file" >&2
    exit 78
fi
. /etc/app/app.conf
echo "app: listening on port ${PORT:-8000}"
exec httpd -f -p "${PORT:-8000}" -h /app
