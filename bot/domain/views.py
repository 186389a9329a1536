"""Frozen views of stored requests and events: what crosses from the domain to the surfaces.

Block builders, the CLI and the demo render these, never SQLModel rows, so a row's session
state or a schema change cannot leak into Slack messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.models import DecisionEvent, PromotionRequest, RequestStatus


@dataclass(frozen=True)
class RequestView:
    """A promotion request as it stands: what was asked, by whom, and where it is now."""

    id: int
    kind: str
    model_name: str
    version: int
    from_target: str
    to_target: str
    #: The versions that lose the target when the request is applied, as the card showed.
    displaced: tuple[int, ...]
    requested_by: str
    created_at: datetime
    expires_at: datetime
    status: RequestStatus
    decided_by: str | None = None
    decided_at: datetime | None = None
    channel_id: str | None = None
    message_ts: str | None = None
    comment: str = ""
    #: The model's name while the request holds its one open slot; None once it is closed.
    open_model: str | None = None
    #: Who ran the command line that filed it (`cli:<os user>@<host>`); None from Slack.
    filed_from: str | None = None
    #: Why the requester asks; "" when they gave no reason.
    reason: str = ""
    #: How many approvals apply it, and who has approved so far (in order).
    required_approvals: int = 1
    approved_by: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: PromotionRequest) -> RequestView:
        assert row.id is not None, "a request is viewed only once it is stored"
        return cls(
            id=row.id,
            kind=row.kind,
            model_name=row.model_name,
            version=row.version,
            from_target=row.from_target,
            to_target=row.to_target,
            displaced=row.displaced,
            requested_by=row.requested_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
            status=RequestStatus(row.status),
            decided_by=row.decided_by,
            decided_at=row.decided_at,
            channel_id=row.channel_id,
            message_ts=row.message_ts,
            comment=row.comment,
            open_model=row.open_model,
            filed_from=row.filed_from,
            reason=row.reason,
            required_approvals=row.required_approvals,
            approved_by=tuple(row.approved_by.split()),
        )


@dataclass(frozen=True)
class EventView:
    """One decision-log record."""

    at: datetime
    event: str
    actor: str
    model_name: str
    version: int
    from_target: str
    to_target: str
    request_id: int | None = None
    comment: str = ""

    @classmethod
    def of(cls, row: DecisionEvent) -> EventView:
        return cls(
            at=row.at,
            event=row.event,
            actor=row.actor,
            model_name=row.model_name,
            version=row.version,
            from_target=row.from_target,
            to_target=row.to_target,
            request_id=row.request_id,
            comment=row.comment,
        )


def request_views(rows: list[PromotionRequest]) -> list[RequestView]:
    return [RequestView.of(r) for r in rows]
