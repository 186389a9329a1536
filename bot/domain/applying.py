"""Applying approved requests to the registry, and settling outcomes that are not known.

Order of work for one approval: the claim (pending -> approved) and its event are committed
first; then the registry is re-read and changed; then the outcome is committed. While the
change runs, the applying process bumps the request's heartbeat (`Heartbeat`), so another
replica settles it only after seeing no heartbeat for a whole lease.

An outcome is never guessed. When MLflow's answer to a change is lost (a timeout, a dropped
connection), the registry is read back: applied if MLflow has the change, failed if it does
not. If even that read fails, the request is failed with a detail that says so, and the
sweep, a retry, a cancel or an expiry reads MLflow again before acting on it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.domain.heartbeat import Heartbeat
from bot.domain.moves import displaced_event, record_alias_holders
from bot.domain.recording import finished, record_transition, request_event
from bot.domain.results import Decision, Outcome
from bot.domain.rules import DomainContext
from bot.domain.tags import decision_tags, write_tags
from bot.domain.views import RequestView
from bot.errors import (
    ModelNotFoundError,
    PromobotError,
    RegistryRefusedError,
    RegistryUnavailableError,
    RequestClosedError,
    VersionNotFoundError,
)
from bot.registry.entities import ModelVersion
from storage import queries
from storage.models import EventKind, RequestStatus

log = logging.getLogger(__name__)

RESTART_DETAIL = (
    "promobot stopped before the registry change was applied; nothing changed in MLflow. "
    "Use Retry to apply it now"
)
UNKNOWN_DETAIL = (
    "MLflow did not answer ({detail}), and promobot could not read back whether the change "
    "landed. promobot reads MLflow again before a retry, a cancel or an expiry acts on this "
    "request, and every minute until it knows"
)


class Applier:
    """Re-check, apply, and record the outcome of approved requests."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context
        self.heartbeat = Heartbeat(context)

    def apply(self, request_id: int, actor: str) -> Decision:
        """Re-check the registry, then apply the approved request and record the outcome."""
        request = self._load(request_id)
        with self.heartbeat.running(request_id):
            return self._apply(request, actor)

    def _apply(self, request: RequestView, actor: str) -> Decision:
        registry = self._ctx.registry
        targets = registry.targets
        target = targets.from_label(request.to_target)
        try:
            versions = registry.list_versions(request.model_name)
        except ModelNotFoundError:
            return self.finish_stale(request, actor, "the model no longer exists")
        except (RegistryUnavailableError, RegistryRefusedError) as exc:
            return self.finish_failed(request, actor, f"{exc.detail}; nothing was changed")
        candidate = next((v for v in versions if v.version == request.version), None)
        if candidate is None:
            return self.finish_stale(request, actor, f"version {request.version} no longer exists")
        if targets.holds(candidate, target):
            return self.finish_applied(request, actor, (), candidate, "already there")
        if targets.mode == "stages" and targets.position(candidate) != request.from_target:
            return self.finish_stale(
                request,
                actor,
                f"version {request.version} moved from {request.from_target} to "
                f"{targets.position(candidate)} since the request was made",
            )
        displaced = targets.displaced_by(versions, candidate.version, target)
        if displaced != request.displaced:
            return self.finish_stale(request, actor, _displacement_changed(request, displaced))
        try:
            registry.move(candidate, target, displace=displaced)
        except VersionNotFoundError:
            return self.finish_stale(request, actor, f"version {request.version} no longer exists")
        except ModelNotFoundError:
            return self.finish_stale(request, actor, "the model no longer exists")
        except RegistryRefusedError as exc:
            return self.finish_failed(request, actor, f"{exc.detail}; nothing was changed")
        except RegistryUnavailableError as exc:
            return self._settle_lost_answer(request, actor, exc.detail)
        return self.finish_applied(request, actor, displaced, candidate)

    def _settle_lost_answer(self, request: RequestView, actor: str, detail: str) -> Decision:
        """MLflow may or may not have made the change: read it back and record the truth."""
        found = self.registry_state(request)
        if found is None:
            return self.finish_failed(request, actor, UNKNOWN_DETAIL.format(detail=detail))
        landed, candidate = found
        if landed:
            return self.finish_applied(
                request, actor, request.displaced, candidate, f"MLflow's answer was lost ({detail})"
            )
        return self.finish_failed(
            request, actor, f"MLflow did not confirm the change ({detail}); it is not there"
        )

    def registry_state(self, request: RequestView) -> tuple[bool, ModelVersion | None] | None:
        """Whether MLflow has the request's change now, with the candidate as read; None if
        MLflow cannot be read."""
        registry = self._ctx.registry
        try:
            versions = registry.list_versions(request.model_name)
        except ModelNotFoundError:
            return False, None
        except PromobotError as exc:
            log.warning("registry read-back failed request=%s: %s", request.id, exc.message)
            return None
        candidate = next((v for v in versions if v.version == request.version), None)
        target = registry.targets.from_label(request.to_target)
        landed = candidate is not None and registry.targets.holds(candidate, target)
        return landed, candidate

    def _load(self, request_id: int) -> RequestView:
        with self._ctx.unit_of_work() as session:
            request = queries.get_request(session=session, request_id=request_id)
        assert request is not None, f"request {request_id} vanished"
        return RequestView.of(request)

    def finish_applied(
        self,
        request: RequestView,
        actor: str,
        displaced: Sequence[int],
        candidate: ModelVersion | None,
        comment: str = "",
        from_statuses: Sequence[RequestStatus] = (RequestStatus.APPROVED, RequestStatus.FAILED),
    ) -> Decision:
        """Record the request as applied, with the versions it displaced; write the tags.

        A request failed by an earlier read-back may still turn out applied: MLflow's state
        that arrives last is the true one.
        """
        now = self._ctx.clock()
        targets = self._ctx.registry.targets
        target = targets.from_label(request.to_target)
        won = record_transition(
            self._ctx,
            request.id,
            from_statuses=from_statuses,
            to_status=RequestStatus.APPLIED,
            events=[
                request_event(request, EventKind.APPLIED, actor, now, comment),
                *(
                    displaced_event(
                        targets=targets,
                        model=request.model_name,
                        number=number,
                        target=target,
                        by=request.version,
                        actor=actor,
                        at=now,
                        request_id=request.id,
                    )
                    for number in displaced
                ),
            ],
            now=now,
            release_slot=True,
        )
        if not won:
            raise RequestClosedError(self._load(request.id))
        if candidate is not None:
            record_alias_holders(self._ctx, candidate, target, now)
        tags = decision_tags(
            requested_by=request.requested_by,
            approved_by=",".join(request.approved_by) or actor,
            request_id=request.id,
            when=now,
            reason=request.reason,
        )
        write_tags(self._ctx.registry, request.model_name, request.version, tags)
        log.info("request %s applied by=%s displaced=%s", request.id, actor, list(displaced))
        decision = Decision(Outcome.APPLIED, self._load(request.id), actor, tuple(displaced))
        return finished(self._ctx, decision)

    def finish_failed(self, request: RequestView, actor: str, detail: str) -> Decision:
        """Failed: retryable, and it expires a request TTL from now unless someone acts."""
        expires_at = self._ctx.clock() + self._ctx.rules.request_ttl
        return self._finish(
            request, actor, RequestStatus.FAILED, EventKind.FAILED, detail, expires_at
        )

    def finish_stale(self, request: RequestView, actor: str, detail: str) -> Decision:
        return self._finish(request, actor, RequestStatus.STALE, EventKind.STALE, detail, None)

    def _finish(
        self,
        request: RequestView,
        actor: str,
        status: RequestStatus,
        kind: EventKind,
        detail: str,
        expires_at: datetime | None,
    ) -> Decision:
        now = self._ctx.clock()
        won = record_transition(
            self._ctx,
            request.id,
            from_statuses=[RequestStatus.APPROVED],
            to_status=status,
            events=[request_event(request, kind, actor, now, detail)],
            now=now,
            release_slot=status != RequestStatus.FAILED,
            comment=detail,
            expires_at=expires_at,
        )
        if not won:
            raise RequestClosedError(self._load(request.id))
        log.warning("request %s %s: %s", request.id, status, detail)
        decision = Decision(Outcome(status.value), self._load(request.id), actor, detail=detail)
        return decision if status == RequestStatus.FAILED else finished(self._ctx, decision)


def _displacement_changed(request: RequestView, now: Sequence[int]) -> str:
    said = ", ".join(f"v{v}" for v in request.displaced) or "no version"
    found = ", ".join(f"v{v}" for v in now) or "no version"
    return (
        f"{request.to_target} changed since the card was posted: the card said approving would "
        f"replace {said}, but {request.to_target} now holds {found}. Nothing was applied, so "
        "nothing the card did not name was touched; file a new request"
    )
