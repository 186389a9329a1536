"""The reliability suite: every test proves one promise and prints the figure it measured.

Figures are collected during the run and printed together at the end of pytest's output
(`reliability figures`), so CI logs show them whether or not the tests pass.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

_FIGURES: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record one line like `approve race: 100 rounds x 50 clicks -> 100 transitions`."""

    def record(text: str) -> None:
        line = f"{request.node.name}: {text}"
        _FIGURES.append(line)
        print(line)

    return record


def figures() -> list[str]:
    return list(_FIGURES)
