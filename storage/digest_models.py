"""The digest tables: channel subscriptions, one row per scheduled slot (posted or not), and
what alias-mode digests noticed about aliases, and when each channel last asked for a
digest with `/promote digest`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class SlotStatus(StrEnum):
    POSTING = "posting"  # claimed by one replica; the digest is being posted right now
    POSTED = "posted"
    SKIPPED = "skipped"  # missed while the bot was down, and older than the grace period
    FAILED = "failed"  # Slack refused the parent message; never retried (it may have landed)


class DigestSubscription(SQLModel, table=True):
    """A channel's digest schedule, set with `/promote subscribe`; one per channel."""

    __tablename__ = "digest_subscription"

    channel_id: str = Field(primary_key=True)
    crontab: str
    timezone: str
    subscribed_by: str
    subscribed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class DigestSlot(SQLModel, table=True):
    """One scheduled slot of one channel, recorded before anything is posted.

    The unique (channel_id, slot_at) key is what makes a slot post at most once, even with
    several replicas sharing the database: only the replica whose INSERT succeeds posts.
    """

    __tablename__ = "digest_slot"
    __table_args__ = (UniqueConstraint("channel_id", "slot_at", name="uq_digest_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(index=True)
    slot_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = Field(index=True)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    #: When the posted digest read the registry: the next digest covers changes after this.
    as_of: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    message_ts: str | None = None
    detail: str = ""


class AliasWatch(SQLModel, table=True):
    """Since when digests have recorded every alias in the registry (one row, id 1).

    Before it exists, an alias promobot has no record of is seen for the first time; after,
    such an alias was set outside promobot since the last recorded digest.
    """

    __tablename__ = "alias_watch"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    since: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class AliasChange(SQLModel, table=True):
    """An alias change made outside promobot, as the digest that noticed it recorded it.

    Every channel's digest lists the changes noticed in its own window, so a change noticed
    by one channel's digest still reaches the others.
    """

    __tablename__ = "alias_change"

    id: int | None = Field(default=None, primary_key=True)
    noticed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    model_name: str
    alias: str
    #: The holder now; None when the alias was removed.
    version: int | None = None
    #: The holder before; None when the alias was newly set.
    previous_version: int | None = None


class OnDemandDigest(SQLModel, table=True):
    """When a channel last had a digest posted with `/promote digest`; one row per channel.

    Claimed with one conditional UPDATE (or the first INSERT), so that replicas sharing the
    database let a channel ask at most once a minute between them.
    """

    __tablename__ = "on_demand_digest"

    channel_id: str = Field(primary_key=True)
    posted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
