"""An MLflow that hangs: a loopback TCP server that accepts connections and never answers.

It reads nothing and writes nothing; every connection stays open until the server closes.
Its lifetime is bounded: it closes itself (and every connection it holds) after `lifetime`
seconds even if nobody calls `close`, so a failing test cannot leave it behind.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType


class HangingServer:
    """Accepts TCP connections on 127.0.0.1 and holds them without a byte of reply."""

    def __init__(self, lifetime: float = 120.0) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._held: list[socket.socket] = []
        self._accepted = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(target=self._accept, daemon=True, name="hanging-mlflow")
        self._thread.start()

    @property
    def connections(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return self._accepted

    def _accept(self) -> None:
        try:
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                try:
                    connection, _ = self._listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                with self._lock:
                    self._held.append(connection)
                    self._accepted += 1
        finally:
            self._close_all()

    def _close_all(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()
        self._listener.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def __enter__(self) -> HangingServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
