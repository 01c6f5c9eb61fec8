"""A tiny key-value server: one command per connection, one line each way.

    PING -> PONG        GET key -> value        SET key value -> OK
    INCR key -> n       KEYS prefix -> count of keys starting with prefix

The data lives in /data/store.db (one "key value" line per key), rewritten after every
change, so it outlives the container when /data is a volume. `kv.py ping` is the health check.
"""

import os
import signal
import socket
import sys
import threading

DATA = os.environ.get("STORE_FILE", "/data/store.db")
PORT = int(os.environ.get("STORE_PORT", "6379"))
lock = threading.Lock()


def load() -> dict:
    values = {}
    if os.path.exists(DATA):
        with open(DATA) as stored:
            for line in stored:
                key, _, value = line.rstrip("\n").partition(" ")
                values[key] = value
    return values


def save(values: dict) -> None:
    with open(DATA + ".tmp", "w") as new:
        new.writelines(f"{key} {value}\n" for key, value in sorted(values.items()))
    os.replace(DATA + ".tmp", DATA)


def answer(values: dict, line: str) -> str:
    words = line.split(" ", 2)
    command = words[0].upper()
    with lock:
        if command == "PING":
            return "PONG"
        if command == "GET" and len(words) == 2:
            return values.get(words[1], "")
        if command == "SET" and len(words) == 3:
            values[words[1]] = words[2]
            save(values)
            return "OK"
        if command == "INCR" and len(words) == 2:
            values[words[1]] = str(int(values.get(words[1], "0")) + 1)
            save(values)
            return values[words[1]]
        if command == "KEYS" and len(words) == 2:
            return str(sum(1 for key in values if key.startswith(words[1])))
    return "ERR unknown command"


def serve() -> None:
    # As PID 1 the kernel drops a signal with no handler: without this, `stop`/`down` waits its whole timeout and
    # then kills. Exiting at any moment is safe: save() replaces the file in one step.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    values = load()
    server = socket.create_server(("", PORT), reuse_port=True)
    print(f"kv store listening on port {PORT}, {len(values)} keys loaded from {DATA}", flush=True)
    while True:
        client, _ = server.accept()
        with client:
            line = client.makefile().readline().strip()
            reply = answer(values, line)
            if line.split(" ", 1)[0].upper() not in ("PING", "GET", "KEYS"):
                print(f"{line} -> {reply}", flush=True)
            client.sendall((reply + "\n").encode())


def ping() -> int:
    try:
        with socket.create_connection(("127.0.0.1", PORT), timeout=2) as connection:
            connection.sendall(b"PING\n")
            return 0 if connection.makefile().readline().strip() == "PONG" else 1
    except OSError:
        return 1


if __name__ == "__main__":
    sys.exit(ping() if sys.argv[1:] == ["ping"] else serve())
