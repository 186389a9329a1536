"""What the domain hands to the surfaces (Slack, CLI, demo) to render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.domain.views import EventView, RequestView
from bot.registry.protocol import ModelVersion, RegisteredModel

Metrics = Mapping[str, float]


@dataclass(frozen=True)
class MoveApplied:
    """A direct move, applied at once (it touches no protected target)."""

    model: str
    version: int
    from_target: str
    to_target: str
    actor: str
    #: Versions that lost the target to this one (an unprotected alias moved on).
    displaced: tuple[int, ...] = ()


@dataclass(frozen=True)
class CardDetails:
    """Everything an approver needs to decide: the request, the candidate, and the versions
    the move displaces (today's Production, or today's holder of the alias)."""

    request: RequestView
    candidate: ModelVersion | None
    candidate_metrics: Metrics = field(default_factory=dict)
    production: tuple[tuple[ModelVersion, Metrics], ...] = ()
    ui_url: str | None = None
    registry_error: str | None = None
    #: Who the card asks to decide: user (`U…`) and user group (`S…`) IDs, as configured.
    approvers: tuple[str, ...] = ()


@dataclass(frozen=True)
class RequestFiled:
    """A change that needs approval was recorded; nothing in the registry changed yet."""

    details: CardDetails

    @property
    def request(self) -> RequestView:
        return self.details.request


class Outcome(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"
    STALE = "stale"
    #: An approval was counted; the request waits for more (PROMOBOT_REQUIRED_APPROVALS).
    COUNTED = "counted"


@dataclass(frozen=True)
class Decision:
    """The result of a click or command that changed a request's status."""

    outcome: Outcome
    request: RequestView
    actor: str
    #: The versions that lost the target when the request was applied.
    displaced: tuple[int, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class VersionListing:
    """One model's versions with their run metrics, and its open requests."""

    model: RegisteredModel
    versions: list[ModelVersion]
    metrics: Mapping[str, Metrics]
    open_requests: list[RequestView]
    #: "stages" or "aliases": what the listing shows beside each version.
    mode: str = "stages"


@dataclass(frozen=True)
class ModelOverview:
    """A registered model with the versions at its production and staging targets."""

    name: str
    production: list[int]
    staging: list[int]
    production_label: str = "Production"
    staging_label: str = "Staging"


@dataclass(frozen=True)
class History:
    model: str
    events: list[EventView]
