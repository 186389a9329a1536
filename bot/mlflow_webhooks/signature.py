"""MLflow's webhook signature (open-source MLflow 3.3+, `mlflow/webhooks/delivery.py`).

`X-MLflow-Signature: v1,<base64 HMAC-SHA256(secret, "{delivery_id}.{timestamp}.{raw body}")>`,
beside `X-MLflow-Timestamp` (Unix seconds) and `X-MLflow-Delivery-Id` (a uuid4).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-MLflow-Signature"
TIMESTAMP_HEADER = "X-MLflow-Timestamp"
DELIVERY_ID_HEADER = "X-MLflow-Delivery-Id"
SIGNATURE_VERSION = "v1"


def sign(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """The signature MLflow sends for this delivery."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def is_valid(secret: str, delivery_id: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether one of the space-separated signatures (Standard Webhooks allows several while a
    secret is rotated) is the one this secret makes; compared in constant time."""
    expected = sign(secret, delivery_id, timestamp, body).encode()
    offered = [s.encode() for s in signature.split() if s.isascii()]
    return any(hmac.compare_digest(expected, candidate) for candidate in offered)
