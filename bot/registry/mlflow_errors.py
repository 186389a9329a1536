"""MLflow and transport failures translated into the domain's errors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from bot.errors import RegistryRefusedError, RegistryUnavailableError

_NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"
_USER_ERRORS = {"INVALID_PARAMETER_VALUE", "RESOURCE_ALREADY_EXISTS", "BAD_REQUEST"}


class MlflowNotFound(Exception):
    """Internal marker: MLflow answered RESOURCE_DOES_NOT_EXIST."""


@contextmanager
def translated_errors() -> Iterator[None]:
    """Turn MLflow and transport failures into domain errors the surfaces know how to show."""
    from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        if exc.error_code == _NOT_FOUND:
            raise MlflowNotFound() from exc
        if exc.error_code in _USER_ERRORS:
            raise RegistryRefusedError(short_detail(exc.message)) from exc
        raise RegistryUnavailableError(short_detail(exc.message)) from exc
    except (OSError, ConnectionError) as exc:
        raise RegistryUnavailableError(short_detail(str(exc))) from exc
    except Exception as exc:
        # requests and SQLAlchemy errors reach us here; their base classes are not imported
        # eagerly to keep start-up fast.
        if type(exc).__module__.split(".")[0] in {"requests", "urllib3", "sqlalchemy"}:
            # Their text names hosts and paths: a known hint, or else the type alone.
            detail = _hint(str(exc)) or type(exc).__name__
            raise RegistryUnavailableError(detail) from exc
        raise


_TRANSPORT_HINTS = (
    ("timed out", "MLflow is not answering; the request timed out"),
    ("Timeout", "MLflow is not answering; the request timed out"),
    ("Connection refused", "connection refused"),
    ("Max retries exceeded", "connection failed"),
    ("Name or service not known", "host not found"),
    ("401", "authentication failed (HTTP 401)"),
    ("403", "permission denied (HTTP 403)"),
)


def _hint(text: str) -> str | None:
    for needle, hint in _TRANSPORT_HINTS:
        if needle in text:
            return hint
    return None


def short_detail(text: str) -> str:
    """A short, safe detail: never the URL (it may carry credentials), never a stack."""
    hint = _hint(text)
    if hint is not None:
        return hint
    first_line = text.strip().splitlines()[0] if text.strip() else "no detail"
    return re.sub(r"\b\w+://\S+", "<url>", first_line)[:160]
