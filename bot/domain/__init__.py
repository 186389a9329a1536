"""The Slack-free domain: promotion rules, decisions and read models."""

from __future__ import annotations
