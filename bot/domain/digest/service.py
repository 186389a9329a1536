"""Building a digest: one bulk registry scan plus a few bulk reads of the decision log."""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from bot.domain.digest.aliases import AliasChange, AliasKnowledge, RecordedAlias
from bot.domain.digest.model import (
    CLOCK_TOLERANCE,
    Digest,
    DigestInputs,
    assemble_digest,
    tracks_aliases,
)
from bot.domain.rules import DomainContext
from bot.domain.views import RequestView, request_views
from bot.errors import RuleViolation
from storage import alias_queries, digest_queries, queries
from storage.alias_queries import AliasRecordUpdate

log = logging.getLogger(__name__)

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
        read once, whose number does not grow with the number of models. Nothing is written:
        the alias state it saw is recorded by `record_seen`, once the digest is out.
        """
        as_of = self._ctx.clock()
        last = None
        if channel is not None:
            with self._ctx.unit_of_work() as session:
                last = digest_queries.last_posted_slot(session=session, channel_id=channel)
        first = last is None or last.as_of is None
        since = as_of - DEFAULT_WINDOW if last is None or last.as_of is None else last.as_of
        targets = self._ctx.registry.targets
        models, versions = self._ctx.registry.all_models_and_versions()
        # The log and records are read after the registry, so a move applied during the
        # scan is seen.
        aliases = (
            self._alias_knowledge(since=since, as_of=as_of)
            if tracks_aliases(targets)
            else AliasKnowledge()
        )
        with self._ctx.unit_of_work() as session:
            latest_moves = digest_queries.latest_applied_events(session=session)
            recent_moves = digest_queries.list_applied_events(
                session=session, after=since - CLOCK_TOLERANCE, until=as_of
            )
            open_requests = queries.list_open_requests(session=session)
            expired = digest_queries.list_expired_requests(
                session=session, after=since, until=as_of
            )
            in_production = [
                e
                for e in [*latest_moves, *aliases.moves_into]
                if e.to_target == targets.production.label
            ]
            request_ids = {
                e.request_id for e in [*in_production, *recent_moves] if e.request_id is not None
            }
            requests = digest_queries.get_requests(session=session, request_ids=request_ids)
        inputs = DigestInputs(
            models=models,
            versions=versions,
            latest_moves=latest_moves,
            recent_moves=recent_moves,
            open_requests=request_views(open_requests),
            expired=request_views(expired),
            requests={number: RequestView.of(r) for number, r in requests.items()},
            targets=targets,
            aliases=aliases,
        )
        return assemble_digest(inputs, as_of=as_of, since=since, first=first)

    def record_seen(self, digest: Digest) -> None:
        """Record the alias state `digest` saw, once it is posted (or printed).

        The next digest then reports only newer outside moves, and every later digest of any
        channel lists the outside changes this one noticed within its own window. Each record
        is written only if it still holds what the digest compared against, so recording
        twice, or on two replicas at once, changes nothing. Best effort: the digest is out
        already; if this fails, the next digest reports the same changes again.
        """
        seen = digest.seen_aliases
        if seen is None:
            return
        updates = [
            AliasRecordUpdate(
                model_name=u.model,
                alias=u.alias,
                version=u.version,
                by_promobot=u.by_promobot,
                replaces=u.replaces,
                outside=u.change is not None,
                previous=u.change.previous if u.change is not None else None,
            )
            for u in seen.updates
        ]
        try:
            with self._ctx.unit_of_work() as session:
                alias_queries.record_seen_aliases(
                    session=session, updates=updates, noticed_at=seen.as_of
                )
                alias_queries.start_alias_watch(session=session, since=seen.as_of)
        except Exception:  # the database hiccuped after the digest was posted: log, go on
            log.exception("alias state of the digest as of %s not recorded", seen.as_of)

    def _alias_knowledge(self, *, since: datetime, as_of: datetime) -> AliasKnowledge:
        """The alias records, then the outside changes already noticed in (since, as_of].

        Records are read first: a change another replica records in between is then either
        still unrecorded (found again, and listed once) or both recorded and listed.
        """
        with self._ctx.unit_of_work() as session:
            records = [
                RecordedAlias(r.model_name, r.alias, r.version, r.recorded_at, r.by_promobot)
                for r in alias_queries.list_alias_records(session=session)
            ]
            noticed = [
                AliasChange(c.noticed_at, c.model_name, c.alias, c.version, c.previous_version)
                for c in alias_queries.list_alias_changes(session=session, after=since, until=as_of)
            ]
            return AliasKnowledge(
                records=records,
                noticed=noticed,
                watched_since=alias_queries.alias_watch_since(session=session),
                moves_into=digest_queries.latest_applied_per_target(session=session),
            )
