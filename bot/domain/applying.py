"""Applying approved requests to the registry, and settling the ones a crash left behind.

Order of work for one approval: the claim (pending -> approved) and its event are committed
first; then the registry is re-checked and changed; then the outcome is committed. A crash
between those steps leaves the request `approved`, and `reconcile` settles it by looking at
the registry: already changed -> applied; not changed -> failed, with Retry on the card.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.domain.results import Decision, Outcome
from bot.domain.rules import DomainContext
from bot.domain.tags import decision_tags, write_tags
from bot.errors import (
    ModelNotFoundError,
    RegistryRefusedError,
    RegistryUnavailableError,
    RequestClosedError,
    VersionNotFoundError,
)
from bot.stages import Stage
from storage import queries
from storage.models import DecisionEvent, EventKind, PromotionRequest, RequestStatus

log = logging.getLogger(__name__)

RESTART_DETAIL = (
    "promobot stopped before the registry change was applied; nothing changed in MLflow. "
    "Use Retry to apply it now"
)


class Applier:
    """Re-check, apply, and record the outcome of approved requests."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context

    def apply(self, request_id: int, actor: str) -> Decision:
        """Re-check the registry, then apply the approved request and record the outcome."""
        request = self._load(request_id)
        registry = self._ctx.registry
        try:
            version = registry.get_version(request.model_name, request.version)
            if version.stage == request.to_stage:
                return self._finish_applied(request, actor, [], "already there; nothing to move")
            if version.stage != request.from_stage:
                return self._finish_stale(
                    request,
                    actor,
                    f"version {request.version} moved from {request.from_stage} to "
                    f"{version.stage} since the request was made",
                )
            archived: list[int] = []
            if request.to_stage == Stage.PRODUCTION:
                archived = [
                    v.version
                    for v in registry.list_versions(request.model_name)
                    if v.stage == Stage.PRODUCTION and v.version != request.version
                ]
            registry.transition(
                request.model_name,
                request.version,
                Stage(request.to_stage),
                archive_existing=request.to_stage == Stage.PRODUCTION,
            )
        except VersionNotFoundError:
            return self._finish_stale(request, actor, f"version {request.version} no longer exists")
        except ModelNotFoundError:
            return self._finish_stale(request, actor, "the model no longer exists")
        except (RegistryUnavailableError, RegistryRefusedError) as exc:
            return self._finish_failed(request, actor, exc.detail)
        return self._finish_applied(request, actor, archived)

    def reconcile(self, older_than: timedelta) -> list[Decision]:
        """Settle every request approved more than `older_than` ago that has no outcome yet.

        The age keeps one replica from settling an approval another replica is still
        applying. A registry outage leaves the request for the next run.
        """
        cutoff = self._ctx.clock() - older_than
        with self._ctx.unit_of_work() as session:
            unfinished = queries.list_unfinished_requests(session=session, decided_before=cutoff)
        decisions = []
        for request in unfinished:
            actor = request.decided_by or "promobot"
            try:
                versions = {
                    v.version: v for v in self._ctx.registry.list_versions(request.model_name)
                }
            except ModelNotFoundError:
                decisions.append(self._finish_stale(request, actor, "the model no longer exists"))
                continue
            except (RegistryUnavailableError, RegistryRefusedError) as exc:
                log.warning("reconcile postponed request=%s: %s", request.id, exc.detail)
                continue
            current = versions.get(request.version)
            try:
                if current is not None and current.stage == request.to_stage:
                    archived = [
                        n
                        for n in request.archive_version_list
                        if n in versions and versions[n].stage == Stage.ARCHIVED
                    ]
                    decisions.append(self._finish_applied(request, actor, archived, "reconciled"))
                else:
                    decisions.append(self._finish_failed(request, actor, RESTART_DETAIL))
            except RequestClosedError:
                continue  # settled meanwhile by the process that was applying it
        return decisions

    def _load(self, request_id: int) -> PromotionRequest:
        with self._ctx.unit_of_work() as session:
            request = queries.get_request(session=session, request_id=request_id)
        assert request is not None, f"request {request_id} vanished"
        return request

    def _finish_applied(
        self, request: PromotionRequest, actor: str, archived: list[int], comment: str = ""
    ) -> Decision:
        now = self._ctx.clock()
        assert request.id is not None
        with self._ctx.unit_of_work() as session:
            won = queries.claim_request(
                session=session,
                request_id=request.id,
                # A request marked failed by reconcile while its apply was still running
                # did reach the registry: the outcome that arrives last is the true one.
                from_statuses=[RequestStatus.APPROVED, RequestStatus.FAILED],
                to_status=RequestStatus.APPLIED,
                actor=None,
                now=now,
                release_slot=True,
            )
            if won:
                queries.add_event(
                    session=session,
                    event=request_event(request, EventKind.APPLIED, actor, now, comment),
                )
                for number in archived:
                    queries.add_event(
                        session=session, event=_archived_event(request, number, actor, now)
                    )
        if not won:
            raise RequestClosedError(self._load(request.id))
        tags = decision_tags(
            requested_by=request.requested_by, approved_by=actor, request_id=request.id, when=now
        )
        write_tags(self._ctx.registry, request.model_name, request.version, tags)
        log.info("request %s applied by=%s archived=%s", request.id, actor, archived)
        return finished(
            self._ctx, Decision(Outcome.APPLIED, self._load(request.id), actor, tuple(archived))
        )

    def _finish_failed(self, request: PromotionRequest, actor: str, detail: str) -> Decision:
        return self._finish(request, actor, RequestStatus.FAILED, EventKind.FAILED, detail, False)

    def _finish_stale(self, request: PromotionRequest, actor: str, detail: str) -> Decision:
        return self._finish(request, actor, RequestStatus.STALE, EventKind.STALE, detail, True)

    def _finish(
        self,
        request: PromotionRequest,
        actor: str,
        status: RequestStatus,
        kind: EventKind,
        detail: str,
        release: bool,
    ) -> Decision:
        now = self._ctx.clock()
        assert request.id is not None
        with self._ctx.unit_of_work() as session:
            won = queries.claim_request(
                session=session,
                request_id=request.id,
                from_statuses=[RequestStatus.APPROVED],
                to_status=status,
                actor=None,
                now=now,
                release_slot=release,
                comment=detail,
            )
            if won:
                queries.add_event(
                    session=session, event=request_event(request, kind, actor, now, detail)
                )
        if not won:
            raise RequestClosedError(self._load(request.id))
        log.warning("request %s %s: %s", request.id, status, detail)
        decision = Decision(Outcome(status.value), self._load(request.id), actor, detail=detail)
        return decision if status == RequestStatus.FAILED else finished(self._ctx, decision)


def finished(context: DomainContext, decision: Decision) -> Decision:
    """Tell the observer; only the caller that won the final status change gets here."""
    request = decision.request
    context.observer.request_finished(
        state=decision.outcome.value,
        created_at=request.created_at,
        decided_at=request.decided_at or context.clock(),
    )
    return decision


def request_event(
    request: PromotionRequest, kind: EventKind, actor: str, at: datetime, comment: str = ""
) -> DecisionEvent:
    """An audit record about `request`."""
    return DecisionEvent(
        at=at,
        event=kind,
        actor=actor,
        model_name=request.model_name,
        version=request.version,
        from_stage=request.from_stage,
        to_stage=request.to_stage,
        request_id=request.id,
        comment=comment,
    )


def _archived_event(
    request: PromotionRequest, number: int, actor: str, at: datetime
) -> DecisionEvent:
    return DecisionEvent(
        at=at,
        event=EventKind.APPLIED,
        actor=actor,
        model_name=request.model_name,
        version=number,
        from_stage=Stage.PRODUCTION,
        to_stage=Stage.ARCHIVED,
        request_id=request.id,
        comment=f"archived: replaced by version {request.version}",
    )
