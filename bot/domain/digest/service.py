"""Building a digest: one bulk registry scan plus a few bulk reads of the decision log."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from bot.domain.digest.model import CLOCK_TOLERANCE, Digest, DigestInputs, assemble_digest
from bot.domain.rules import DomainContext
from bot.errors import RuleViolation
from bot.stages import Stage
from storage import digest_queries, queries

#: What the first digest of a channel covers, when no earlier digest was posted there.
DEFAULT_WINDOW = timedelta(hours=24)
#: `/promote digest` posts at most once this often per channel, across all replicas.
ON_DEMAND_EVERY = timedelta(minutes=1)


class DigestTooSoonError(RuleViolation):
    """The channel had a digest on demand less than a minute ago."""

    def __init__(self, last: datetime, wait: timedelta) -> None:
        seconds = max(1, math.ceil(wait.total_seconds()))
        super().__init__(
            f"A digest was posted here less than a minute ago (at {last:%H:%M:%S} UTC). "
            f"Scroll up to read it, or ask again in {seconds} seconds."
        )
        self.last = last


class DigestService:
    """Reads the registry and the decision log into a Digest."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context

    def claim_on_demand(self, *, channel: str) -> None:
        """Allow one `/promote digest` in `channel` now; DigestTooSoonError within a minute
        of the last one (recorded in the database, so this holds across replicas)."""
        now = self._ctx.clock()
        with self._ctx.unit_of_work() as session:
            last = digest_queries.claim_on_demand_digest(
                session=session, channel_id=channel, now=now, every=ON_DEMAND_EVERY
            )
        if last is not None:
            raise DigestTooSoonError(last, last + ON_DEMAND_EVERY - now)

    def build(self, *, channel: str | None = None) -> Digest:
        """The digest as of now, covering the time since `channel`'s last posted digest.

        The registry is read with `all_models_and_versions`: paginated bulk calls, each list
        read once, whose number does not grow with the number of models.
        """
        as_of = self._ctx.clock()
        last = None
        if channel is not None:
            with self._ctx.unit_of_work() as session:
                last = digest_queries.last_posted_slot(session=session, channel_id=channel)
        first = last is None or last.as_of is None
        since = as_of - DEFAULT_WINDOW if last is None or last.as_of is None else last.as_of
        models, versions = self._ctx.registry.all_models_and_versions()
        # The log is read after the registry, so a move applied during the scan is seen.
        with self._ctx.unit_of_work() as session:
            latest_moves = digest_queries.latest_applied_events(session=session)
            recent_moves = digest_queries.list_applied_events(
                session=session, after=since - CLOCK_TOLERANCE, until=as_of
            )
            open_requests = queries.list_open_requests(session=session)
            expired = digest_queries.list_expired_requests(
                session=session, after=since, until=as_of
            )
            in_production = [e for e in latest_moves if e.to_stage == Stage.PRODUCTION]
            request_ids = {
                e.request_id for e in [*in_production, *recent_moves] if e.request_id is not None
            }
            requests = digest_queries.get_requests(session=session, request_ids=request_ids)
        inputs = DigestInputs(
            models=models,
            versions=versions,
            latest_moves=latest_moves,
            recent_moves=recent_moves,
            open_requests=open_requests,
            expired=expired,
            requests=requests,
        )
        return assemble_digest(inputs, as_of=as_of, since=since, first=first)
