"""One row of the benchmark table: a figure, the floor it is compared with, and its budget."""

from __future__ import annotations

from typing import Any


def row(
    name: str,
    value: float | None,
    floor: float | None,
    budget: str,
    ok: bool,
    unit: str = "ms",
) -> dict[str, Any]:
    """The ratio is value over floor, when both are known."""
    return {
        "name": name,
        "value": value,
        "floor": floor,
        "ratio": value / floor if value is not None and floor else None,
        "budget": budget,
        "ok": ok,
        "unit": unit,
    }
