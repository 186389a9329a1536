"""`python -m bot` runs the same CLI as the `promobot` console script."""

from __future__ import annotations

from bot.cli import main

raise SystemExit(main())
