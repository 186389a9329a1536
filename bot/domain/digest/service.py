"""Building a digest: one bulk registry scan plus a few bulk reads of the decision log."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.digest.model import CLOCK_TOLERANCE, Digest, DigestInputs, assemble_digest
from bot.domain.rules import DomainContext
from bot.domain.views import RequestView, request_views
from bot.stages import Stage
from storage import digest_queries, queries

#: What the first digest of a channel covers, when no earlier digest was posted there.
DEFAULT_WINDOW = timedelta(hours=24)


class DigestService:
    """Reads the registry and the decision log into a Digest."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context

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
            in_production = [e for e in latest_moves if e.to_target == Stage.PRODUCTION]
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
        )
        return assemble_digest(inputs, as_of=as_of, since=since, first=first)
