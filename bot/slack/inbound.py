"""What a Slack HTTP request must pass before promobot reads all of it or parses any of it.

The checks run cheapest first, so a request that is not Slack's costs almost nothing:
1. the content type and the declared length (headers only);
2. a signature timestamp within five minutes (headers only);
3. the body, read in chunks and abandoned as soon as it passes MAX_BODY_BYTES;
4. the signature over the raw bytes, with the signing secret;
5. only then parsing, exactly as Bolt will parse it, refusing anything nested deeper than
   MAX_NESTING (json.loads raises RecursionError a thousand levels down, and deep values
   would reach code that walks them).
"""

from __future__ import annotations

import time
from typing import Any

from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier
from starlette.requests import ClientDisconnect, Request

#: Slack's own payloads are a few kilobytes; a megabyte is generous.
MAX_BODY_BYTES = 1024 * 1024
#: Slack's payloads nest about ten levels (a message's rich text blocks).
MAX_NESTING = 64
#: Slack's rule: a request signed more than five minutes ago may be a replay.
TIMESTAMP_TOLERANCE_SECONDS = 5 * 60
#: What Slack sends: forms for commands and interactivity, JSON for the Events API.
SLACK_MEDIA_TYPES = ("application/x-www-form-urlencoded", "application/json")


class RefusedRequest(Exception):
    """The request is refused with `status`; `reason` is the whole response body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


async def read_signed_body(request: Request, verifier: SignatureVerifier | None) -> bytes:
    """The raw body of a request Slack signed; raise RefusedRequest before reading what is not."""
    headers = request.headers
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in SLACK_MEDIA_TYPES:
        raise RefusedRequest(400, "Unsupported content type.")
    check_declared_length(request)
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if verifier is None or not signature or not is_fresh(timestamp):
        raise RefusedRequest(401, "Invalid or missing Slack signature.")
    body = await read_body(request)
    if not verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
        raise RefusedRequest(401, "Invalid or missing Slack signature.")
    return body


def check_declared_length(request: Request) -> None:
    """Refuse a request whose Content-Length alone is over MAX_BODY_BYTES."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 9 or int(declared) > MAX_BODY_BYTES):
        raise RefusedRequest(413, "Request body too large.")


async def read_body(request: Request) -> bytes:
    """The raw body, read in chunks and abandoned as soon as it passes MAX_BODY_BYTES."""
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                raise RefusedRequest(413, "Request body too large.")
    except ClientDisconnect:  # gone before the body ended: no answer reaches anyone
        raise RefusedRequest(400, "Incomplete request.") from None
    return bytes(body)


def check_payload(body: bytes, content_type: str | None) -> None:
    """Parse `body` as Bolt will and refuse it unless it is an object nested MAX_NESTING deep
    at most. `content_type` is the header as sent; Bolt reads the part before any `;`."""
    bolt_content_type = content_type.split(";")[0] if content_type else None
    try:
        parsed = parse_body(body.decode("utf-8"), bolt_content_type)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
        raise RefusedRequest(400, "Malformed Slack payload.") from None
    if not isinstance(parsed, dict):
        raise RefusedRequest(400, "Expected a JSON object.")
    if nested_deeper_than(parsed, MAX_NESTING):
        raise RefusedRequest(400, "Slack payload nested too deeply.")


def is_fresh(timestamp: str) -> bool:
    """Unix seconds in ASCII digits, within TIMESTAMP_TOLERANCE_SECONDS of now."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    return abs(time.time() - int(timestamp)) <= TIMESTAMP_TOLERANCE_SECONDS


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether dicts and lists in `value` nest deeper than `limit`; no recursion, stops early."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
