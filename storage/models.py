"""The two tables: promotion requests (mutable status) and decision events (append-only)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class RequestKind(StrEnum):
    PROMOTE = "promote"  # a version moves into Production
    DEMOTE = "demote"  # the Production version moves out (archive, or back to Staging/None)
    ROLLBACK = "rollback"  # an earlier version returns to Production


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for an approver
    APPROVED = "approved"  # approved; the registry change is being applied
    APPLIED = "applied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # approved but the registry change failed; can be retried or cancelled
    STALE = "stale"  # the registry changed since the request, so it no longer makes sense


#: Statuses in which a request still holds its model's single open slot.
OPEN_STATUSES = (RequestStatus.PENDING, RequestStatus.APPROVED, RequestStatus.FAILED)


class EventKind(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    APPLIED = "applied"
    FAILED = "failed"
    STALE = "stale"
    REFUSED = "refused"  # someone tried something the rules forbid (self-approval, ...)


class PromotionRequest(SQLModel, table=True):
    """A change that needs a second person: a move into or out of Production."""

    __tablename__ = "promotion_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    model_name: str = Field(index=True)
    version: int
    from_stage: str
    to_stage: str
    #: Comma-separated versions that will be archived when this request is applied.
    archive_versions: str = ""
    requested_by: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(default=RequestStatus.PENDING, index=True)
    decided_by: str | None = None
    decided_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    channel_id: str | None = None
    message_ts: str | None = None
    comment: str = ""
    #: Equals model_name while the request is open and NULL after; its unique constraint is
    #: what keeps a model at one open request, even across replicas sharing one database.
    open_model: str | None = Field(default=None, unique=True)
    #: Who ran the command line that filed the request (`cli:<os user>@<host>`); None when it
    #: was filed in Slack. `requested_by` may then name a Slack user the request is filed as.
    filed_from: str | None = None

    @property
    def archive_version_list(self) -> list[int]:
        return [int(v) for v in self.archive_versions.split(",") if v]


class SeenRequest(SQLModel, table=True):
    """A Slack request signature already handled; a second arrival is a replay."""

    __tablename__ = "seen_request"

    signature: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class DecisionEvent(SQLModel, table=True):
    """One append-only audit record: who did what, when, to which version, between which stages."""

    __tablename__ = "decision_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    event: str = Field(index=True)
    actor: str
    model_name: str = Field(index=True)
    version: int
    from_stage: str
    to_stage: str
    request_id: int | None = Field(default=None, index=True)
    comment: str = ""
