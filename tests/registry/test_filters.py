"""model_name_filter builds filter strings that select exactly one model in a real MLflow."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow import MlflowClient

from bot.registry.filters import NameFilter, model_name_filter
from tests.factories import make_version

HOSTILE_NAMES = [
    "it's",
    'say "hi"',
    'it\'s "both"',
    "a\\b",
    "trail\\",
    "x%_y",
    "<!channel>",
]
#: Names a careless filter (LIKE wildcards, quote or backslash handling) would also match.
DECOYS = [
    "its",
    "say hi",
    "it_s _both_",
    "itXs XbothX",
    "it's both",
    "a_b",
    "aXb",
    "trail",
    "trail_",
    "xA_y",
    "x%Zy",
    "<!channel",
]


def _versions_found(client: MlflowClient, name: str) -> list[tuple[str, int]]:
    """What a caller of model_name_filter gets: the search, narrowed when it says so."""
    name_filter = model_name_filter(name)
    found = client.search_model_versions(name_filter.filter_string, max_results=1000)
    if name_filter.needs_exact_check:
        found = [v for v in found if v.name == name]
    return sorted((v.name, int(v.version)) for v in found)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("churn-model", NameFilter("name='churn-model'", needs_exact_check=False)),
        ("x%_y", NameFilter("name='x%_y'", needs_exact_check=False)),
        ("a\\b", NameFilter("name='a\\b'", needs_exact_check=False)),
        ("it's", NameFilter('name="it\'s"', needs_exact_check=False)),
        ('say "hi"', NameFilter("name='say \"hi\"'", needs_exact_check=False)),
        ('it\'s "both"', NameFilter("name LIKE 'it_s _both_'", needs_exact_check=True)),
        ("it's\\", NameFilter("name LIKE 'it_s_'", needs_exact_check=True)),
    ],
)
def test_filter_quotes_with_the_quote_the_name_lacks_and_falls_back_to_like(
    name: str, expected: NameFilter
) -> None:
    assert model_name_filter(name) == expected


def test_each_hostile_name_selects_exactly_its_own_versions(mlflow_client: MlflowClient) -> None:
    expected: dict[str, list[tuple[str, int]]] = {}
    for count, name in enumerate([*HOSTILE_NAMES, *DECOYS], start=1):
        expected[name] = [(name, make_version(mlflow_client, name)) for _ in range(count)]

    for name in [*HOSTILE_NAMES, *DECOYS]:
        assert _versions_found(mlflow_client, name) == expected[name], name


def test_like_fallback_matches_decoys_so_the_exact_check_is_needed(
    mlflow_client: MlflowClient,
) -> None:
    make_version(mlflow_client, 'it\'s "both"')
    make_version(mlflow_client, "it_s _both_")
    name_filter = model_name_filter('it\'s "both"')

    raw = {v.name for v in mlflow_client.search_model_versions(name_filter.filter_string)}

    assert raw == {'it\'s "both"', "it_s _both_"}
    assert name_filter.needs_exact_check


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    name=st.text(alphabet="ab'\"\\%_ <>!&", min_size=1, max_size=8).filter(
        lambda n: n.strip() == n and n.strip() != ""
    )
)
def test_any_name_built_from_hostile_characters_selects_only_itself(
    mlflow_client: MlflowClient, name: str
) -> None:
    # The registry accumulates models across examples, so every earlier name is a decoy.
    version = make_version(mlflow_client, name)
    found = _versions_found(mlflow_client, name)
    assert found[-1] == (name, version)
    assert {n for n, _ in found} == {name}
