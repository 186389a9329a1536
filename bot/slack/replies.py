"""Replies at a request's response_url over kept-alive connections.

Bolt's own `respond()` opens a new connection for every reply: against hooks.slack.com
that is a TCP and TLS handshake before each answer. The `pooled_replies` middleware gives
every listener a `respond()` with Bolt's signature that posts through one shared
`ReplyTransport` (urllib3 connection pools, safe to share between threads) instead.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_bolt import App, BoltContext, Respond
from slack_sdk.webhook import WebhookResponse

if TYPE_CHECKING:
    import urllib3
    from slack_sdk.models.attachments import Attachment
    from slack_sdk.models.blocks import Block

#: Seconds to wait for Slack to accept a reply (Bolt's own default is 30).
REPLY_TIMEOUT = 10.0


class ReplyTransport:
    """POSTs JSON over pooled, kept-alive connections; honours HTTP(S)_PROXY and NO_PROXY."""

    def __init__(self, max_connections: int) -> None:
        import urllib3

        options: dict[str, Any] = {
            "maxsize": max_connections,
            "retries": False,  # send_reply decides about retrying
            "timeout": urllib3.Timeout(total=REPLY_TIMEOUT),
        }
        self._direct = urllib3.PoolManager(**options)
        self._proxied: dict[str, urllib3.ProxyManager] = {
            scheme: urllib3.ProxyManager(proxy, **options)
            for scheme, proxy in urllib.request.getproxies().items()
            if scheme in ("http", "https")
        }

    def post_json(self, url: str, message: Mapping[str, Any]) -> urllib3.BaseHTTPResponse:
        parts = urlsplit(url)
        proxied = self._proxied.get(parts.scheme)
        manager = self._direct
        if proxied is not None and not urllib.request.proxy_bypass(parts.hostname or ""):
            manager = proxied
        return manager.request(
            "POST",
            url,
            body=json.dumps(message).encode(),
            headers={"Content-Type": "application/json;charset=utf-8"},
        )


class PooledRespond(Respond):
    """Bolt's `respond()`, posting through a shared transport."""

    def __init__(self, *, response_url: str | None, transport: ReplyTransport) -> None:
        super().__init__(response_url=response_url)
        self._transport = transport

    def __call__(  # the signature of Bolt's Respond, so listeners cannot tell the difference
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[dict[str, Any] | Block] | None = None,
        attachments: Sequence[dict[str, Any] | Attachment] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if isinstance(text, dict):
            message = dict(text)
        else:
            fields = {
                "text": text,
                "blocks": [_as_dict(b) for b in blocks] if blocks is not None else None,
                "attachments": (
                    [_as_dict(a) for a in attachments] if attachments is not None else None
                ),
                "response_type": response_type,
                "replace_original": replace_original,
                "delete_original": delete_original,
                "unfurl_links": unfurl_links,
                "unfurl_media": unfurl_media,
                "thread_ts": thread_ts,
                "metadata": metadata,
            }
            message = {key: value for key, value in fields.items() if value is not None}
        response = self._transport.post_json(self.response_url, message)
        return WebhookResponse(
            url=self.response_url,
            status_code=response.status,
            body=response.data.decode(errors="replace"),
            headers=dict(response.headers),
        )


def _as_dict(item: Any) -> dict[str, Any]:
    return dict(item.to_dict()) if hasattr(item, "to_dict") else dict(item)


def register(app: App, transport: ReplyTransport) -> None:
    """Give every listener a `respond()` that posts through `transport`."""

    @app.middleware
    def pooled_replies(context: BoltContext, next: Callable[[], None]) -> None:
        if context.response_url:
            context["respond"] = PooledRespond(
                response_url=context.response_url, transport=transport
            )
        next()
