"""The composition root: builds the domain and the Bolt app from Settings. Nothing at import."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.domain.approvers import AnyoneMayApprove, ApproverCheck, StaticApprovers
from bot.domain.clock import Clock, utc_now
from bot.domain.events import IgnoreDecisions
from bot.domain.rules import DigestRules, DomainContext, Rules
from bot.domain.service import Promotions
from bot.registry.protocol import ModelRegistry
from bot.settings import Settings
from storage.db import UnitOfWork, create_db_engine, init_db

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.domain.registry_events import RegistryEvents
    from bot.metrics import Metrics
    from bot.mlflow_webhooks.receiver import WebhookReceiver
    from bot.registry.mlflow_registry import TargetMapping
    from bot.registry.timed_client import CallTimer
    from bot.slack.event_posting import RegistryAnnouncer

log = logging.getLogger(__name__)

#: Listener threads. Each listener acks first, so a slow MLflow never delays the ack while a
#: thread is free; when none is, the request is turned away at once with a "busy" notice
#: instead of waiting in a queue (bot/slack/admission.py).
LISTENER_THREADS = 64


@dataclass(frozen=True)
class Runtime:
    """What one promobot process runs on: settings, the domain and (for Slack) the app."""

    settings: Settings
    promotions: Promotions
    #: Set by create_app; served at GET /metrics. None for the CLI, which exposes none.
    metrics: Metrics | None = field(default=None)
    #: Registry events (set by create_app): the domain, the poster (None without
    #: PROMOBOT_NOTIFY_CHANNEL) and the webhook receiver (None without its secret).
    events: RegistryEvents | None = field(default=None)
    announcer: RegistryAnnouncer | None = field(default=None)
    webhooks: WebhookReceiver | None = field(default=None)


#: MLflow's HTTP client retries 7 times with backoff by default, waits 120 s for each answer
#: and honours Retry-After, which can keep a Slack user waiting for minutes. It retries read
#: timeouts too (urllib3 `Retry(read=...)`, every method), so an MLflow that accepts
#: connections and never answers costs (retries + 1) x timeout per request. promobot's
#: defaults make that 2 x 3 s = 6 s, so a user is told "MLflow is not answering" within 10 s.
#: They apply only where the operator set none (README, "Environment").
MLFLOW_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "3",
    "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER": "false",
}
#: The longest promobot promises to take to tell a user that MLflow is not answering.
NOT_ANSWERING_NOTICE_SECONDS = 10


def build_registry(settings: Settings, *, timer: CallTimer | None = None) -> ModelRegistry:
    """The MLflow registry in the configured mode: stages, or aliases."""
    from bot.registry.mlflow_registry import MlflowRegistry

    for name, value in MLFLOW_HTTP_DEFAULTS.items():
        os.environ.setdefault(name, value)

    return MlflowRegistry.from_uri(
        settings.mlflow_tracking_uri,
        settings.mlflow_registry_uri,
        timer=timer,
        model_cache_seconds=settings.alias_cache_ttl.total_seconds(),
        mapping=build_mapping(settings),
    )


def build_mapping(settings: Settings) -> TargetMapping:
    """How moves are made in the configured registry mode."""
    from bot.registry.alias_mapping import AliasMapping
    from bot.registry.stage_mapping import StageMapping
    from bot.registry.targets import AliasTargets

    if settings.registry_mode == "stages":
        return StageMapping()
    return AliasMapping(
        AliasTargets(
            production_alias=settings.production_alias,
            staging_alias=settings.staging_alias,
            protected_aliases=settings.protected_aliases,
        )
    )


def mlflow_give_up_seconds(environ: Mapping[str, str]) -> float | None:
    """How long one MLflow request that never gets an answer takes to fail, with the HTTP
    settings in `environ` (promobot's defaults where unset); None if a setting is invalid."""

    def setting(name: str) -> float:
        return float(environ.get(name, MLFLOW_HTTP_DEFAULTS[name]))

    try:
        attempts = 1 + int(setting("MLFLOW_HTTP_REQUEST_MAX_RETRIES"))
        timeout = setting("MLFLOW_HTTP_REQUEST_TIMEOUT")
        backoff = setting("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")
    except ValueError:
        return None  # MLflow itself reports the invalid value on its first request
    # urllib3 sleeps backoff x 2^(n-1) before the n-th retry (at most 120 s), none before
    # the first; jitter adds at most MLFLOW_HTTP_REQUEST_BACKOFF_JITTER to each.
    sleeps = sum(min(backoff * 2.0 ** (n - 1), 120.0) for n in range(2, attempts))
    return attempts * timeout + sleeps


def _warn_if_mlflow_may_hang_too_long() -> None:
    """Say so at start-up when the operator's MLflow settings break the 10 s promise."""
    seconds = mlflow_give_up_seconds(os.environ)
    if seconds is not None and seconds >= NOT_ANSWERING_NOTICE_SECONDS:
        log.warning(
            "an MLflow request that never gets an answer gives up only after about %.0f s "
            "(MLFLOW_HTTP_REQUEST_MAX_RETRIES, _TIMEOUT, _BACKOFF_FACTOR); Slack users wait "
            "that long to hear that MLflow is not answering",
            seconds,
        )


def build_promotions(
    settings: Settings,
    *,
    registry: ModelRegistry | None = None,
    approvers: ApproverCheck | None = None,
    clock: Clock = utc_now,
    metrics: Metrics | None = None,
) -> Promotions:
    """The domain with its database (tables created if missing) and registry."""
    engine = create_db_engine(settings.database_url)
    init_db(engine)
    timer = metrics.mlflow_call if metrics else None
    context = DomainContext(
        registry=registry or build_registry(settings, timer=timer),
        unit_of_work=UnitOfWork(engine),
        rules=Rules(
            require_staging=settings.require_staging,
            request_ttl=settings.request_ttl,
            mlflow_ui_url=settings.mlflow_ui_url,
            apply_lease=settings.reconcile_after,
            required_approvals=settings.required_approvals,
            remind_every=settings.remind_every,
            approver_ids=tuple(settings.approvers),
        ),
        approvers=approvers
        or (StaticApprovers(settings.approvers) if settings.approvers else AnyoneMayApprove()),
        clock=clock,
        observer=metrics or IgnoreDecisions(),
        digest=DigestRules(
            channel=settings.digest_channel,
            crontab=settings.digest_cron,
            timezone=settings.timezone,
            grace=settings.digest_grace,
            min_interval=settings.digest_min_interval,
        ),
    )
    return Promotions.build(context)


def build_web_client(settings: Settings, metrics: Metrics | None = None) -> WebClient:
    """A Slack Web API client at PROMOBOT_SLACK_API_URL that retries 429s and 5xx errors."""
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    from bot.slack.observe import MeteredWebClient

    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return MeteredWebClient(
        metrics=metrics,
        token=token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[
            ConnectionErrorRetryHandler(max_retry_count=1),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    settings: Settings,
    *,
    registry: ModelRegistry | None = None,
    clock: Clock = utc_now,
    web_client: WebClient | None = None,
    metrics: Metrics | None = None,
) -> tuple[App, Runtime]:
    """Build the Bolt app with every listener registered, and the runtime behind it."""
    from slack_bolt import App

    from bot.domain.notice_steps import NoticeSteps
    from bot.domain.replay import ReplayGuard
    from bot.metrics import Metrics
    from bot.slack import (
        actions,
        commands,
        errors,
        home,
        notice_actions,
        observe,
        rejections,
        replay,
        replies,
        request_form,
    )
    from bot.slack.admission import AdmittingExecutor
    from bot.slack.approvers import SlackApprovers, WorkspaceMembers

    metrics = metrics or Metrics()
    client = web_client or build_web_client(settings, metrics)
    approvers: ApproverCheck = (
        SlackApprovers(client, settings.approvers)
        if settings.approvers
        else WorkspaceMembers(client)  # no list: members of this workspace, never guests
    )
    promotions = build_promotions(
        settings, registry=registry, approvers=approvers, clock=clock, metrics=metrics
    )
    _warn_if_mlflow_may_hang_too_long()
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        token_verification_enabled=False,
        process_before_response=False,
        listener_executor=AdmittingExecutor(
            LISTENER_THREADS, on_turned_away=metrics.request_turned_away
        ),
        logger=logging.getLogger("bot.slack.bolt"),
    )
    observe.register(app)
    replies.register(app, replies.ReplyTransport(max_connections=LISTENER_THREADS))
    context = promotions.context
    replay.register(app, ReplayGuard(context.unit_of_work, context.clock))
    commands.register(app, promotions, settings.command, metrics, settings.approval_channel)
    actions.register(app, promotions, metrics)
    request_form.register(app, promotions, metrics, settings.command, settings.approval_channel)
    home.register(app, promotions, settings.command)
    rejections.register(app, promotions, metrics)
    events, announcer, webhooks = build_registry_events(settings, promotions, client)
    steps = NoticeSteps(promotions.context, promotions.requests)
    notice_actions.register(app, promotions, steps, settings.approval_channel)
    errors.register(app)
    return app, Runtime(settings, promotions, metrics, events, announcer, webhooks)


def build_registry_events(
    settings: Settings, promotions: Promotions, client: WebClient
) -> tuple[RegistryEvents, RegistryAnnouncer | None, WebhookReceiver | None]:
    """Registry events: the domain, the notice poster and the MLflow webhook receiver."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.domain.registry_events import RegistryEvents
    from bot.mlflow_webhooks.receiver import WebhookReceiver
    from bot.slack.event_posting import RegistryAnnouncer

    events = RegistryEvents(promotions.context, promotions.requests)
    channel = settings.notify_channel
    announcer = RegistryAnnouncer(client, events, channel) if channel else None
    secret = settings.mlflow_webhook_secret
    webhooks = None
    if secret is not None and secret.get_secret_value():
        workers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mlflow-webhook")
        webhooks = WebhookReceiver(secret.get_secret_value(), events, announcer, workers)
    return events, announcer, webhooks
