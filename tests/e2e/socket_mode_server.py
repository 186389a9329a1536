"""A minimal Socket Mode server on loopback: WebSocket handshake, send envelopes, read acks."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import socket
import struct
import threading
from typing import Any

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class SocketModeServer:
    """Accepts one client (promobot's SocketModeClient) and speaks just enough WebSocket."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/link"
        self.connected = threading.Event()
        self._conn: socket.socket | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        conn, _ = self._listener.accept()
        request = b""
        while b"\r\n\r\n" not in request:
            request += conn.recv(4096)
        found = re.search(rb"Sec-WebSocket-Key:\s*(\S+)", request, re.IGNORECASE)
        assert found is not None
        accept = base64.b64encode(hashlib.sha1(found.group(1) + _GUID).digest())
        conn.sendall(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self._conn = conn
        self.connected.set()

    def send(self, envelope: dict[str, Any]) -> None:
        """Send one text frame (servers do not mask)."""
        assert self._conn is not None
        data = json.dumps(envelope).encode()
        header = bytes([0x81]) + (
            bytes([len(data)]) if len(data) < 126 else bytes([126]) + struct.pack(">H", len(data))
        )
        self._conn.sendall(header + data)

    def receive_text(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next text frame from the client (skipping pings and pongs), unmasked."""
        assert self._conn is not None
        self._conn.settimeout(timeout)
        while True:
            first, second = self._read(2)
            length = second & 0x7F
            if length == 126:
                length = struct.unpack(">H", self._read(2))[0]
            elif length == 127:
                length = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if second & 0x80 else bytes(4)
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read(length)))
            if first & 0x0F == 0x1:
                return dict(json.loads(payload))

    def _read(self, size: int) -> bytes:
        assert self._conn is not None
        data = b""
        while len(data) < size:
            chunk = self._conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError("client closed the WebSocket")
            data += chunk
        return data

    def close(self) -> None:
        for sock in (self._conn, self._listener):
            if sock is not None:
                sock.close()


def new_envelope_id() -> str:
    return os.urandom(8).hex()
