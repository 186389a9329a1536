"""The watch: one bulk registry scan that finds what webhooks missed. Slack-free.

MLflow delivers webhooks fire-and-forget and sends none for stage moves, so every
PROMOBOT_WATCH_INTERVAL the watch reads every model and version in a few paginated calls and
announces, through the same unique keys as the webhooks, new versions not yet announced and
production changes made outside promobot. Its first run takes the registry as it finds it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.announcements import Announcement
from bot.domain.outside_changes import format_holders, parse_holders
from bot.domain.registry_events import MOVE_SLACK, RegistryEvents, version_key
from bot.errors import PromobotError
from bot.registry.entities import ModelVersion, RegisteredModel
from bot.registry.targets import holders
from storage import event_queries

log = logging.getLogger(__name__)

#: Versions created longer ago than this are never announced late (promobot was down longer).
VERSION_WINDOW = timedelta(days=7)
#: Delivery ids older than this are forgotten: their timestamp is refused anyway (5 minutes).
DELIVERY_MEMORY = timedelta(days=1)


@dataclass(frozen=True)
class WatchRun:
    """What one run found; `baseline` when it was the first and only took the registry in."""

    announcements: tuple[Announcement, ...] = ()
    baseline: bool = False


class RegistryWatch:
    def __init__(self, events: RegistryEvents) -> None:
        self._events = events
        self._ctx = events.context

    def run(self) -> WatchRun:
        """Scan the registry once; claim and return what is to be announced."""
        registry = self._ctx.registry
        production = registry.targets.production
        models, versions = registry.all_models_and_versions()
        now = self._ctx.clock()
        by_model: dict[str, list[ModelVersion]] = defaultdict(list)
        for version in versions:
            by_model[version.model].append(version)
        current = {m.name: self._production(m, by_model[m.name]) for m in models}
        with self._ctx.unit_of_work() as session:
            since = event_queries.watch_since(session=session)
            event_queries.forget_deliveries(session=session, before=now - DELIVERY_MEMORY)
        if since is None:
            with self._ctx.unit_of_work() as session:
                rows = [(m, production.label, format_holders(h)) for m, h in current.items()]
                event_queries.baseline_holders(session=session, holders=rows, seen_at=now)
                event_queries.start_watch(session=session, since=now)
            return WatchRun(baseline=True)
        found: list[Announcement] = list(
            self._new_versions(by_model, current, max(since, now - VERSION_WINDOW))
        )
        found += self._outside_changes(current, production.label, since)
        return WatchRun(tuple(found))

    def _production(self, model: RegisteredModel, versions: list[ModelVersion]) -> tuple[int, ...]:
        targets = self._ctx.registry.targets
        if targets.mode == "aliases":
            held = model.aliases.get(targets.production.name)
            return () if held is None else (held,)
        return tuple(sorted(holders(targets, versions, targets.production)))

    def _new_versions(
        self,
        by_model: dict[str, list[ModelVersion]],
        production: dict[str, tuple[int, ...]],
        after: datetime,
    ) -> list[Announcement]:
        fresh = {
            version_key(v): v
            for listed in by_model.values()
            for v in listed
            if v.created_at > after
        }
        if not fresh:
            return []
        with self._ctx.unit_of_work() as session:
            done = event_queries.announced_keys(session=session, keys=fresh)
        todo = [v for key, v in fresh.items() if key not in done]
        if not todo:
            return []
        numbers = {m: {v.version: v for v in listed} for m, listed in by_model.items()}
        runs = [v.run_id for v in todo]
        runs += [numbers[v.model][n].run_id for v in todo for n in production.get(v.model, ())]
        try:
            metrics = self._ctx.registry.run_metrics([r for r in runs if r])
        except PromobotError:
            metrics = {}
        notices: list[Announcement] = []
        for version in sorted(todo, key=lambda v: (v.created_at, v.model, v.version)):
            notice = self._events.claim_version(
                version,
                by_model[version.model],
                production.get(version.model, ()),
                source="watch",
                metrics=metrics,
            )
            if notice is not None:
                notices.append(notice)
        return notices

    def _outside_changes(
        self, current: dict[str, tuple[int, ...]], target: str, since: datetime
    ) -> list[Announcement]:
        """Production changes since the last run; a model new since then is explained by
        any promobot move since the watch began."""
        with self._ctx.unit_of_work() as session:
            rows = {
                r.model_name: r
                for r in event_queries.list_watched_holders(session=session, target=target)
            }
        changed = {
            model: held
            for model, held in current.items()
            if model not in rows or parse_holders(rows[model].holders) != held
        }
        if not changed:
            return []
        unexplained = [
            model
            for model, held in changed.items()
            if not self._events.explained(
                model,
                target,
                parse_holders(rows[model].holders) if model in rows else (),
                held,
                (rows[model].seen_at if model in rows else since) - MOVE_SLACK,
            )
        ]
        if unexplained:
            self._events.settle()  # once per run: let in-flight promobot moves log themselves
        alerts: list[Announcement] = []
        for model, held in sorted(changed.items()):
            alert = self._events.holder_changed(
                model, target, held, "watch", wait=False, unseen_since=since
            )
            if alert is not None:
                alerts.append(alert)
        return alerts
