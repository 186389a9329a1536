"""Bolt middleware that refuses a replayed request (after Bolt has checked the signature)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from slack_bolt import App, BoltRequest, BoltResponse

from bot.domain.replay import ReplayGuard

log = logging.getLogger(__name__)

#: Payloads that change nothing, so a replay costs a read at most. A select's options load
#: (`block_suggestion`) carries no unique id: the same text typed twice within a second is
#: the same body, and refusing it would leave the select empty.
READ_ONLY_PAYLOADS = frozenset({"block_suggestion"})


def register(app: App, guard: ReplayGuard) -> None:
    """Attach the replay check to every request `app` handles."""

    @app.middleware
    def refuse_replays(
        request: BoltRequest, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if request.body.get("type") in READ_ONLY_PAYLOADS:
            return next()
        signature = _first(request.headers.get("x-slack-signature"))
        if signature and not guard.first_time(signature):
            log.warning("replayed request refused")
            return BoltResponse(status=401, body="This request was already handled.")
        return next()


def _first(values: Sequence[str] | None) -> str | None:
    return values[0] if values else None
