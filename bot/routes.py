"""The HTTP paths promobot serves; shared by the server, the manifest and the docs."""

from __future__ import annotations

#: Slash commands and interactivity (button clicks) alike.
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
