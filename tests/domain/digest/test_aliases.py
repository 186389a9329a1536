"""Alias-mode digests assembled from plain inputs: holders, since when, and outside moves.

`assemble_digest` is pure, so these tests build its inputs by hand: the registry's models and
versions, promobot's alias records and logged moves, and the alias watch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from bot.domain.digest.aliases import AliasChange, AliasKnowledge, RecordedAlias
from bot.domain.digest.model import Digest, DigestInputs, Seen, assemble_digest
from bot.domain.views import RequestView
from bot.registry.entities import ModelVersion, RegisteredModel
from bot.registry.targets import ARCHIVED_TAG, AliasTargets
from bot.stages import Stage
from storage.models import DecisionEvent, EventKind, PromotionRequest

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
AS_OF = T0 + timedelta(days=2)
SINCE = AS_OF - timedelta(days=1)
ANN, BOB = "U0ANN", "U0BOB"


def _model(name: str, aliases: Mapping[str, int], versions: int = 6) -> list[object]:
    """The registered model, then its versions (each holding its aliases), as MLflow lists them."""
    held: dict[int, list[str]] = {}
    for alias, number in aliases.items():
        held.setdefault(number, []).append(alias)
    return [
        RegisteredModel(name, T0, aliases=dict(aliases)),
        *(
            ModelVersion(name, n, Stage.NONE, T0, T0, aliases=tuple(held.get(n, ())))
            for n in range(1, versions + 1)
        ),
    ]


def _moved(at: datetime, model: str, version: int, to: str, **fields: object) -> DecisionEvent:
    values: dict[str, object] = {
        "id": int(at.timestamp()) % 100_000,
        "at": at,
        "event": EventKind.APPLIED,
        "actor": BOB,
        "model_name": model,
        "version": version,
        "from_target": "@challenger",
        "to_target": to,
    }
    values.update(fields)
    return DecisionEvent(**values)  # type: ignore[arg-type]


def _recorded(model: str, alias: str, version: int, at: datetime, by: bool) -> RecordedAlias:
    return RecordedAlias(model, alias, version, at, by)


def _digest(
    registry: Sequence[object],
    *,
    records: Sequence[RecordedAlias] = (),
    moves: Sequence[DecisionEvent] = (),
    latest: Sequence[DecisionEvent] = (),
    noticed: Sequence[AliasChange] = (),
    watched_since: datetime | None = T0,
    requests: Mapping[int, RequestView] | None = None,
) -> Digest:
    inputs = DigestInputs(
        models=[m for m in registry if isinstance(m, RegisteredModel)],
        versions=[v for v in registry if isinstance(v, ModelVersion)],
        latest_moves=latest,
        recent_moves=(),
        open_requests=(),
        expired=(),
        requests=requests or {},
        targets=AliasTargets(),
        aliases=AliasKnowledge(records, noticed, watched_since, moves),
    )
    return assemble_digest(inputs, as_of=AS_OF, since=SINCE, first=False)


def _request(request_id: int) -> RequestView:
    return RequestView.of(
        PromotionRequest(
            id=request_id,
            kind="promote",
            model_name="churn",
            version=5,
            from_target="@challenger",
            to_target="@champion",
            requested_by=ANN,
            created_at=T0,
            expires_at=T0 + timedelta(days=1),
            status="applied",
        )
    )


def test_production_alias_set_by_promobot_shows_since_when_and_who() -> None:
    digest = _digest(
        _model("churn", {"champion": 5, "challenger": 6, "shadow": 3, "canary": 2}),
        records=[_recorded("churn", "champion", 5, T0, by=True)],
        moves=[_moved(T0, "churn", 5, "@champion", request_id=7)],
        requests={7: _request(7)},
    )
    (churn,) = digest.models
    (production,) = churn.production
    assert (production.version, production.since, production.by_promobot) == (5, T0, True)
    assert (production.requested_by, production.approved_by, production.request_id) == (
        ANN,
        BOB,
        7,
    )
    assert churn.staging == (6,)
    assert churn.other_aliases == (("canary", 2), ("shadow", 3))
    assert (digest.production_label, digest.staging_label) == ("@champion", "@challenger")
    assert digest.summary.with_production == 1


def test_alias_moved_outside_promobot_is_a_change_with_the_previous_holder() -> None:
    digest = _digest(
        _model("churn", {"champion": 5}),
        records=[_recorded("churn", "champion", 4, T0, by=True)],
        moves=[_moved(T0, "churn", 4, "@champion")],
    )
    assert digest.alias_changes == (AliasChange(AS_OF, "churn", "champion", 5, 4),)
    assert digest.summary.changes == 1 and digest.models[0].changes == 1
    (production,) = digest.models[0].production
    assert (production.version, production.by_promobot) == (5, False)
    assert (production.seen, production.since) == (Seen.FIRST_SEEN, AS_OF)
    assert digest.seen_aliases is not None
    (update,) = digest.seen_aliases.updates
    assert (update.version, update.replaces, update.by_promobot) == (5, 4, False)
    assert update.change == digest.alias_changes[0]


def test_holder_a_digest_recorded_is_shown_since_it_was_recorded_and_not_flagged_again() -> None:
    recorded_at = T0 + timedelta(hours=5)
    digest = _digest(
        _model("churn", {"champion": 5}),
        records=[_recorded("churn", "champion", 5, recorded_at, by=False)],
        moves=[_moved(T0, "churn", 4, "@champion")],  # promobot's older move
    )
    assert digest.alias_changes == ()
    (production,) = digest.models[0].production
    assert (production.version, production.by_promobot) == (5, False)
    assert (production.seen, production.since) == (Seen.RECORDED, recorded_at)
    assert digest.seen_aliases is not None and digest.seen_aliases.updates == ()


def test_first_look_at_the_aliases_flags_nothing_and_records_everything() -> None:
    digest = _digest(
        [*_model("churn", {"champion": 2, "challenger": 3}), *_model("fraud", {"shadow": 1})],
        watched_since=None,
    )
    assert digest.alias_changes == () and digest.summary.changes == 0
    churn = next(m for m in digest.models if m.name == "churn")
    assert [(p.version, p.seen, p.since) for p in churn.production] == [(2, Seen.FIRST_SEEN, AS_OF)]
    assert digest.seen_aliases is not None
    assert sorted(
        (u.model, u.alias, u.version, u.replaces, u.change) for u in digest.seen_aliases.updates
    ) == [
        ("churn", "challenger", 3, None, None),
        ("churn", "champion", 2, None, None),
        ("fraud", "shadow", 1, None, None),
    ]


def test_once_every_alias_is_recorded_a_new_alias_was_set_outside_promobot() -> None:
    digest = _digest(_model("fraud", {"canary": 2}), watched_since=T0)
    assert digest.alias_changes == (AliasChange(AS_OF, "fraud", "canary", 2, None),)


def test_alias_removed_outside_promobot_is_flagged_but_promobots_archive_is_not() -> None:
    archived = _moved(T0 + timedelta(hours=1), "churn", 3, "archived", from_target="@shadow @beta")
    digest = _digest(
        _model("churn", {"champion": 5}),
        records=[
            _recorded("churn", "champion", 5, T0, by=False),
            _recorded("churn", "canary", 2, T0, by=False),
            _recorded("churn", "shadow", 3, T0, by=True),  # archive recorded late: not yet
        ],
        latest=[archived],
    )
    assert digest.alias_changes == (AliasChange(AS_OF, "churn", "canary", None, 2),)
    assert digest.seen_aliases is not None
    assert sorted((u.alias, u.version, u.replaces) for u in digest.seen_aliases.updates) == [
        ("canary", None, 2),
        ("shadow", None, 3),  # the record catches up with promobot's archive
    ]


def test_promobots_move_whose_record_was_lost_is_promobots_not_an_outside_change() -> None:
    digest = _digest(
        _model("churn", {"champion": 5}),
        records=[_recorded("churn", "champion", 4, T0, by=True)],
        moves=[_moved(T0 + timedelta(hours=1), "churn", 5, "@champion")],
    )
    assert digest.alias_changes == ()
    (production,) = digest.models[0].production
    assert production.by_promobot and production.since == T0 + timedelta(hours=1)
    assert digest.seen_aliases is not None
    (update,) = digest.seen_aliases.updates
    assert (update.version, update.replaces, update.by_promobot, update.change) == (
        5,
        4,
        True,
        None,
    )


def test_a_move_outside_promobot_after_promobots_own_is_flagged() -> None:
    """promobot moved @champion to v5 and recorded it; a script moved it back to v4."""
    digest = _digest(
        _model("churn", {"champion": 4}),
        records=[_recorded("churn", "champion", 5, T0, by=True)],
        moves=[_moved(T0, "churn", 5, "@champion")],
    )
    assert digest.alias_changes == (AliasChange(AS_OF, "churn", "champion", 4, 5),)


def test_changes_other_digests_noticed_are_listed_once_newest_first() -> None:
    earlier = AliasChange(T0 + timedelta(hours=2), "churn", "champion", 5, 4)
    older = AliasChange(T0 + timedelta(hours=1), "fraud", "canary", None, 1)
    digest = _digest(
        [*_model("churn", {"champion": 5}), *_model("fraud", {})],
        # this digest reads the record from before the other digest wrote it
        records=[_recorded("churn", "champion", 4, T0, by=False)],
        noticed=[older, earlier],
    )
    assert digest.alias_changes == (AliasChange(AS_OF, "churn", "champion", 5, 4), older)
    assert [(m.name, m.changes) for m in digest.models] == [("churn", 1), ("fraud", 1)]


def test_archived_versions_hold_no_alias_and_stages_mean_nothing_in_alias_mode() -> None:
    registry = _model("churn", {"champion": 5})
    registry[3] = ModelVersion(  # v3: archived by promobot; it was in Staging in stage days
        "churn", 3, Stage.STAGING, T0, T0, tags={ARCHIVED_TAG: "true"}
    )
    digest = _digest(registry, records=[_recorded("churn", "champion", 5, T0, by=False)])
    (churn,) = digest.models
    assert [p.version for p in churn.production] == [5]
    assert churn.staging == () and churn.other_aliases == ()


def test_a_deleted_models_records_are_dropped_without_a_change() -> None:
    digest = _digest(_model("churn", {}), records=[_recorded("gone", "champion", 1, T0, by=False)])
    assert digest.alias_changes == ()
    assert digest.seen_aliases is not None
    assert [(u.model, u.version, u.replaces) for u in digest.seen_aliases.updates] == [
        ("gone", None, 1)
    ]


def test_a_move_promobot_made_after_the_registry_was_read_is_not_flagged() -> None:
    """The log is read after the registry: it may already hold a move the scan missed."""
    just_after = AS_OF + timedelta(seconds=1)
    digest = _digest(
        _model("churn", {"champion": 4}),  # the scan, just before promobot's move
        records=[_recorded("churn", "champion", 5, just_after, by=True)],
        moves=[_moved(just_after, "churn", 5, "@champion")],
    )
    assert digest.alias_changes == ()
    assert digest.seen_aliases is not None and digest.seen_aliases.updates == ()
    (production,) = digest.models[0].production
    assert (production.version, production.by_promobot, production.since) == (5, True, just_after)
