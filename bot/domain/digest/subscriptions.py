"""Digest schedules and slots: subscriptions, which slots are due, and recording each slot
under its unique key before anything is posted, so that replicas post once per slot."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.domain.digest.schedule import (
    DigestSchedule,
    check_crontab,
    check_min_interval,
    next_runs,
    plan_slots,
    plan_start,
)
from bot.domain.rules import DomainContext
from storage import digest_queries
from storage.digest_models import DigestSlot, DigestSubscription, SlotStatus
from storage.errors import AlreadyRecordedError

log = logging.getLogger(__name__)

#: How many upcoming run times a subscription reply lists.
NEXT_RUNS_SHOWN = 3


@dataclass(frozen=True)
class Subscribed:
    subscription: DigestSubscription
    next_runs: list[datetime]
    #: The channel's schedule before, if it had one (a subscription or the settings').
    replaced: DigestSchedule | None


@dataclass(frozen=True)
class Unsubscribed:
    channel: str
    removed: DigestSubscription | None
    #: The settings' schedule, which still applies when this is the settings' channel.
    still_scheduled: DigestSchedule | None


@dataclass(frozen=True)
class DueSlot:
    channel: str
    slot_at: datetime


class ScheduleService:
    """Subscriptions from Slack, the settings' schedule, and the slot records of both."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context
        #: When this process started: the settings' schedule counts missed slots from here
        #: (less the grace period) until its channel has a recorded slot.
        self.started_at = context.clock()

    def subscribe(self, *, channel: str, actor: str, crontab: str | None = None) -> Subscribed:
        """Store the channel's schedule (default: the settings' crontab) and its next runs."""
        rules = self._ctx.digest
        line = check_crontab(crontab or rules.crontab, rules.timezone)
        now = self._ctx.clock()
        check_min_interval(line, rules.timezone, rules.min_interval, after=now)
        before = self._schedule_of(channel)
        subscription = DigestSubscription(
            channel_id=channel,
            crontab=line,
            timezone=rules.timezone,
            subscribed_by=actor,
            subscribed_at=now,
        )
        with self._ctx.unit_of_work() as session:
            saved = digest_queries.save_subscription(session=session, subscription=subscription)
        upcoming = next_runs(line, rules.timezone, after=now, count=NEXT_RUNS_SHOWN)
        return Subscribed(saved, upcoming, before)

    def unsubscribe(self, *, channel: str) -> Unsubscribed:
        """Remove the channel's subscription; the settings' channel keeps its schedule."""
        with self._ctx.unit_of_work() as session:
            existing = digest_queries.get_subscription(session=session, channel_id=channel)
            if existing is not None:
                digest_queries.delete_subscription(session=session, channel_id=channel)
        settings_schedule = self._settings_schedule()
        still = (
            settings_schedule
            if settings_schedule and channel == settings_schedule.channel
            else None
        )
        return Unsubscribed(channel, existing, still)

    def schedules(self) -> list[DigestSchedule]:
        """Every channel's schedule; a channel's subscription replaces the settings' schedule."""
        with self._ctx.unit_of_work() as session:
            subscriptions = digest_queries.list_subscriptions(session=session)
        found = {
            s.channel_id: DigestSchedule(s.channel_id, s.crontab, s.timezone, s.subscribed_at)
            for s in subscriptions
        }
        settings_schedule = self._settings_schedule()
        if settings_schedule is not None:
            found.setdefault(settings_schedule.channel, settings_schedule)
        return sorted(found.values(), key=lambda s: s.channel)

    def next_runs(self, schedule: DigestSchedule, count: int = NEXT_RUNS_SHOWN) -> list[datetime]:
        return next_runs(schedule.crontab, schedule.timezone, after=self._ctx.clock(), count=count)

    def due_slots(self, *, channel: str | None = None) -> list[DueSlot]:
        """The slots to post now; missed slots outside the grace period are recorded skipped."""
        now = self._ctx.clock()
        with self._ctx.unit_of_work() as session:
            recorded = digest_queries.latest_slot_times(session=session)
        due = []
        for schedule in self.schedules():
            if channel is not None and schedule.channel != channel:
                continue
            last = recorded.get(schedule.channel)
            plan = plan_slots(
                schedule.crontab,
                schedule.timezone,
                after=plan_start(schedule, last),
                now=now,
                grace=self._ctx.digest.grace,
            )
            # The settings' channel with no record yet: slots before this start were not
            # missed by a bot that was down, so only a just-missed one is posted.
            skip = () if schedule.from_settings and last is None else plan.skip
            for slot_at in skip:
                self._record(schedule.channel, slot_at, SlotStatus.SKIPPED, now)
            if skip:
                log.info("digest slots skipped channel=%s count=%s", schedule.channel, len(skip))
            if plan.post is not None:
                due.append(DueSlot(schedule.channel, plan.post))
        return due

    def claim(self, slot: DueSlot) -> int | None:
        """Record the slot as being posted; None when another replica recorded it first."""
        return self._record(slot.channel, slot.slot_at, SlotStatus.POSTING, self._ctx.clock())

    def record_posted(
        self, *, slot_id: int, as_of: datetime, message_ts: str, detail: str = ""
    ) -> None:
        with self._ctx.unit_of_work() as session:
            digest_queries.finish_slot(
                session=session,
                slot_id=slot_id,
                status=SlotStatus.POSTED,
                as_of=as_of,
                message_ts=message_ts,
                detail=detail,
            )

    def record_failed(self, *, slot_id: int, detail: str) -> None:
        with self._ctx.unit_of_work() as session:
            digest_queries.finish_slot(
                session=session, slot_id=slot_id, status=SlotStatus.FAILED, detail=detail
            )

    def _record(
        self, channel: str, slot_at: datetime, status: SlotStatus, now: datetime
    ) -> int | None:
        slot = DigestSlot(channel_id=channel, slot_at=slot_at, status=status, recorded_at=now)
        try:
            with self._ctx.unit_of_work() as session:
                digest_queries.add_slot(session=session, slot=slot)
        except AlreadyRecordedError:
            return None
        return slot.id

    def _schedule_of(self, channel: str) -> DigestSchedule | None:
        return next((s for s in self.schedules() if s.channel == channel), None)

    def _settings_schedule(self) -> DigestSchedule | None:
        """The settings' channel and crontab. Until that channel has a recorded slot, its
        schedule counts as begun one grace period before this process started, so a slot
        missed just before a (first) start is still posted."""
        rules = self._ctx.digest
        if not rules.channel:
            return None
        began = self.started_at - rules.grace
        return DigestSchedule(rules.channel, rules.crontab, rules.timezone, began, True)
