"""The Slack surface: listeners, Block Kit builders and the Bolt app factory."""

from __future__ import annotations
