"""The tables: promotion requests (mutable status), decision events (append-only), and the
alias holders promobot last saw."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class RequestKind(StrEnum):
    PROMOTE = "promote"  # a version moves to a protected target (Production, @champion)
    DEMOTE = "demote"  # a version leaves a protected target (archive, or back to Staging/None)
    ROLLBACK = "rollback"  # an earlier version returns to production


class RequestStatus(StrEnum):
    PENDING = "pending"  # waiting for an approver
    APPROVED = "approved"  # approved; the registry change is being applied
    APPLIED = "applied"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    #: Approved, but the registry change failed or its answer was lost. MLflow is read again
    #: before a retry, a cancel or an expiry acts on it, and the sweep settles it as applied
    #: if MLflow has the change after all.
    FAILED = "failed"
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
    """A change that needs a second person: a move to or off a protected target.

    Targets are stored as labels: a stage (`Production`), an alias (`@champion`), or
    `archived` in alias mode. `from_target` is where the version was when the request was
    filed (its stage, or its aliases separated by spaces).
    """

    __tablename__ = "promotion_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    model_name: str = Field(index=True)
    version: int
    from_target: str
    to_target: str
    #: Comma-separated versions that lose the target when this request is applied, as the
    #: card showed them; an approval finding others there ends the request as stale.
    displaced_versions: str = ""
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
    #: Bumped by the process applying an approved request while it works; another replica
    #: settles the request only after seeing it unchanged for a whole lease.
    heartbeat: int = Field(default=0)
    #: Who ran the command line that filed the request (`cli:<os user>@<host>`); None when it
    #: was filed in Slack. `requested_by` may then name a Slack user the request is filed as.
    filed_from: str | None = None
    #: Why the requester asks (`AUC +2% on the holdout set`); required for production.
    reason: str = ""
    #: How many approvals apply it (PROMOBOT_REQUIRED_APPROVALS when it was filed).
    required_approvals: int = 1
    #: Approvals counted so far, and by whom (space-separated, in order); each approver
    #: counts once (RequestApproval's key), and the count that reaches
    #: `required_approvals` moves the request to approved in the same transaction.
    approvals: int = 0
    approved_by: str = ""

    @property
    def displaced(self) -> tuple[int, ...]:
        return tuple(int(v) for v in self.displaced_versions.split(",") if v)


class RequestApproval(SQLModel, table=True):
    """One approver's approval of a request that needs several; the key makes it count once."""

    __tablename__ = "request_approval"

    request_id: int = Field(primary_key=True)
    approver: str = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RequestReminder(SQLModel, table=True):
    """A reminder slot of an open request (`every-3`, `before-expiry`), claimed before posting
    so that replicas sharing the database post each slot once."""

    __tablename__ = "request_reminder"

    request_id: int = Field(primary_key=True)
    slot: str = Field(primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = "claimed"  # then "posted" or "failed"


class SeenRequest(SQLModel, table=True):
    """A Slack request signature already handled; a second arrival is a replay."""

    __tablename__ = "seen_request"

    signature: str = Field(primary_key=True)
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class DecisionEvent(SQLModel, table=True):
    """One append-only audit record: who did what, when, to which version, between which targets.

    A version that lost its target to another is recorded as an `applied` event from that
    target, with a comment naming the version that replaced it.
    """

    __tablename__ = "decision_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    event: str = Field(index=True)
    actor: str
    model_name: str = Field(index=True)
    version: int
    from_target: str
    to_target: str
    request_id: int | None = Field(default=None, index=True)
    comment: str = ""


class AliasRecord(SQLModel, table=True):
    """Which version held an alias when promobot last looked: at its own moves and at digests.

    MLflow keeps no alias history and moving an alias changes no timestamp, so a digest finds
    moves made outside promobot by comparing the registry with these rows.
    """

    __tablename__ = "alias_record"

    model_name: str = Field(primary_key=True)
    alias: str = Field(primary_key=True)
    version: int
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    by_promobot: bool = False
