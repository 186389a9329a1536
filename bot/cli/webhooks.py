"""`promobot webhooks install|list|test`: promobot's webhook in MLflow."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from bot.errors import UsageError
from bot.mlflow_webhooks.payloads import SUBSCRIBED_EVENTS, TEST_EVENT
from bot.mlflow_webhooks.receiver import WEBHOOKS_PATH
from bot.registry.webhook_admin import WEBHOOK_NAME, WebhookAdmin, WebhookInfo
from bot.settings import Settings


def install(settings: Settings, *, url: str) -> int:
    """Create or update the `promobot` webhook: exactly one, whatever was there."""
    secret = settings.mlflow_webhook_secret
    if secret is None or not secret.get_secret_value():
        raise UsageError(
            "PROMOBOT_MLFLOW_WEBHOOK_SECRET is not set. Set it (a long random string) here "
            "and where `promobot serve` runs, then install again."
        )
    target = receiver_url(url)
    admin = _admin(settings)
    webhook, created = admin.install(target, SUBSCRIBED_EVENTS, secret.get_secret_value())
    print(
        f"Webhook '{WEBHOOK_NAME}' {'created' if created else 'updated'} in MLflow "
        f"(id {webhook.webhook_id}): {webhook.url}"
    )
    print(f"  events: {', '.join(webhook.events)}")
    return 0


def list_webhooks(settings: Settings) -> int:
    found = _admin(settings).find()
    if not found:
        print(
            f"No webhook named '{WEBHOOK_NAME}' in MLflow. Run: promobot webhooks install --url URL"
        )
        return 1
    for webhook in found:
        _print(webhook)
    return 0


def test(settings: Settings) -> int:
    """Ask MLflow to send its test event to promobot's webhook; say whether it arrived."""
    found = _admin(settings).find()
    if not found:
        raise UsageError(
            f"No webhook named '{WEBHOOK_NAME}' in MLflow. Run: promobot webhooks install --url URL"
        )
    webhook = found[0]
    result = _admin(settings).test(webhook.webhook_id, TEST_EVENT)
    if result.arrived:
        print(
            f"Test event arrived: MLflow sent {TEST_EVENT} to {webhook.url} and promobot "
            f"answered HTTP {result.status}."
        )
        return 0
    status = f"HTTP {result.status}" if result.status is not None else "no answer"
    print(
        f"Test event did not arrive: MLflow sent {TEST_EVENT} to {webhook.url} and got "
        f"{status}: {result.detail}"
    )
    return 1


def receiver_url(url: str) -> str:
    """The webhook URL: `url` as given, with /mlflow/webhooks added when it has no path."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--url must be an http:// or https:// address, got '{url[:100]}'.")
    if parts.path in ("", "/"):
        parts = parts._replace(path=WEBHOOKS_PATH)
    return urlunsplit(parts)


def _admin(settings: Settings) -> WebhookAdmin:
    return WebhookAdmin(settings.mlflow_tracking_uri, settings.mlflow_registry_uri)


def _print(webhook: WebhookInfo) -> None:
    print(f"{webhook.name} {webhook.webhook_id} {webhook.status} {webhook.url}")
    print(f"  events: {', '.join(webhook.events)}")
