"""The registry watch inside `promobot serve`: every PROMOBOT_WATCH_INTERVAL, one bulk scan.

Runs only when PROMOBOT_NOTIFY_CHANNEL is set. Each announcement's unique key decides which
replica (or webhook) posts it, so the job may run on every replica at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bot.domain.registry_watch import RegistryWatch, WatchRun
from bot.errors import PromobotError
from bot.slack.event_posting import RegistryAnnouncer

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.app import Runtime

log = logging.getLogger(__name__)

JOB_ID = "registry-watch"


class WatchJob:
    """One watch run: scan, then post what it claimed."""

    def __init__(self, watch: RegistryWatch, announcer: RegistryAnnouncer) -> None:
        self._watch = watch
        self._announcer = announcer

    def run(self) -> WatchRun | None:
        try:
            found = self._watch.run()
        except PromobotError as exc:  # MLflow down: the next run catches up
            log.warning("registry watch skipped: %s", exc.message)
            return None
        if found.baseline:
            log.info("registry watch started: the registry as it is now is the baseline")
        for announcement in found.announcements:
            self._announcer.post(announcement)
        return found


def install_watch(scheduler: BackgroundScheduler, runtime: Runtime) -> bool:
    """Schedule the watch (first run right away); False when there is nowhere to post."""
    if runtime.events is None or runtime.announcer is None:
        return False
    job = WatchJob(RegistryWatch(runtime.events), runtime.announcer)
    scheduler.add_job(
        job.run,
        "interval",
        seconds=runtime.settings.watch_interval.total_seconds(),
        id=JOB_ID,
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC),
    )
    return True
