"""Targets: where a version can be moved (a stage, or an alias), and the rules of each mode.

The domain never asks "is this version in Production?"; it asks its `TargetScheme`:
which target is production, which are protected, whether a version holds a target, and
which versions a move would displace. `StageTargets` answers with MLflow stages,
`AliasTargets` with aliases (MLflow 3, Unity Catalog). Both are pure: no MLflow calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from bot.errors import UnknownStageError, UsageError
from bot.registry.entities import ModelVersion
from bot.stages import Stage, parse_stage

#: The version tag that marks a version archived in alias mode (MLflow's advice: status in tags).
ARCHIVED_TAG = "promobot.archived"
#: How an alias-mode archive is written in the decision log and on cards.
ARCHIVED_LABEL = "archived"

RegistryMode = Literal["stages", "aliases"]


class TargetKind(StrEnum):
    STAGE = "stage"
    ALIAS = "alias"
    #: Alias mode's archive: the version gives up its aliases and is tagged archived.
    ARCHIVE = "archive"


@dataclass(frozen=True)
class Target:
    """Where a move puts a version: a stage (`Production`) or an alias (`@champion`)."""

    kind: TargetKind
    name: str

    @property
    def label(self) -> str:
        """How the target is written in the decision log and shown to people."""
        return f"@{self.name}" if self.kind == TargetKind.ALIAS else self.name

    def __str__(self) -> str:
        return self.label

    @property
    def within(self) -> str:
        """`in Production`, `on @champion` or `archived`: where a version at it is."""
        if self.kind == TargetKind.STAGE:
            return f"in {self.name}"
        return f"on {self.label}" if self.kind == TargetKind.ALIAS else ARCHIVED_LABEL


def stage_target(stage: Stage) -> Target:
    return Target(TargetKind.STAGE, stage.value)


class TargetScheme(Protocol):
    """The promotion vocabulary of one registry mode."""

    @property
    def mode(self) -> RegistryMode: ...

    @property
    def production(self) -> Target: ...

    @property
    def staging(self) -> Target: ...

    @property
    def archive(self) -> Target: ...

    def parse(self, text: str) -> Target:
        """The target a person typed (`production`, `Staging`, `@champion`, `archived`)."""
        ...

    def from_label(self, label: str) -> Target:
        """The target a stored label names (the inverse of `Target.label`)."""
        ...

    def is_protected(self, target: Target) -> bool:
        """Moves to this target need a second person's approval."""
        ...

    def holds(self, version: ModelVersion, target: Target) -> bool:
        """The version is at `target` now."""
        ...

    def position(self, version: ModelVersion) -> str:
        """Where the version is now, as written in the decision log (`Staging`, `@a @b`)."""
        ...

    def displaced_by(
        self, versions: Sequence[ModelVersion], candidate: int, target: Target
    ) -> tuple[int, ...]:
        """The versions that lose `target` when `candidate` moves there (ascending)."""
        ...

    def takes_away_protected(self, version: ModelVersion, target: Target) -> bool:
        """Moving `version` to `target` takes it off a protected target."""
        ...


def holders(scheme: TargetScheme, versions: Iterable[ModelVersion], target: Target) -> list[int]:
    """The versions at `target`, newest first."""
    return sorted((v.version for v in versions if scheme.holds(v, target)), reverse=True)


class StageTargets:
    """Stage mode: None, Staging, Production, Archived; Production is the one protected stage."""

    mode: RegistryMode = "stages"
    production = stage_target(Stage.PRODUCTION)
    staging = stage_target(Stage.STAGING)
    archive = stage_target(Stage.ARCHIVED)

    def parse(self, text: str) -> Target:
        if text.strip().startswith("@"):
            raise UsageError(
                f"'{text.strip()}' is an alias, but promobot manages stages here "
                "(PROMOBOT_REGISTRY_MODE=stages). Use one of: None, Staging, Production, "
                "Archived."
            )
        return stage_target(parse_stage(text))

    def from_label(self, label: str) -> Target:
        return stage_target(parse_stage(label))

    def is_protected(self, target: Target) -> bool:
        return target == self.production

    def holds(self, version: ModelVersion, target: Target) -> bool:
        return target.kind == TargetKind.STAGE and version.stage.value == target.name

    def position(self, version: ModelVersion) -> str:
        return version.stage.value

    def displaced_by(
        self, versions: Sequence[ModelVersion], candidate: int, target: Target
    ) -> tuple[int, ...]:
        if target != self.production:
            return ()  # MLflow archives existing versions only on a move into Production
        return tuple(
            sorted(v.version for v in versions if self.holds(v, target) and v.version != candidate)
        )

    def takes_away_protected(self, version: ModelVersion, target: Target) -> bool:
        return self.holds(version, self.production) and target != self.production


