"""What registry events mean to promobot, Slack-free: notices, alerts, and who posts them.

An event (a webhook delivery, or something the watch found) becomes an announcement only
after its unique key is recorded: `version:<model>:<n>` for a new version, `model:<name>`
for a new model, and `outside:<model>:<target>:<revision>` for a change made outside
promobot, whose revision is claimed with a compare-and-set on the holder promobot last saw.
So a webhook, the watch and any number of replicas post each announcement once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.announcements import (
    Metrics,
    ModelNotice,
    OutsideAlert,
    PriorMove,
    VersionNotice,
)
from bot.domain.cards import model_ui_url
from bot.domain.outside_changes import explained_by_promobot, format_holders, parse_holders
from bot.domain.requests import RequestService
from bot.domain.rules import DomainContext
from bot.errors import ModelNotFoundError, PromobotError
from bot.registry.entities import ModelVersion
from bot.registry.protocol import ModelRegistry
from bot.registry.targets import Target, TargetKind, holders
from storage import event_queries
from storage.event_models import AnnouncementKind, AnnouncementStatus, RegistryAnnouncement
from storage.event_queries import HolderChange

#: Moves promobot logged this long before it last looked still explain a change (clock skew,
#: and the moment between MLflow's change and promobot's record of it).
MOVE_SLACK = timedelta(minutes=2)
#: An alias promobot never looked at: moves logged this long before the event explain it.
UNSEEN_LOOKBACK = timedelta(minutes=10)
#: How long to let an in-flight promobot move log itself before calling a change outside.
SETTLE_SECONDS = 3.0


@dataclass
class RegistryEvents:
    """Turns registry events into announcements, each claimed once, and applies their buttons."""

    context: DomainContext
    requests: RequestService
    #: Called once before an alias change no logged move explains is alerted on.
    settle: Callable[[], None] = field(default=lambda: time.sleep(SETTLE_SECONDS))
    #: Reads a new version's run metrics while its versions are read.
    _alongside: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="events"),
        repr=False,
    )

    # --- webhook events -------------------------------------------------------------------

    def version_created(
        self, model: str, version: int, *, source: str, run_id: str | None = None
    ) -> VersionNotice | None:
        """The notice for a new version, unless it was announced or does not exist.

        `run_id`, when the event names it, has its metrics read while the versions are.
        """
        registry = self.context.registry
        early = self._alongside.submit(_metrics_or_none, registry, run_id) if run_id else None
        try:
            versions = registry.list_versions(model)
        except ModelNotFoundError:
            return None  # a test delivery, or the model is gone already
        candidate = next((v for v in versions if v.version == version), None)
        if candidate is None:
            return None
        production = holders(registry.targets, versions, registry.targets.production)
        known = (early.result() if early else None) or {}
        return self.claim_version(candidate, versions, production, source=source, known=known)

    def model_created(self, model: str, *, source: str) -> ModelNotice | None:
        try:
            found = self.context.registry.get_model(model)
        except ModelNotFoundError:
            return None
        claimed = self._claim(
            RegistryAnnouncement(
                key=f"model:{model}",
                kind=AnnouncementKind.MODEL,
                model_name=model,
                source=source,
                status=AnnouncementStatus.POSTING,
                created_at=self.context.clock(),
            )
        )
        if claimed is None:
            return None
        assert claimed.id is not None
        return ModelNotice(claimed.id, model, found.description)

    def alias_changed(self, model: str, alias: str, *, source: str) -> OutsideAlert | None:
        """An alert when an alias moved (or went) outside promobot; None for promobot's own.

        The holder is read from the registry, not taken from the event: deliveries can
        arrive out of order, and the registry says where the alias is now. In stage mode
        promobot manages no alias, so alias events mean nothing to it.
        """
        registry = self.context.registry
        if registry.targets.mode != "aliases":
            return None
        try:
            held = registry.get_model(model).aliases.get(alias)
        except ModelNotFoundError:
            return None
        target = Target(TargetKind.ALIAS, alias)
        return self.holder_changed(model, target.label, () if held is None else (held,), source)

    # --- shared with the watch ------------------------------------------------------------

    def claim_version(
        self,
        candidate: ModelVersion,
        versions: Sequence[ModelVersion],
        production: Sequence[int],
        *,
        source: str,
        metrics: Mapping[str, Metrics] | None = None,
        known: Mapping[str, Metrics] | None = None,
    ) -> VersionNotice | None:
        """Claim the notice of `candidate`; None when it was claimed before.

        `metrics`: every run's metrics, read by the caller; else the runs not `known` are read.
        """
        claimed = self._claim(
            RegistryAnnouncement(
                key=version_key(candidate),
                kind=AnnouncementKind.VERSION,
                model_name=candidate.model,
                version=candidate.version,
                source=source,
                status=AnnouncementStatus.POSTING,
                created_at=self.context.clock(),
            )
        )
        if claimed is None:
            return None
        assert claimed.id is not None
        registry = self.context.registry
        by_number = {v.version: v for v in versions}
        runs = [v.run_id for v in (candidate, *(by_number.get(n) for n in production)) if v]
        if metrics is None:
            read = dict(known or {})
            missing = [r for r in runs if r and r not in read]
            if missing:
                read.update(_metrics_or_none(registry, *missing) or {})
            metrics = read

        def of(v: ModelVersion | None) -> Metrics:
            return metrics.get(v.run_id or "", {}) if v is not None and metrics else {}

        return VersionNotice(
            announcement_id=claimed.id,
            model=candidate.model,
            version=candidate.version,
            run_id=candidate.run_id,
            description=candidate.description,
            metrics=of(candidate),
            production_label=registry.targets.production.label,
            production=tuple((n, of(by_number.get(n))) for n in production),
            next_step=registry.targets.staging.label,
            ui_url=model_ui_url(
                self.context.rules.mlflow_ui_url, candidate.model, candidate.version
            ),
        )

    def holder_changed(
        self,
        model: str,
        target: str,
        now: Sequence[int],
        source: str,
        *,
        wait: bool = True,
        unseen_since: datetime | None = None,
    ) -> OutsideAlert | None:
        """Record that `target` of `model` is held by `now`; alert if promobot did not do it.

        `wait`: settle once before calling a change outside (the watch settles once per run).
        `unseen_since`: for a target promobot never looked at, the moves logged since when
        explain it (default: the last UNSEEN_LOOKBACK).
        """
        uow = self.context.unit_of_work
        current = tuple(sorted(now))
        for attempt in range(2 if wait else 1):
            with uow() as session:
                row = event_queries.get_watched_holder(
                    session=session, model_name=model, target=target
                )
            before = parse_holders(row.holders) if row is not None else ()
            if row is not None and before == current:
                return None
            if row is not None:
                looked_at = row.seen_at
            else:
                looked_at = unseen_since or self.context.clock() - UNSEEN_LOOKBACK
            if self.explained(model, target, before, current, looked_at - MOVE_SLACK):
                outside = False
            elif wait and attempt == 0:
                self.settle()  # a promobot move may be between MLflow and its log: look again
                continue
            else:
                outside = True
            return self._record_change(
                HolderChange(model, target, format_holders(current), row.revision if row else 0),
                before,
                outside=outside,
                source=source,
            )
        return None

    def explained(
        self, model: str, target: str, before: Sequence[int], now: Sequence[int], since: datetime
    ) -> bool:
        """promobot's moves logged since `since` explain the change from `before` to `now`."""
        with self.context.unit_of_work() as session:
            moves = event_queries.applied_moves_since(
                session=session, model_name=model, since=since
            )
        return explained_by_promobot(moves, model=model, target=target, before=before, after=now)

    def _record_change(
        self, change: HolderChange, before: tuple[int, ...], *, outside: bool, source: str
    ) -> OutsideAlert | None:
        now = self.context.clock()
        with self.context.unit_of_work() as session:
            revision = event_queries.advance_holder(session=session, change=change, seen_at=now)
            if revision is None or not outside:
                return None
            after = parse_holders(change.holders)
            claimed = event_queries.claim_announcement(
                session=session,
                announcement=RegistryAnnouncement(
                    key=f"outside:{change.model_name}:{change.target}:{revision}",
                    kind=AnnouncementKind.OUTSIDE,
                    model_name=change.model_name,
                    version=after[0] if len(after) == 1 else None,
                    target=change.target,
                    previous_version=before[0] if len(before) == 1 else None,
                    source=source,
                    status=AnnouncementStatus.POSTING,
                    created_at=now,
                ),
            )
            if claimed is None:
                return None
            assert claimed.id is not None
            prior = None
            if len(before) == 1:
                found = event_queries.last_move_into(
                    session=session,
                    model_name=change.model_name,
                    target=change.target,
                    version=before[0],
                )
                if found is not None:
                    prior = PriorMove(found[0].at, found[0].actor, found[1])
        return OutsideAlert(claimed.id, change.model_name, change.target, after, before, prior)

    def _claim(self, announcement: RegistryAnnouncement) -> RegistryAnnouncement | None:
        with self.context.unit_of_work() as session:
            return event_queries.claim_announcement(session=session, announcement=announcement)

    # --- after posting, and the buttons ---------------------------------------------------

    def posted(self, announcement_id: int, *, channel_id: str, message_ts: str) -> None:
        with self.context.unit_of_work() as session:
            event_queries.finish_announcement(
                session=session,
                announcement_id=announcement_id,
                status=AnnouncementStatus.POSTED,
                channel_id=channel_id,
                message_ts=message_ts,
            )

    def not_posted(self, announcement_id: int) -> None:
        with self.context.unit_of_work() as session:
            event_queries.finish_announcement(
                session=session, announcement_id=announcement_id, status=AnnouncementStatus.FAILED
            )


def _metrics_or_none(registry: ModelRegistry, *run_ids: str | None) -> dict[str, Metrics] | None:
    """Run metrics, or None when MLflow could not give them: a notice still goes out."""
    try:
        return dict(registry.run_metrics([r for r in run_ids if r]))
    except PromobotError:
        return None


def version_key(version: ModelVersion) -> str:
    """`version:<model>:<n>:<created, ms>`: a model deleted and registered again under its
    old name has its versions announced again."""
    created = int(version.created_at.timestamp() * 1000)
    return f"version:{version.model}:{version.version}:{created}"
