"""`promobot config check`: the effective configuration with secrets masked, and its errors."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.url_credentials import looks_like_url, masked_url

if TYPE_CHECKING:
    from pydantic import ValidationError

    from bot.settings import Settings

SECRET_NAMES = frozenset(
    {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PROMOBOT_MLFLOW_WEBHOOK_SECRET"}
)
_TOKEN_PREFIXES = ("xoxb-", "xapp-", "xoxp-")
#: MLflow reads these itself; promobot shows them so the report covers the whole setup.
MLFLOW_ENVIRONMENT = (
    ("MLFLOW_TRACKING_USERNAME", False),
    ("MLFLOW_TRACKING_PASSWORD", True),
    ("MLFLOW_TRACKING_TOKEN", True),
    ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", False),
    ("MLFLOW_HTTP_REQUEST_TIMEOUT", False),
)


def masked_secret(value: str | None) -> str:
    """`xoxb-**** (set, 56 chars)`: the token kind and length, never the secret itself."""
    if not value:
        return "(not set)"
    prefix = next((p for p in _TOKEN_PREFIXES if value.startswith(p)), "")
    return f"{prefix}**** (set, {len(value)} chars)"


def _show(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, list):
        return ",".join(str(v) for v in value) or "(empty)"
    if isinstance(value, str) and looks_like_url(value):
        return masked_url(value)
    return str(value)


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def environment_name(field: str) -> str:
    """The environment variable a Settings field is read from."""
    from bot.settings import Settings

    alias = Settings.model_fields[field].validation_alias
    choices = getattr(alias, "choices", None)
    return str(choices[0] if choices else alias)


def configuration_lines(settings: Settings) -> list[str]:
    """`NAME=value` for every setting, secrets masked, defaults marked."""
    from bot.app import MLFLOW_HTTP_DEFAULTS

    lines = []
    for field in type(settings).model_fields:
        name = environment_name(field)
        value = getattr(settings, field)
        if name in SECRET_NAMES:
            shown = masked_secret(value.get_secret_value() if value is not None else None)
        else:
            shown = _show(value)
        default = "" if field in settings.model_fields_set else "  (default)"
        lines.append(f"{name}={shown}{default}")
    for name, secret in MLFLOW_ENVIRONMENT:
        raw = os.environ.get(name)
        if secret:
            lines.append(f"{name}={masked_secret(raw)}")
        elif raw is None and name in MLFLOW_HTTP_DEFAULTS:
            lines.append(f"{name}={MLFLOW_HTTP_DEFAULTS[name]}  (promobot's default)")
        else:
            lines.append(f"{name}={_show(raw)}")
    return lines


def check(settings: Settings, *, socket: bool) -> int:
    """Print the configuration; exit 1 when `serve` in the chosen mode would refuse to start."""
    print("promobot configuration (from the environment; secrets masked):")
    for line in configuration_lines(settings):
        print(f"  {line}")
    mode = "Socket Mode" if socket else "HTTP mode"
    missing = settings.missing_for_socket() if socket else settings.missing_for_http()
    if missing:
        print(f"Not ready: `promobot serve` in {mode} needs {' and '.join(missing)}.")
        return 1
    print(f"Configuration is valid; `promobot serve` in {mode} has what it needs.")
    return 0


def format_validation_error(exc: ValidationError) -> str:
    """One line per invalid setting, with the value given unless it is a secret."""
    lines = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        given = error.get("input")
        if name not in SECRET_NAMES and isinstance(given, str | int | float):
            shown = _show(given) if isinstance(given, str) else str(given)
            shown = shown if len(shown) <= 80 else shown[:79] + "…"
            message += f" (got {shown!r})" if isinstance(given, str) else f" (got {shown})"
        lines.append(f"  {name}: {message}")
    return "\n".join(lines)
