"""MLflow search filter strings that are correct for every legal model name.

MLflow strips the outer quotes of a filter value and keeps everything in between as is:
there is no escape sequence. A name with only one kind of quote is therefore wrapped in
the other kind. A name with both kinds (or a backslash, which PostgreSQL's LIKE treats as
an escape) is matched with LIKE, with those characters replaced by the one-character
wildcard `_`, and the caller keeps only exact matches.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NameFilter:
    """A filter string plus whether results must be narrowed to the exact name afterwards."""

    filter_string: str
    needs_exact_check: bool


def model_name_filter(name: str) -> NameFilter:
    """Build a `name = ...` filter for `search_model_versions` that MLflow parses correctly."""
    if "'" not in name:
        return NameFilter(f"name='{name}'", needs_exact_check=False)
    if '"' not in name and "\\" not in name:
        return NameFilter(f'name="{name}"', needs_exact_check=False)
    pattern = "".join("_" if ch in "'\"\\" else ch for ch in name)
    return NameFilter(f"name LIKE '{pattern}'", needs_exact_check=True)