_ALIAS_NAME = re.compile(r"^[\w\-]{1,255}$")
_RESERVED_VERSION_ALIAS = re.compile(r"^[vV]\d+$")


def check_alias_name(name: str) -> str:
    """Return `name` if MLflow accepts it as an alias; otherwise raise UsageError saying why."""
    if not _ALIAS_NAME.fullmatch(name):
        raise UsageError(
            f"'{name}' is not a valid alias name: use letters, digits, '_' and '-' "
            "(at most 255 characters)."
        )
    if name.lower() == "latest":
        raise UsageError("'latest' is reserved by MLflow (it always means the newest version).")
    if _RESERVED_VERSION_ALIAS.fullmatch(name):
        raise UsageError(
            f"'{name}' is reserved by MLflow: 'v' followed by digits names a version number."
        )
    return name


class AliasTargets:
    """Alias mode: a version moves to an alias; `archived` removes its aliases and tags it."""

    mode: RegistryMode = "aliases"

    def __init__(
        self,
        *,
        production_alias: str = "champion",
        staging_alias: str = "challenger",
        protected_aliases: Iterable[str] = (),
    ) -> None:
        self.production = Target(TargetKind.ALIAS, check_alias_name(production_alias))
        self.staging = Target(TargetKind.ALIAS, check_alias_name(staging_alias))
        self.archive = Target(TargetKind.ARCHIVE, ARCHIVED_LABEL)
        # The production alias is always protected: a list that leaves it out adds to it.
        names = [production_alias, *(check_alias_name(a) for a in protected_aliases)]
        self.protected = frozenset(Target(TargetKind.ALIAS, a) for a in names)

    def parse(self, text: str) -> Target:
        word = text.strip()
        lowered = word.lower()
        if lowered == "production":
            return self.production
        if lowered == "staging":
            return self.staging
        if lowered in {"archived", "archive"}:
            return self.archive
        if word.startswith("@"):
            return self._alias(check_alias_name(word[1:]))
        if word in {self.production.name, self.staging.name}:
            return Target(TargetKind.ALIAS, word)
        raise UsageError(
            f"Unknown target '{word}'. promobot manages aliases here "
            f"(PROMOBOT_REGISTRY_MODE=aliases): use an alias like @{self.production.name}, "
            "or production, staging or archived."
        )

    def _alias(self, name: str) -> Target:
        """The alias `name`, unless it differs only in case from one promobot manages.

        SQLite keeps `Champion` and `champion` apart, but MySQL's default collation and Unity
        Catalog do not: there, an unprotected `@Champion` would move `@champion` unapproved.
        """
        managed = sorted({self.production, self.staging, *self.protected}, key=str)
        if any(name == known.name for known in managed):
            return Target(TargetKind.ALIAS, name)
        for known in managed:
            if name.casefold() == known.name.casefold():
                raise UsageError(
                    f"'@{name}' differs from '{known}' only in case. Some MLflow backends treat "
                    f"them as one alias and others as two, so promobot refuses it: use {known}."
                )
        return Target(TargetKind.ALIAS, name)

    def from_label(self, label: str) -> Target:
        if label == ARCHIVED_LABEL:
            return self.archive
        if label.startswith("@"):
            return Target(TargetKind.ALIAS, label[1:])
        raise UnknownStageError(label)

    def is_protected(self, target: Target) -> bool:
        return target in self.protected

    def holds(self, version: ModelVersion, target: Target) -> bool:
        if target.kind == TargetKind.ARCHIVE:
            return is_archived(version)
        return target.kind == TargetKind.ALIAS and target.name in version.aliases

    def position(self, version: ModelVersion) -> str:
        if is_archived(version):
            return ARCHIVED_LABEL
        return " ".join(f"@{a}" for a in version.aliases)

    def displaced_by(
        self, versions: Sequence[ModelVersion], candidate: int, target: Target
    ) -> tuple[int, ...]:
        if target.kind != TargetKind.ALIAS:
            return ()  # archiving a version displaces nobody
        return tuple(
            sorted(v.version for v in versions if self.holds(v, target) and v.version != candidate)
        )

    def takes_away_protected(self, version: ModelVersion, target: Target) -> bool:
        if target.kind != TargetKind.ARCHIVE:
            return False  # a version may hold several aliases: a new one takes none away
        return any(self.holds(version, p) for p in self.protected)


def is_archived(version: ModelVersion) -> bool:
    """Alias mode's archived mark: the promobot.archived tag on a version with no alias."""
    return version.tags.get(ARCHIVED_TAG) == "true" and not version.aliases
