"""Structured log lines, the request id they carry, and the redaction of secrets."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.logs import REQUEST_ID, configure_logging, request_scope
from bot.slack.observe import ContextThreadPoolExecutor

BOT_TOKEN = "xoxb-1111-2222-canaryBotToken"
SIGNING_SECRET = "canary-signing-secret-0f9e8d"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Root logging configured as `serve` does, into a buffer; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield io.StringIO()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.captureWarnings(False)


def test_key_value_lines_quote_what_needs_it_and_carry_the_request_id(
    captured: io.StringIO,
) -> None:
    configure_logging(log_format="keyvalue", level="info", secrets=[], stream=captured)
    with request_scope("abc123"):
        logging.getLogger("bot.test").info(
            'card "posted"', extra={"channel": "C1", "note": "two words"}
        )
    line = captured.getvalue().strip()
    assert line.startswith("ts=")
    assert ' level=info logger=bot.test msg="card \\"posted\\"" request_id=abc123 ' in line
    assert line.endswith('channel=C1 note="two words"')


def test_json_lines_have_the_same_fields_and_the_traceback(captured: io.StringIO) -> None:
    configure_logging(log_format="json", level="info", secrets=[], stream=captured)
    with request_scope("req42"):
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("bot.test").exception("failed", extra={"attempt": 2})
    record = json.loads(captured.getvalue())
    assert record["level"] == "error" and record["msg"] == "failed"
    assert record["request_id"] == "req42" and record["attempt"] == 2
    assert "RuntimeError: boom" in record["exc_info"]


@pytest.mark.parametrize("log_format", ["keyvalue", "json"])
def test_secrets_are_redacted_wherever_they_appear(captured: io.StringIO, log_format: str) -> None:
    configure_logging(
        log_format=log_format, level="debug", secrets=[BOT_TOKEN, SIGNING_SECRET], stream=captured
    )
    log = logging.getLogger("some.library")
    log.debug("token %s and secret %s", BOT_TOKEN, SIGNING_SECRET)
    log.info("other token", extra={"header": "Bearer xapp-1-A0-9999-abcdefabcdef"})
    try:
        raise ValueError(f"bad signature with {SIGNING_SECRET}")
    except ValueError:
        log.exception("failed")
    text = captured.getvalue()
    assert BOT_TOKEN not in text and SIGNING_SECRET not in text and "xapp-1-A0" not in text
    assert text.count("[redacted]") >= 4


def test_listener_threads_inherit_the_request_id() -> None:
    with ContextThreadPoolExecutor(2) as pool, request_scope("from-the-request"):
        assert pool.submit(REQUEST_ID.get).result() == "from-the-request"
    assert REQUEST_ID.get() is None


@pytest.mark.parametrize("password", ["canary#pa/ss", "canary@pass", "canary:pa:ss"])
def test_url_passwords_urlsplit_misreads_are_redacted_from_logs(
    captured: io.StringIO, password: str
) -> None:
    from bot.settings import Settings

    settings = Settings(DATABASE_URL=f"postgresql://promobot:{password}@db/promobot")
    configure_logging(
        log_format="keyvalue", level="info", secrets=settings.secret_values(), stream=captured
    )
    logging.getLogger("sqlalchemy.pool").warning("could not connect as promobot/%s", password)
    assert password not in captured.getvalue()
    assert "[redacted]" in captured.getvalue()
