"""The configurable promotion rules and the collaborators every domain service shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from bot.domain.approvers import AnyoneMayApprove, ApproverCheck
from bot.domain.clock import Clock, utc_now
from bot.domain.events import DecisionObserver, IgnoreDecisions
from bot.registry.protocol import ModelRegistry
from storage.db import UnitOfWork


@dataclass(frozen=True)
class Rules:
    require_staging: bool = True
    request_ttl: timedelta = timedelta(hours=24)
    mlflow_ui_url: str | None = None
    #: How long an apply may go without a heartbeat before another process settles it.
    apply_lease: timedelta = timedelta(minutes=2)
    #: How many approvers must approve a request; the requester never counts.
    required_approvals: int = 1
    #: How often an open request's thread gets a reminder (and once more an hour before expiry).
    remind_every: timedelta = timedelta(hours=4)
    #: Who the card asks: the approver list as configured (user and user group IDs).
    approver_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class DigestRules:
    """The digest settings: the settings' channel and schedule, and the missed-slot grace."""

    channel: str | None = None
    crontab: str = "0 9 * * 1-5"
    timezone: str = "UTC"
    grace: timedelta = timedelta(hours=1)
    #: The shortest time a schedule may leave between two digests of one channel.
    min_interval: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class DomainContext:
    """What the domain services need; built once by the composition root."""

    registry: ModelRegistry
    unit_of_work: UnitOfWork
    rules: Rules = field(default_factory=Rules)
    approvers: ApproverCheck = field(default_factory=AnyoneMayApprove)
    clock: Clock = utc_now
    observer: DecisionObserver = field(default_factory=IgnoreDecisions)
    digest: DigestRules = field(default_factory=DigestRules)
