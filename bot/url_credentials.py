"""Finding and masking the password in a database or MLflow URL, whatever it holds.

`urllib.parse.urlsplit` cuts the authority at the first `/`, `?` or `#`, so in
`postgresql://u:p#a/ss@host/db` it sees no password at all, and a masking built on it
prints the password in clear. Here the credentials are everything between `scheme://` and
the last `@` of the URL, and the password is what follows the first `:` in them. A path
or query with an `@` in it makes this mask too much, never too little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

MASK = "****"
#: `postgresql://`, also `postgresql:` without slashes, which SQLAlchemy does not need either.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?://)?")
#: libpq also takes the password as a query parameter: `postgresql://u@host/db?password=…`.
_QUERY_PASSWORD = re.compile(r"([?&](?:password|passwd|pwd)=)([^&]*)", re.IGNORECASE)


@dataclass(frozen=True)
class _Parts:
    head: str  # `scheme://`
    credentials: str | None  # `user:password`, before the last `@`; None without an `@`
    tail: str  # `host[:port]/path?query`, after the last `@`

    @property
    def user(self) -> str:
        return (self.credentials or "").partition(":")[0]

    @property
    def password(self) -> str | None:
        _, colon, password = (self.credentials or "").partition(":")
        return password if colon else None


def _split(url: str) -> _Parts | None:
    head = _SCHEME.match(url)
    if head is None:
        return None
    rest = url[head.end() :]
    at = rest.rfind("@")
    if at == -1:
        return _Parts(head[0], None, rest)
    return _Parts(head[0], rest[:at], rest[at + 1 :])


def looks_like_url(text: str) -> bool:
    """True for `scheme://…`, and for `scheme:user:password@host` without the slashes."""
    return _SCHEME.match(text) is not None and ("://" in text or "@" in text)


def url_passwords(url: str) -> list[str]:
    """Every password in `url`, as written and percent-decoded (the forms a log may show)."""
    parts = _split(url)
    if parts is None:
        return []
    found = [parts.password] if parts.password else []
    found += [m[2] for m in _QUERY_PASSWORD.finditer(parts.tail) if m[2]]
    decoded = [unquote(p) for p in found]
    return list(dict.fromkeys(p for p in [*found, *decoded] if p))


def masked_url(url: str) -> str:
    """`url` with every password replaced by ****; the user, host and database stay readable."""
    parts = _split(url)
    if parts is None:
        return url
    tail = _QUERY_PASSWORD.sub(lambda m: m[1] + (MASK if m[2] else ""), parts.tail)
    if parts.credentials is None:
        return parts.head + tail
    if parts.password is None:
        return f"{parts.head}{parts.user}@{tail}"
    return f"{parts.head}{parts.user}:{MASK}@{tail}"
