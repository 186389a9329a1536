"""Structured logs: key=value by default, JSON with PROMOBOT_LOG_FORMAT=json.

Each line carries the id of the Slack request it belongs to (a contextvar set per request),
and every known secret is replaced before a line is written, whichever library logged it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import urlsplit

REQUEST_ID: ContextVar[str | None] = ContextVar("promobot_request_id", default=None)
REDACTED = "[redacted]"
#: Slack tokens have recognisable prefixes; hide any of them, not only the configured ones.
_SLACK_TOKEN = re.compile(r"\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]{6,}")
#: Environment variables whose values are secrets even though Settings does not hold them.
SECRET_ENVIRONMENT = ("MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
#: Extras some libraries add that are noise in a structured line (uvicorn's ANSI colours).
_DROPPED_FIELDS = frozenset({"color_message"})


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """Run the block as part of one Slack request (reusing the current id if there is one)."""
    current = REQUEST_ID.get()
    if current is not None and request_id is None:
        yield current
        return
    token = REQUEST_ID.set(request_id or new_request_id())
    try:
        yield REQUEST_ID.get() or ""
    finally:
        REQUEST_ID.reset(token)


class Redactor:
    """Replaces secret values (and anything shaped like a Slack token) in text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is replaced whole.
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _SLACK_TOKEN.sub(REDACTED, text)


def url_password(url: str | None) -> str | None:
    """The password inside a URL such as postgresql://user:password@host/db, if any."""
    if not url:
        return None
    try:
        return urlsplit(url).password
    except ValueError:
        return None


class _Formatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """The record as ordered fields, every value already redacted."""
        at = datetime.fromtimestamp(record.created, tz=UTC)
        fields: dict[str, Any] = {
            "ts": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            fields["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in _DROPPED_FIELDS and key not in fields:
                fields[key] = value
        if record.exc_info:
            fields["exc_info"] = self.formatException(record.exc_info)
        elif record.stack_info:
            fields["stack_info"] = self.formatStack(record.stack_info)
        return {key: self._clean(value) for key, value in fields.items()}

    def _clean(self, value: Any) -> Any:
        if value is None or isinstance(value, bool | int | float):
            return value
        return self._redact(str(value))


class KeyValueFormatter(_Formatter):
    """`ts=… level=info logger=… request_id=… msg="…" key=value`, one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={_logfmt(value)}" for key, value in self.fields(record).items())


class JsonFormatter(_Formatter):
    """One JSON object per line, with the same fields as the key=value format."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(self.fields(record), ensure_ascii=False)


def _logfmt(value: Any) -> str:
    text = str(value)
    if text and not re.search(r'[\s="\\]', text):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def configure_logging(
    *, log_format: str, level: str, secrets: Iterable[str], stream: TextIO | None = None
) -> logging.Handler:
    """Send every logger's records through one redacting, structured handler on stderr."""
    known = [*secrets, *(os.environ.get(name, "") for name in SECRET_ENVIRONMENT)]
    redact = Redactor(known)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(redact) if log_format == "json" else KeyValueFormatter(redact)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # Python warnings become structured lines too
    return handler
