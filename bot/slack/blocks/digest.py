"""The registry digest as Slack messages: a parent with the summary first, then thread
replies when the registry is too large for one message. Nothing is ever cut."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.domain.digest.aliases import AliasChange
from bot.domain.digest.model import Change, Digest, ModelDigest, ProductionVersion, Seen
from bot.domain.digest.subscriptions import Subscribed, Unsubscribed
from bot.domain.views import RequestView
from bot.registry.targets import ARCHIVED_LABEL
from bot.slack import mrkdwn as md
from bot.slack.blocks import Block, context, section
from bot.slack.blocks.cards import is_alias_target, request_summary
from bot.slack.blocks.packing import Message, Part, pack_sections, split_messages

TITLE = "Registry digest"
_INDENT = "      "


def digest_messages(digest: Digest) -> list[Message]:
    """The parent message first, then its thread replies; each within Slack's limits."""
    head: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": TITLE}},
        section(summary_line(digest)),
        context(f"As of {md.date(digest.as_of)}."),
    ]
    active = [m for m in digest.models if m.has_activity]
    quiet = [m for m in digest.models if not m.has_activity]
    parts = []
    if active:
        parts.append(Part("*Models with activity*", [_model(m, digest) for m in active]))
    if quiet:
        title = "*Other models*" if active else "*Models*"
        parts.append(Part(title, [_model(m, digest) for m in quiet]))
    if not digest.models:
        parts.append(Part("*Models*", [["_No registered models yet._"]]))
    parts.append(_changes_part(digest))
    if digest.expired:
        parts.append(Part(f"*Requests that expired {_since(digest)}*", _expired(digest)))
    return split_messages(
        head, pack_sections(parts), fallback=_fallback(digest), reply_label=f"{TITLE} continued"
    )


def summary_line(digest: Digest) -> str:
    """`*12 models* · *9* with a Production version · *1* approval pending · *3* changes …`"""
    s = digest.summary
    return (
        f"*{_count(s.models, 'model')}* · *{s.with_production}* with "
        f"{_holding(digest.production_label)} · "
        f"*{s.pending_approvals}* {'approval' if s.pending_approvals == 1 else 'approvals'} "
        f"pending · *{s.changes}* {'change' if s.changes == 1 else 'changes'} {_since(digest)}"
    )


def digest_posted_message(posted_parts: int, channel: str, error: str | None = None) -> Message:
    """The private reply to `/promote digest`."""
    replies = posted_parts - 1
    where = f" with {_count(replies, 'thread reply')}" if replies else ""
    text = f"Posted the registry digest in {md.channel(channel)}{where}."
    if error:
        text += f" :warning: Some thread replies were not posted (Slack said: {md.escape(error)})."
    return {"text": text, "blocks": [section(text)]}


def subscribed_message(subscribed: Subscribed) -> Message:
    sub = subscribed.subscription
    runs = ", ".join(md.date(run) for run in subscribed.next_runs) or "none"
    text = (
        f"This channel now gets the registry digest on `{md.escape(sub.crontab)}` "
        f"({md.escape(sub.timezone)}). Next: {runs}."
    )
    replaced = subscribed.replaced
    if replaced is not None and replaced.crontab != sub.crontab:
        source = "the PROMOBOT_DIGEST_CHANNEL setting" if replaced.from_settings else "before"
        text += f" It replaces `{md.escape(replaced.crontab)}` ({source})."
    return {"text": text, "blocks": [section(text)]}


def unsubscribed_message(unsubscribed: Unsubscribed) -> Message:
    if unsubscribed.removed is None and unsubscribed.still_scheduled is None:
        text = "This channel has no digest subscription. Nothing changed."
    elif unsubscribed.removed is not None:
        text = f"Unsubscribed: no more digests on `{md.escape(unsubscribed.removed.crontab)}` here."
    else:
        text = "This channel has no subscription of its own."
    still = unsubscribed.still_scheduled
    if still is not None:
        text += (
            f" It is the PROMOBOT_DIGEST_CHANNEL, so it still gets digests on "
            f"`{md.escape(still.crontab)}` until an operator changes that setting."
        )
    return {"text": text, "blocks": [section(text)]}


def _changes_part(digest: Digest) -> Part:
    title = f"*Changed {_since(digest)}*"
    if not digest.changes and not digest.alias_changes:
        return Part(title, [["_No changes._"]])
    lines = [[_alias_change(c)] for c in digest.alias_changes]
    return Part(title, lines + [[_change(c)] for c in digest.changes])


def _alias_change(change: AliasChange) -> str:
    """`• *churn*: *@champion* moved to *v5*, it was v4 (made outside promobot, noticed …)`"""
    alias = f"*@{md.escape(change.alias)}*"
    if change.version is None:
        what = f"{alias} removed, it was on v{change.previous}"
    elif change.previous is None:
        what = f"{alias} set on *v{change.version}*"
    else:
        what = f"{alias} moved to *v{change.version}*, it was v{change.previous}"
    noticed = md.date(change.noticed_at)
    return f"• {md.model_ref(change.model)}: {what} (made outside promobot, noticed {noticed})"


