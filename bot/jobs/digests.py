"""Scheduled digests inside `promobot serve`: one APScheduler cron job per channel, and a
sync job that follows subscriptions and catches up on slots missed while the bot was down.

Every job only asks the domain which slots are due and posts those; the slot record (a
unique key written before posting) decides which replica posts, so the jobs can run on any
number of replicas, fire late, or overlap, and each slot is still posted at most once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from bot.domain.digest.schedule import DigestSchedule, cron_trigger
from bot.domain.digest.subscriptions import DueSlot
from bot.domain.service import Promotions
from bot.errors import PromobotError
from bot.slack.blocks.digest import digest_messages
from bot.slack.digest_posting import DigestNotPostedError, post_digest

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

#: How often subscriptions are re-read and missed slots looked for.
SYNC_SECONDS = 60
_JOB_PREFIX = "digest:"


class SlotOutcome(StrEnum):
    POSTED = "posted"
    FAILED = "failed"  # claimed, but Slack refused the parent message
    TAKEN = "taken"  # another replica (or job) recorded the slot first
    NOT_BUILT = "not built"  # the registry could not be read; tried again while in grace


@dataclass(frozen=True)
class SlotResult:
    slot: DueSlot
    outcome: SlotOutcome
    detail: str = ""


class DigestRunner:
    """Posts the digest slots that are due, whichever replica it runs on."""

    def __init__(
        self, promotions: Promotions, client: WebClient, metrics: Metrics | None = None
    ) -> None:
        self._promotions = promotions
        self._client = client
        self._metrics = metrics

    def schedules(self) -> list[DigestSchedule]:
        return self._promotions.schedules.schedules()

    def run_due(self, channel: str | None = None) -> list[SlotResult]:
        """Post every slot that is due now (or only `channel`'s)."""
        due = self._promotions.schedules.due_slots(channel=channel)
        results = [self.post_slot(slot) for slot in due]
        if self._metrics is not None:
            for result in results:
                self._metrics.digest_run(str(result.outcome))
        return results

    def post_slot(self, slot: DueSlot) -> SlotResult:
        """Build the digest, claim the slot, post; the claim comes before any Slack call."""
        schedules = self._promotions.schedules
        try:
            digest = self._promotions.digests.build(channel=slot.channel)
            messages = digest_messages(digest)
        except PromobotError as exc:
            log.warning("digest not built channel=%s slot=%s: %s", slot.channel, slot.slot_at, exc)
            return SlotResult(slot, SlotOutcome.NOT_BUILT, exc.message)
        slot_id = schedules.claim(slot)
        if slot_id is None:
            return SlotResult(slot, SlotOutcome.TAKEN)
        try:
            posted = post_digest(self._client, messages, slot.channel)
        except DigestNotPostedError as exc:
            schedules.record_failed(slot_id=slot_id, detail=exc.error)
            log.error(
                "digest not posted channel=%s slot=%s: %s", slot.channel, slot.slot_at, exc.error
            )
            return SlotResult(slot, SlotOutcome.FAILED, exc.error)
        detail = ""
        if posted.error:
            detail = f"{posted.posted_parts} of {posted.parts} messages posted: {posted.error}"
        schedules.record_posted(
            slot_id=slot_id, as_of=digest.as_of, message_ts=posted.ts, detail=detail
        )
        self._promotions.digests.record_seen(digest)
        log.info(
            "digest posted channel=%s slot=%s messages=%s", slot.channel, slot.slot_at, posted.parts
        )
        return SlotResult(slot, SlotOutcome.POSTED, detail)


class DigestJobs:
    """Keeps one cron job per channel schedule in an APScheduler 3.x scheduler."""

    def __init__(self, scheduler: Any, runner: DigestRunner) -> None:
        self._scheduler = scheduler
        self._runner = runner
        self._installed: dict[str, tuple[str, str]] = {}

    def install(self, *, sync_now: bool = True) -> None:
        """Add the sync job; it runs at once (catching up on missed slots), then every minute."""
        self._scheduler.add_job(
            self.sync,
            "interval",
            seconds=SYNC_SECONDS,
            id="digest-sync",
            next_run_time=datetime.now(UTC) if sync_now else None,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )

    def sync(self) -> list[SlotResult]:
        """Follow subscription changes, then post whatever is due (a missed slot, say)."""
        self.reconcile()
        return self._runner.run_due()

    def reconcile(self) -> None:
        """Add, replace or remove cron jobs so there is one per current schedule."""
        wanted = {_JOB_PREFIX + s.channel: s for s in self._runner.schedules()}
        for job_id in [j for j in self._installed if j not in wanted]:
            self._scheduler.remove_job(job_id)
            del self._installed[job_id]
        for job_id, schedule in wanted.items():
            key = (schedule.crontab, schedule.timezone)
            if self._installed.get(job_id) == key:
                continue
            self._scheduler.add_job(
                self._runner.run_due,
                trigger=cron_trigger(schedule.crontab, schedule.timezone),
                args=[schedule.channel],
                id=job_id,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
            self._installed[job_id] = key
