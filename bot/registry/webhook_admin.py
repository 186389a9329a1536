"""promobot's webhook in MLflow (open-source MLflow 3.3+): find, create or update, test.

Setup, not registry work, so it sits beside the `ModelRegistry` port rather than in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.registry.mlflow_errors import translated_errors

WEBHOOK_NAME = "promobot"
_DESCRIPTION = "promobot: registry events in Slack"


@dataclass(frozen=True)
class WebhookInfo:
    webhook_id: str
    name: str
    url: str
    status: str
    events: tuple[str, ...]


@dataclass(frozen=True)
class TestResult:
    arrived: bool
    status: int | None
    detail: str


class WebhookAdmin:
    """promobot's webhook, through MlflowClient."""

    def __init__(self, tracking_uri: str, registry_uri: str | None = None) -> None:
        from mlflow import MlflowClient

        self._client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)

    def find(self) -> list[WebhookInfo]:
        """Every webhook named `promobot` (normally one), oldest page first."""
        found: list[WebhookInfo] = []
        token: str | None = None
        with translated_errors():
            while True:
                page = self._client.list_webhooks(max_results=100, page_token=token)
                found += [_info(w) for w in page if w.name == WEBHOOK_NAME]
                token = page.token
                if not token:
                    return found

    def install(self, url: str, events: Sequence[str], secret: str) -> tuple[WebhookInfo, bool]:
        """Create the webhook, or update the one there (removing duplicates); True if created."""
        existing = self.find()
        with translated_errors():
            if not existing:
                created = self._client.create_webhook(
                    name=WEBHOOK_NAME,
                    url=url,
                    events=list(events),  # type: ignore[arg-type]
                    description=_DESCRIPTION,
                    secret=secret,
                    status="ACTIVE",
                )
                return _info(created), True
            keep, *extra = existing
            for duplicate in extra:
                self._client.delete_webhook(duplicate.webhook_id)
            updated = self._client.update_webhook(
                keep.webhook_id,
                url=url,
                events=list(events),  # type: ignore[arg-type]
                description=_DESCRIPTION,
                secret=secret,
                status="ACTIVE",
            )
            return _info(updated), False

    def test(self, webhook_id: str, event: str) -> TestResult:
        """Ask MLflow to send its example `event` now; whether promobot answered 2xx."""
        with translated_errors():
            result = self._client.test_webhook(webhook_id, event=event)  # type: ignore[arg-type]
        detail = result.error_message or (result.response_body or "")[:200]
        return TestResult(bool(result.success), result.response_status, detail)


def _info(webhook: Any) -> WebhookInfo:
    return WebhookInfo(
        webhook_id=str(webhook.webhook_id),
        name=str(webhook.name),
        url=str(webhook.url),
        status=str(getattr(webhook.status, "value", webhook.status)),
        events=tuple(f"{e.entity.value}.{e.action.value}" for e in webhook.events),
    )
