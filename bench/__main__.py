"""Run every benchmark, print a table and write bench/results/latest.json.

    .venv/bin/python -m bench            # everything (about 5 minutes on 2 CPUs)
    .venv/bin/python -m bench --quick    # fewer rounds, for a smoke run (about 3 minutes)

Each figure is printed next to the floor it cannot beat, measured in the same run on the
same machine, and the ratio between them is checked against its budget.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import digest_scale, events, footprint, latency


def main(argv: list[str] | None = None) -> int:
    _quiet_mlflow()
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--out", default="bench/results/latest.json")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        help="skip a section: latency, digest, footprint or events",
    )
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="promobot-bench-") as folder:
        work = Path(folder)
        if "latency" not in args.skip:
            rows += latency.run(work, quick=args.quick)
        if "digest" not in args.skip:
            rows += digest_scale.run(work, quick=args.quick)
        if "footprint" not in args.skip:
            rows += footprint.run(work, quick=args.quick)
        if "events" not in args.skip:
            rows += events.run(work, quick=args.quick)
    report = {
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "seconds": round(time.monotonic() - started, 1),
        "results": rows,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    _print_table(rows)
    print(f"\nwritten to {out} in {report['seconds']} s")
    return 0 if all(row["ok"] for row in rows) else 1


def _quiet_mlflow() -> None:
    """Keep MLflow's per-run links and info logs out of the table; skip its job runner.

    The mlflow servers started here (children inherit the environment) serve only the
    registry, so MLflow's background job runner, three polling processes, would only take
    CPU from the measurements on a small machine.
    """
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")


def _print_table(rows: list[dict[str, Any]]) -> None:
    header = f"{'benchmark':44} {'value':>12} {'floor':>12} {'ratio':>7} {'budget':>16}  ok"
    print(header)
    print("-" * len(header))
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row.get("ratio") is not None else "-"
        floor = _fmt(row.get("floor"), row["unit"])
        print(
            f"{row['name']:44} {_fmt(row['value'], row['unit']):>12} {floor:>12} {ratio:>7} "
            f"{row['budget']:>16}  {'yes' if row['ok'] else 'NO'}"
        )


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    return f"{value:.1f} {unit}" if unit != "calls" else f"{int(value)} {unit}"


if __name__ == "__main__":
    raise SystemExit(main())
