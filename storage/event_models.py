"""The registry-event tables: webhook deliveries seen, announcements posted, holders watched.

Each write that decides "who posts" is a unique key or a compare-and-set, so a webhook, the
watch and any number of replicas sharing the database post each announcement once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


class AnnouncementKind(StrEnum):
    VERSION = "version"  # a new model version
    MODEL = "model"  # a new registered model
    OUTSIDE = "outside"  # a production (or alias) change made outside promobot


class AnnouncementStatus(StrEnum):
    POSTING = "posting"  # claimed by one replica, being posted now
    POSTED = "posted"
    FAILED = "failed"  # Slack refused it; never retried (it may have landed)


class WebhookDelivery(SQLModel, table=True):
    """A webhook delivery id MLflow sent, remembered so that a replay has no effect."""

    __tablename__ = "webhook_delivery"

    delivery_id: str = Field(primary_key=True)
    received_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class RegistryAnnouncement(SQLModel, table=True):
    """One notice or alert, recorded (by its unique key) before it is posted."""

    __tablename__ = "registry_announcement"
    __table_args__ = (UniqueConstraint("key", name="uq_registry_announcement_key"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str
    kind: str
    model_name: str
    #: The new version (version notices), or the holder now (alerts; None: removed).
    version: int | None = None
    #: Alerts: the target changed (`Production`, `@champion`) and the holder before.
    target: str | None = None
    previous_version: int | None = None
    #: Who noticed it first: `webhook` or `watch`.
    source: str
    status: str
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    channel_id: str | None = None
    message_ts: str | None = None
    #: Who used the notice's button (claimed once; released if the move was refused).
    acted_by: str | None = None


class WatchedHolder(SQLModel, table=True):
    """The versions at one target of one model when promobot last looked (`4` or `4,7`).

    `revision` grows by one at each change; a change is claimed by the one conditional UPDATE
    that still finds the revision it read.
    """

    __tablename__ = "watched_holder"

    model_name: str = Field(primary_key=True)
    target: str = Field(primary_key=True)
    holders: str = ""
    revision: int = 0
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RegistryWatch(SQLModel, table=True):
    """Since when the watch has known the registry (one row, id 1): older versions are old news."""

    __tablename__ = "registry_watch"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    since: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
