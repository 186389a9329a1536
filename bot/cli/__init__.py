"""The `promobot` command line. Heavy imports (MLflow, Bolt) happen inside each command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bot.cli.parser import build_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130
    except _config_errors() as exc:
        print(f"promobot: configuration error:\n{_format_validation(exc)}", file=sys.stderr)
        return 2


def _config_errors() -> tuple[type[Exception], ...]:
    from pydantic import ValidationError

    return (ValidationError,)


def _format_validation(exc: Exception) -> str:
    from pydantic import ValidationError

    from bot.cli.config_check import format_validation_error

    return format_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)


__all__ = ["argparse", "main"]
