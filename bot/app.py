"""The composition root: builds the domain and the Bolt app from Settings. Nothing at import."""

from __future__ import annotations

import logging
import os
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

    from bot.metrics import Metrics
    from bot.registry.mlflow_registry import TargetMapping
    from bot.registry.timed_client import CallTimer

log = logging.getLogger(__name__)

#: Listener threads. Each listener acks first, so a slow MLflow never delays the ack as
#: long as a thread is free; size this above the number of concurrent slow requests.
LISTENER_THREADS = 64


@dataclass(frozen=True)
class Runtime:
    """What one promobot process runs on: settings, the domain and (for Slack) the app."""

    settings: Settings
    promotions: Promotions
    #: Set by create_app; served at GET /metrics. None for the CLI, which exposes none.
    metrics: Metrics | None = field(default=None)


#: MLflow's HTTP client retries 7 times with backoff by default, which can keep a Slack user
#: waiting for minutes when the server is down. These apply only where the operator set none.
MLFLOW_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "0",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.5",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
}


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

    from bot.domain.replay import ReplayGuard
    from bot.metrics import Metrics
    from bot.slack import actions, commands, errors, observe, replay, replies
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
    secret = settings.slack_signing_secret
    app = App(
        client=client,
        signing_secret=secret.get_secret_value() if secret else None,
        token_verification_enabled=False,
        process_before_response=False,
        listener_executor=observe.ContextThreadPoolExecutor(
            LISTENER_THREADS, thread_name_prefix="listener"
        ),
        logger=logging.getLogger("bot.slack.bolt"),
    )
    observe.register(app)
    replies.register(app, replies.ReplyTransport(max_connections=LISTENER_THREADS))
    context = promotions.context
    replay.register(app, ReplayGuard(context.unit_of_work, context.clock))
    commands.register(app, promotions, settings.command, metrics, settings.approval_channel)
    actions.register(app, promotions, metrics)
    errors.register(app)
    return app, Runtime(settings, promotions, metrics)