def _change(change: Change) -> str:
    ref = md.model_ref(change.model, change.version)
    when = md.date(change.at)
    if not change.by_promobot:
        what = "registered" if change.registered else "updated"
        return f"• {when} {ref}: {what}, {_now_at(change.to_target)} (made outside promobot)"
    if not change.to_target:  # alias mode: the version lost its alias to another
        move = f"lost *{md.escape(change.from_target)}*"
    else:
        move = f"{md.escape(change.from_target or 'no alias')} → *{md.escape(change.to_target)}*"
    if change.request_id is not None and change.requested_by is not None:
        who = (
            f"requested by {md.user(change.requested_by)}, approved by "
            f"{md.user(change.actor or '?')} · #{change.request_id}"
        )
    else:
        who = f"by {md.user(change.actor or '?')}"
    return f"• {when} {ref}: {move} · {who}"


def _expired(digest: Digest) -> list[list[str]]:
    return [[f"• {request_summary(r)} · expired {md.date(r.expires_at)}"] for r in digest.expired]


def _model(model: ModelDigest, digest: Digest) -> list[str]:
    production = ", ".join(_production(p) for p in model.production) or "none"
    label = md.escape(digest.production_label)
    first = f"{md.model_ref(model.name)} · {label}: {production}"
    notes = []
    if model.changes:
        notes.append(_count(model.changes, "change"))
    if model.expired:
        notes.append(f"{model.expired} expired")
    if notes:
        first += f" · {', '.join(notes)}"
    lines = [first]
    if model.staging:
        lines.append(f"{_INDENT}{md.escape(digest.staging_label)}: {_versions(model.staging)}")
    if model.other_aliases:
        others = ", ".join(f"@{md.escape(a)} v{v}" for a, v in model.other_aliases)
        lines.append(f"{_INDENT}Other aliases: {others}")
    lines.extend(_open_request(r, digest.as_of) for r in model.open_requests)
    return lines


def _production(version: ProductionVersion) -> str:
    when = md.date(version.since)
    if not version.by_promobot:
        if version.seen == Seen.FIRST_SEEN:
            return f"*v{version.version}* (set outside promobot, first seen now)"
        if version.seen == Seen.RECORDED:
            return f"*v{version.version}* (set outside promobot, seen since {when})"
        return f"*v{version.version}* (updated {when}, outside promobot)"
    if version.approved_by is not None and version.requested_by is not None:
        who = (
            f"requested by {md.user(version.requested_by)}, approved by "
            f"{md.user(version.approved_by)}"
        )
        ref = f", #{version.request_id}" if version.request_id is not None else ""
        return f"*v{version.version}* since {when} ({who}{ref})"
    return f"*v{version.version}* since {when} (by {md.user(version.requested_by or '?')})"


def _open_request(request: RequestView, as_of: datetime) -> str:
    return (
        f"{_INDENT}Open #{request.id}: v{request.version} {md.escape(request.from_target)} → "
        f"{md.escape(request.to_target)} · *{md.escape(request.status)}* · requested by "
        f"{md.user(request.requested_by)} {age(as_of - request.created_at)} ago · "
        f"expires {md.date(request.expires_at)}"
    )


def age(delta: timedelta) -> str:
    """`45 min`, `3 h`, `2 d 4 h`: coarse enough to read at a glance."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, days = minutes // 60, minutes // (60 * 24)
    if days == 0:
        return f"{hours} h"
    rest = hours - days * 24
    return f"{days} d {rest} h" if rest else f"{days} d"


def _holding(label: str) -> str:
    """`a Production version` (stage mode) or `@champion` (alias mode)."""
    return md.escape(label) if is_alias_target(label) else f"a {md.escape(label)} version"


def _now_at(position: str) -> str:
    """Where a version is now: `now in *Staging*`, `now on *@champion*`, `now *archived*`."""
    if not position:
        return "now with no alias"
    if is_alias_target(position):
        return f"now on *{md.escape(position)}*"
    if position == ARCHIVED_LABEL:
        return "now *archived*"
    return f"now in *{md.escape(position)}*"


def _versions(numbers: Sequence[int]) -> str:
    return ", ".join(f"v{n}" for n in numbers)


def _since(digest: Digest) -> str:
    if digest.first:
        return f"since {md.date(digest.since)}"
    return "since the last digest"


def _count(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def _fallback(digest: Digest) -> str:
    s = digest.summary
    return (
        f"{TITLE}: {_count(s.models, 'model')}, {s.with_production} with "
        f"{_holding(digest.production_label)}, "
        f"{s.pending_approvals} pending approval(s), {s.changes} change(s)"
    )
