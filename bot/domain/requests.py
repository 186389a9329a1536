"""Filing changes: direct moves apply at once; a move to or off a protected target is a request."""

from __future__ import annotations

from bot.domain.cards import card_details
from bot.domain.moves import displaced_event, record_alias_holders
from bot.domain.results import MoveApplied, RequestFiled
from bot.domain.rules import DomainContext
from bot.domain.tags import decision_tags, write_tags
from bot.domain.views import RequestView
from bot.errors import RuleViolation, UsageError
from bot.registry.protocol import ModelVersion
from bot.registry.targets import Target, holders
from storage import queries
from storage.errors import AlreadyRecordedError
from storage.models import DecisionEvent, EventKind, PromotionRequest, RequestKind

#: Longer reasons are refused: a reason is a sentence, and it goes into a tag and a card.
MAX_REASON_CHARS = 500


class RequestService:
    """Moves, archives and rollbacks as a team member asks for them."""

    def __init__(self, context: DomainContext) -> None:
        self._ctx = context

    def move(
        self, *, model: str, version: int, target: Target | str, actor: str, reason: str = ""
    ) -> MoveApplied | RequestFiled:
        """Move a version to `target`: at once, or as a request when a protected target is
        involved (`target` may be text as typed: `production`, `Staging`, `@champion`).

        `reason` is why; a move to production must give one."""
        targets = self._ctx.registry.targets
        if isinstance(target, str):
            target = targets.parse(target)
        reason = self._checked_reason(reason, target)
        current = self._ctx.registry.get_version(model, version)
        if targets.holds(current, target):
            raise RuleViolation(f"Version {version} of '{model}' is already {target.within}.")
        if targets.is_protected(target):
            if (
                target == targets.production
                and self._ctx.rules.require_staging
                and not targets.holds(current, targets.staging)
            ):
                raise RuleViolation(
                    f"Version {version} of '{model}' {_where(targets.position(current))}, "
                    f"not {targets.staging}. "
                    f"Move it to {targets.staging} and test it there before asking for "
                    f"{targets.production}."
                )
            return self._file(current, RequestKind.PROMOTE, target, actor, reason=reason)
        if targets.takes_away_protected(current, target):
            return self._file(current, RequestKind.DEMOTE, target, actor, reason=reason)
        return self._apply_directly(current, target, actor, reason)

    def archive(
        self, *, model: str, version: int, actor: str, reason: str = ""
    ) -> MoveApplied | RequestFiled:
        """Archive a version; archiving the production version takes production down, so asks."""
        archive = self._ctx.registry.targets.archive
        return self.move(model=model, version=version, target=archive, actor=actor, reason=reason)

    def rollback(
        self, *, model: str, version: int | None, actor: str, reason: str = ""
    ) -> RequestFiled:
        """Ask to bring back the previous production version (or `version`), saying why."""
        targets = self._ctx.registry.targets
        production = targets.production
        reason = self._checked_reason(reason, production)
        versions = self._ctx.registry.list_versions(model)
        current = set(holders(targets, versions, production))
        if not current:
            raise RuleViolation(
                f"'{model}' has no version {production.within}, so there is nothing to roll back. "
                "Promote a version instead."
            )
        if version is None:
            version = self._previous_production(model, current, versions)
        if version in current:
            raise RuleViolation(f"Version {version} of '{model}' is already {production.within}.")
        candidate = self._ctx.registry.get_version(model, version)
        return self._file(
            candidate, RequestKind.ROLLBACK, production, actor, versions, reason=reason
        )

    def _checked_reason(self, reason: str, target: Target) -> str:
        """The reason, tidied; one too long is refused before any read.

        A reason stays optional here, so `/promote churn 3 production` and the command line
        work as they always have; the request form asks for one for production
        (docs/decisions/016), and a card without one says so.
        """
        reason = " ".join(reason.split())
        if len(reason) > MAX_REASON_CHARS:
            raise UsageError(
                f"The reason is {len(reason)} characters long; keep it under "
                f"{MAX_REASON_CHARS + 1}."
            )
        return reason

    def _previous_production(
        self, model: str, current: set[int], versions: list[ModelVersion]
    ) -> int:
        existing = {v.version for v in versions}
        production = self._ctx.registry.targets.production
        with self._ctx.unit_of_work() as session:
            history = queries.production_history(
                session=session, model_name=model, production=production.label
            )
        for candidate in history:
            if candidate not in current and candidate in existing:
                return candidate
        raise RuleViolation(
            f"promobot has no record of an earlier {production} version of '{model}'. "
            "Name the version to roll back to, for example: rollback "
            f"{model} {max(existing - current, default=1)}."
        )

    def _file(
        self,
        version: ModelVersion,
        kind: RequestKind,
        target: Target,
        actor: str,
        versions: list[ModelVersion] | None = None,
        *,
        reason: str = "",
    ) -> RequestFiled:
        targets = self._ctx.registry.targets
        if versions is None:
            versions = self._ctx.registry.list_versions(version.model)
        displaced = targets.displaced_by(versions, version.version, target)
        now = self._ctx.clock()
        request = PromotionRequest(
            kind=kind,
            model_name=version.model,
            version=version.version,
            from_target=targets.position(version),
            to_target=target.label,
            displaced_versions=",".join(str(v) for v in displaced),
            requested_by=actor,
            created_at=now,
            expires_at=now + self._ctx.rules.request_ttl,
            reason=reason,
            required_approvals=self._ctx.rules.required_approvals,
        )
        try:
            with self._ctx.unit_of_work() as session:
                queries.add_request(session=session, request=request)
                queries.add_event(session=session, event=_event_for(request))
        except AlreadyRecordedError:
            raise self._one_at_a_time(version.model) from None
        return RequestFiled(card_details(self._ctx, RequestView.of(request), versions))

    def _one_at_a_time(self, model: str) -> RuleViolation:
        with self._ctx.unit_of_work() as session:
            open_request = queries.get_open_request(session=session, model_name=model)
        if open_request is None:  # it closed between our insert and this read
            return RuleViolation(f"Another request for '{model}' was just filed; try again.")
        return RuleViolation(
            f"'{model}' already has an open request: #{open_request.id} "
            f"(version {open_request.version} to {open_request.to_target}, "
            f"{open_request.status}, requested by {open_request.requested_by}). "
            f"A model has one open request at a time: decide or cancel #{open_request.id} first."
        )

    def _apply_directly(
        self, read: ModelVersion, target: Target, actor: str, reason: str = ""
    ) -> MoveApplied | RequestFiled:
        """Apply a move that touches no protected target, re-reading the registry just before.

        An approval may have put the version on a protected target since it was first read;
        then this becomes a request, never a direct move.
        """
        registry = self._ctx.registry
        targets = registry.targets
        versions = registry.list_versions(read.model)
        current = next((v for v in versions if v.version == read.version), None)
        if current is None:
            current = registry.get_version(read.model, read.version)  # raises: it is gone
        if targets.takes_away_protected(current, target):
            return self._file(current, RequestKind.DEMOTE, target, actor, versions, reason=reason)
        if targets.holds(current, target):
            raise RuleViolation(
                f"Version {current.version} of '{current.model}' is already {target.within}."
            )
        displaced = targets.displaced_by(versions, current.version, target)
        registry.move(current, target, displace=displaced)
        now = self._ctx.clock()
        from_target = targets.position(current)
        with self._ctx.unit_of_work() as session:
            queries.add_event(
                session=session,
                event=DecisionEvent(
                    at=now,
                    event=EventKind.APPLIED,
                    actor=actor,
                    model_name=current.model,
                    version=current.version,
                    from_target=from_target,
                    to_target=target.label,
                    comment=f"direct move: {reason}" if reason else "direct move",
                ),
            )
            for number in displaced:
                queries.add_event(
                    session=session,
                    event=displaced_event(
                        targets=targets,
                        model=current.model,
                        number=number,
                        target=target,
                        by=current.version,
                        actor=actor,
                        at=now,
                        request_id=None,
                    ),
                )
        record_alias_holders(self._ctx, current, target, now)
        write_tags(
            registry,
            current.model,
            current.version,
            decision_tags(requested_by=actor, when=now, reason=reason),
        )
        return MoveApplied(
            current.model, current.version, from_target, target.label, actor, displaced
        )


def _where(position: str) -> str:
    """`is in Staging` for a stage; `holds @a @b`, `holds no alias` or `is archived` in alias
    mode (`is no alias` is not English)."""
    if position.startswith("@"):
        return f"holds {position}"
    if not position:
        return "holds no alias"
    return "is archived" if position == "archived" else f"is in {position}"


def _event_for(request: PromotionRequest) -> DecisionEvent:
    return DecisionEvent(
        at=request.created_at,
        event=EventKind.REQUESTED,
        actor=request.requested_by,
        model_name=request.model_name,
        version=request.version,
        from_target=request.from_target,
        to_target=request.to_target,
        request_id=request.id,
        comment=f"{request.kind}: {request.reason}" if request.reason else request.kind,
    )
