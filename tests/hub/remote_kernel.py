"""A local stand-in kernel that runs every message on a kernel of a remote Jupyter server (through the hub).

jupyter_client starts this program like any kernel (`python remote_kernel.py CONNECTION_FILE`, from the kernel
spec `write_kernel_spec` makes); it binds the five ZeroMQ sockets of the connection file, starts a kernel on the
server at $REMOTE_KERNEL_URL (e.g. http://127.0.0.1:8000/user/alice/) with the token $REMOTE_KERNEL_TOKEN, and relays
messages both ways over the server's kernel websocket. So nbval runs a notebook, cell by cell and compared as
always, on the kernel inside an attendee's box, through the hub's proxy and the attendee's Jupyter server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

KERNEL_NAME = "hub-remote"
CHANNELS = ("shell", "control", "stdin")


def write_kernel_spec(folder: Path) -> Path:
    """A kernel spec named hub-remote under ``folder``/kernels (put ``folder`` on JUPYTER_PATH)."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(Path(__file__).resolve()), "{connection_file}"],
        "display_name": "Python 3 (an attendee's box, through the hub)",
        "language": "python",
        "interrupt_mode": "message",
    }))
    return spec


def _unpack_binary(raw: bytes) -> dict:
    """The Jupyter server's binary websocket frame (a message with buffers): offsets, JSON, buffers."""
    count = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 * (i + 1):4 * (i + 2)], "big") for i in range(count)] + [len(raw)]
    message = json.loads(raw[offsets[0]:offsets[1]])
    message["buffers"] = [raw[offsets[i]:offsets[i + 1]] for i in range(1, count)]
    return message


async def relay(connection_file: str) -> None:
    """Bind the local sockets, start the remote kernel, and relay until the client shuts the kernel down."""
    info = json.loads(Path(connection_file).read_text())
    session = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
    context = zmq.asyncio.Context()
    separator = ":" if info["transport"] == "tcp" else "-"  # tcp://IP:PORT, ipc://PATH-N
    address = f"{info['transport']}://{info['ip']}{separator}"
    sockets = {}
    for channel in CHANNELS:
        sockets[channel] = context.socket(zmq.ROUTER)
        sockets[channel].bind(address + str(info[f"{channel}_port"]))
    iopub = context.socket(zmq.PUB)
    iopub.bind(address + str(info["iopub_port"]))
    heartbeat = context.socket(zmq.REP)
    heartbeat.bind(address + str(info["hb_port"]))

    base = os.environ["REMOTE_KERNEL_URL"].rstrip("/") + "/"
    headers = {"Authorization": f"token {os.environ['REMOTE_KERNEL_TOKEN']}"}
    client = AsyncHTTPClient()
    made = await client.fetch(base + "api/kernels", method="POST", headers=headers, request_timeout=120,
                              body=json.dumps({"name": os.environ.get("REMOTE_KERNEL_NAME", "python3")}))
    kernel_id = json.loads(made.body)["id"]
    Path(connection_file + ".remote").write_text(kernel_id)
    socket_url = base.replace("http", "ws", 1) + f"api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}"
    websocket = await websocket_connect(HTTPRequest(socket_url, headers=headers, request_timeout=120),
                                        max_message_size=256 * 1024 * 1024)
    senders: dict[str, list[bytes]] = {}
    stopping = asyncio.Event()

    async def from_client(channel: str) -> None:
        while True:
            frames = await sockets[channel].recv_multipart()
            idents, rest = session.feed_identities(frames)
            message = session.deserialize(rest, content=True)
            senders[message["header"]["msg_id"]] = idents
            outgoing = {key: message[key] for key in ("header", "parent_header", "metadata", "content")}
            outgoing["channel"] = channel
            outgoing["buffers"] = []
            await websocket.write_message(json.dumps(outgoing, default=json_default))
            if message["header"]["msg_type"] == "shutdown_request":
                stopping.set()

    async def from_server() -> None:
        while True:
            raw = await websocket.read_message()
            if raw is None:
                stopping.set()
                return
            message = _unpack_binary(raw) if isinstance(raw, bytes) else json.loads(raw)
            channel = message.pop("channel", "iopub")
            if channel == "iopub":
                session.send(iopub, message, buffers=message.get("buffers") or None)
            elif channel in sockets:
                idents = senders.get(message.get("parent_header", {}).get("msg_id", ""), [])
                session.send(sockets[channel], message, ident=idents, buffers=message.get("buffers") or None)

    async def echo_heartbeat() -> None:
        while True:
            await heartbeat.send(await heartbeat.recv())

    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)
    tasks = [asyncio.create_task(job) for job in (from_server(), echo_heartbeat(),
                                                   *(from_client(channel) for channel in CHANNELS))]
    await stopping.wait()
    await asyncio.sleep(0.5)  # let the shutdown reply through
    for task in tasks:
        task.cancel()
    websocket.close()
    try:
        await client.fetch(base + f"api/kernels/{kernel_id}", method="DELETE", headers=headers, request_timeout=30)
    except Exception:
        pass
    context.destroy(linger=0)


if __name__ == "__main__":
    asyncio.run(relay(sys.argv[1]))
