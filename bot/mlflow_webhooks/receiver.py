"""POST /mlflow/webhooks: verify what MLflow sends, remember it, and announce in the background.

Checked cheapest first, as Slack requests are (bot/slack/inbound.py): content type and length,
the three MLflow headers and a timestamp within five minutes, the body (size-limited), the
signature, then parsing (depth-limited). The delivery id is then remembered in the database
(a unique key), so a replay is answered 200 and does nothing, on any replica. The answer never
waits on MLflow or Slack: the announcement is made on a worker thread.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import Executor
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.domain.announcements import Announcement
from bot.domain.registry_events import RegistryEvents
from bot.mlflow_webhooks import signature
from bot.mlflow_webhooks.payloads import (
    AliasChanged,
    MalformedEvent,
    ModelCreated,
    OtherEvent,
    RegistryEvent,
    VersionCreated,
    parse_event,
)
from bot.slack.event_posting import RegistryAnnouncer
from bot.slack.inbound import (
    MAX_NESTING,
    RefusedRequest,
    check_declared_length,
    is_fresh,
    nested_deeper_than,
    read_body,
)
from storage import event_queries

log = logging.getLogger(__name__)

WEBHOOKS_PATH = "/mlflow/webhooks"
_UNSIGNED = "Invalid or missing MLflow signature."


@dataclass(frozen=True)
class Delivery:
    delivery_id: str
    event: RegistryEvent


class WebhookReceiver:
    """Checks deliveries and hands their events to the announcer (None: nothing is posted)."""

    def __init__(
        self,
        secret: str,
        events: RegistryEvents,
        announcer: RegistryAnnouncer | None,
        executor: Executor,
    ) -> None:
        self._secret = secret
        self._events = events
        self._announcer = announcer
        self._executor = executor

    async def check(self, request: Request) -> Delivery:
        """The verified delivery; RefusedRequest for anything MLflow did not send."""
        headers = request.headers
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise RefusedRequest(400, "Unsupported content type.")
        check_declared_length(request)
        delivery_id = headers.get(signature.DELIVERY_ID_HEADER, "")
        timestamp = headers.get(signature.TIMESTAMP_HEADER, "")
        offered = headers.get(signature.SIGNATURE_HEADER, "")
        if not offered or not _plausible_id(delivery_id) or not is_fresh(timestamp):
            raise RefusedRequest(401, _UNSIGNED)
        body = await read_body(request)
        if not signature.is_valid(self._secret, delivery_id, timestamp, body, offered):
            raise RefusedRequest(401, _UNSIGNED)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise RefusedRequest(400, "Malformed MLflow webhook body.") from None
        if not isinstance(payload, dict):
            raise RefusedRequest(400, "Expected a JSON object.")
        if nested_deeper_than(payload, MAX_NESTING):
            raise RefusedRequest(400, "MLflow webhook body nested too deeply.")
        try:
            return Delivery(delivery_id, parse_event(payload))
        except MalformedEvent as exc:
            raise RefusedRequest(400, f"Malformed MLflow webhook event: {exc}.") from None

    def accept(self, delivery: Delivery) -> dict[str, object]:
        """Remember the delivery and queue its announcement; a replay does nothing."""
        context = self._events.context
        with context.unit_of_work() as session:
            first = event_queries.remember_delivery(
                session=session, delivery_id=delivery.delivery_id, received_at=context.clock()
            )
        if not first:
            log.info("mlflow webhook replayed delivery=%s", delivery.delivery_id)
            return {"ok": True, "duplicate": True}
        event = delivery.event
        if isinstance(event, OtherEvent):
            return {"ok": True, "ignored": event.name}
        if self._announcer is None:
            return {"ok": True, "ignored": "PROMOBOT_NOTIFY_CHANNEL is not set"}
        self._executor.submit(self._announce, delivery)
        return {"ok": True}

    def _announce(self, delivery: Delivery) -> None:
        """On a worker thread: what the event means, claimed once, then posted."""
        try:
            announcement = self._announcement(delivery.event)
            if announcement is not None and self._announcer is not None:
                self._announcer.post(announcement)
        except Exception:  # a worker thread has nobody to tell: log it; the watch catches up
            log.exception("mlflow webhook not announced delivery=%s", delivery.delivery_id)

    def _announcement(self, event: RegistryEvent) -> Announcement | None:
        events = self._events
        if isinstance(event, VersionCreated):
            return events.version_created(
                event.model, event.version, source="webhook", run_id=event.run_id
            )
        if isinstance(event, ModelCreated):
            return events.model_created(event.model, source="webhook")
        if isinstance(event, AliasChanged):
            return events.alias_changed(event.model, event.alias, source="webhook")
        return None


def _plausible_id(delivery_id: str) -> bool:
    """MLflow sends a uuid4; anything printable up to 100 ASCII characters is accepted."""
    return 0 < len(delivery_id) <= 100 and delivery_id.isascii() and delivery_id.isprintable()


def webhook_route(receiver: WebhookReceiver | None) -> Route:
    """The route; it answers 404 when PROMOBOT_MLFLOW_WEBHOOK_SECRET is not set."""

    async def mlflow_webhooks(request: Request) -> Response:
        if receiver is None:
            return PlainTextResponse("Not Found", status_code=404)
        try:
            delivery = await receiver.check(request)
        except RefusedRequest as refused:
            log.info("mlflow webhook refused: %s %s", refused.status, refused.reason)
            return PlainTextResponse(refused.reason, status_code=refused.status)
        return JSONResponse(await run_in_threadpool(receiver.accept, delivery))

    return Route(WEBHOOKS_PATH, mlflow_webhooks, methods=["POST"])
