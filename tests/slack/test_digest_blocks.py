"""The digest's Block Kit builder, a pure function: Slack's limits hold and nothing is cut."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.digest.aliases import AliasChange
from bot.domain.digest.model import (
    Change,
    Digest,
    DigestSummary,
    ModelDigest,
    ProductionVersion,
    Seen,
)
from bot.domain.views import RequestView
from bot.slack.blocks.as_text import message_as_text
from bot.slack.blocks.digest import age, digest_messages
from bot.slack.blocks.packing import (
    MAX_BLOCKS,
    MAX_MESSAGE_CHARS,
    MAX_SECTION_TEXT,
    block_chars,
    fit_line,
)
from storage.models import PromotionRequest

AS_OF = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
EVIL = "<!channel> & <@U0BOSS> *pwn*"


def _request(request_id: int, model: str, status: str = "pending") -> RequestView:
    return RequestView.of(
        PromotionRequest(
            id=request_id,
            kind="promote",
            model_name=model,
            version=20,
            from_target="Staging",
            to_target="Production",
            requested_by="U0ANN",
            created_at=AS_OF - timedelta(hours=3),
            expires_at=AS_OF + timedelta(hours=21),
            status=status,
        )
    )


def _digest(models: list[ModelDigest], changes: int = 0, expired: int = 0) -> Digest:
    change_list = tuple(
        Change(
            at=AS_OF - timedelta(minutes=n),
            model=models[n % len(models)].name,
            version=n % 20 + 1,
            from_target="Staging" if n % 2 else None,
            to_target="Production",
            by_promobot=bool(n % 2),
            actor="U0BOB",
            requested_by="U0ANN" if n % 2 else None,
            request_id=n if n % 2 else None,
        )
        for n in range(changes)
    )
    return Digest(
        as_of=AS_OF,
        since=AS_OF - timedelta(days=1),
        first=False,
        summary=DigestSummary(
            models=len(models),
            with_production=sum(1 for m in models if m.production),
            pending_approvals=sum(len(m.open_requests) for m in models),
            changes=changes,
        ),
        models=tuple(models),
        changes=change_list,
        expired=tuple(_request(90_000 + n, models[n].name, "expired") for n in range(expired)),
    )


def _large_registry_digest() -> Digest:
    """1,000 models x 20 versions: Production, several in Staging, open requests, changes."""
    models = []
    for n in range(1000):
        name = EVIL if n == 500 else f"team-{n % 7}/model-{n:04d}"
        production = ProductionVersion(
            version=20,
            since=AS_OF - timedelta(days=n % 30),
            by_promobot=n % 3 != 0,
            requested_by="U0ANN" if n % 3 else None,
            approved_by="U0BOB" if n % 3 else None,
            request_id=n if n % 3 else None,
        )
        models.append(
            ModelDigest(
                name=name,
                production=(production,),
                staging=tuple(range(1, 20)) if n % 50 == 0 else (18, 19),
                open_requests=(_request(n, name),) if n % 10 == 0 else (),
                changes=2 if n % 4 == 0 else 0,
            )
        )
    return _digest(models, changes=2000, expired=40)


def _texts(message: dict[str, Any]) -> list[str]:
    found = []
    for block in message["blocks"]:
        if block["type"] == "context":
            found.extend(e["text"] for e in block["elements"])
        else:
            found.append(block["text"]["text"])
    return found


def test_large_registry_digest_respects_slacks_limits_in_every_message() -> None:
    messages = digest_messages(_large_registry_digest())
    assert len(messages) > 1  # too large for one message: a parent and thread replies
    for message in messages:
        assert len(message["blocks"]) <= MAX_BLOCKS
        assert all(len(text) <= MAX_SECTION_TEXT for text in _texts(message))
        assert sum(block_chars(b) for b in message["blocks"]) <= MAX_MESSAGE_CHARS
        assert 0 < len(message["text"]) <= 300


def test_large_registry_digest_is_split_never_cut() -> None:
    digest = _large_registry_digest()
    messages = digest_messages(digest)
    everything = "\n".join(text for m in messages for text in _texts(m))
    assert "…" not in everything  # md.truncate's mark: no text was cut to fit
    for model in digest.models:
        escaped = model.name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert everything.count(f"*{escaped}* · Production:") == 1, model.name
    team_zero = digest.models[0]  # open request, 19 versions in Staging
    assert "Staging: " + ", ".join(f"v{n}" for n in range(1, 20)) in everything
    assert f"Open #{team_zero.open_requests[0].id}: v20 Staging → Production" in everything
    assert everything.count("· requested by <@U0ANN>, approved by <@U0BOB> · #") == 1000
    assert everything.count("(made outside promobot)") == 1000
    assert everything.count("· expired ") == 40


def test_parent_starts_with_the_summary_and_replies_are_numbered() -> None:
    messages = digest_messages(_large_registry_digest())
    parent = messages[0]
    assert parent["blocks"][0]["type"] == "header"
    summary = parent["blocks"][1]["text"]["text"]
    assert summary.startswith("*1000 models* · *1000* with a Production version · *100* approvals")
    assert "*2000* changes since the last digest" in summary
    replies = len(messages) - 1
    assert _texts(parent)[-1] == f"Continued in the thread: {replies} more messages."
    for number, reply in enumerate(messages[1:], start=2):
        assert _texts(reply)[0] == f"Registry digest continued, part {number} of {len(messages)}"


def test_models_with_activity_come_before_the_others() -> None:
    quiet = ModelDigest("aaa-quiet", (), (), ())
    busy = ModelDigest("zzz-busy", (), (3,), (_request(7, "zzz-busy"),))
    text = message_as_text(digest_messages(_digest([busy, quiet]))[0])
    assert text.index("Models with activity") < text.index("zzz-busy")
    assert text.index("zzz-busy") < text.index("Other models") < text.index("aaa-quiet")


def test_small_digest_is_one_message_with_everything() -> None:
    model = ModelDigest(
        "churn",
        (ProductionVersion(3, AS_OF - timedelta(days=2), True, "U0ANN", "U0BOB", 12),),
        (4,),
        (_request(13, "churn"),),
        changes=1,
    )
    (message,) = digest_messages(_digest([model], changes=1))
    text = message_as_text(message)
    assert "1 model · 1 with a Production version · 1 approval pending · 1 change since" in text
    assert "churn · Production: v3 since 2026-11-22 09:00 UTC (requested by @U0ANN, " in text
    assert "Staging: v4" in text
    assert "Open #13: v20 Staging → Production · pending · requested by @U0ANN 3 h ago" in text
    assert "Continued in the thread" not in text


def test_registry_and_user_text_is_escaped() -> None:
    model = ModelDigest(EVIL, (), (), (_request(1, EVIL),), changes=1)
    messages = digest_messages(_digest([model], changes=1, expired=1))
    everything = "\n".join(text for m in messages for text in _texts(m))
    assert "<!channel>" not in everything and "<@U0BOSS>" not in everything
    assert "&lt;!channel&gt; &amp; &lt;@U0BOSS&gt;" in everything


def _alias_digest(name: str, alias: str, label: str = "@champion") -> Digest:
    """An alias-mode digest: promobot's move, a script's move, and a recorded holder."""
    models = [
        ModelDigest(
            name,
            (ProductionVersion(3, AS_OF, False, seen=Seen.FIRST_SEEN),),
            (2,),
            (),
            changes=2,
            other_aliases=((alias, 1),),
        ),
        ModelDigest("ranker", (ProductionVersion(7, AS_OF - timedelta(days=3), False),), (), ()),
    ]
    models[1] = replace(
        models[1], production=(replace(models[1].production[0], seen=Seen.RECORDED),)
    )
    digest = _digest(models)
    displaced = Change(AS_OF, name, 4, "", True, label, "U0BOB")
    return replace(
        digest,
        summary=replace(digest.summary, changes=4),
        production_label=label,
        staging_label="@challenger",
        changes=(displaced,),
        alias_changes=(
            AliasChange(AS_OF, name, label.removeprefix("@"), 3, 4),
            AliasChange(AS_OF, name, alias, 1, None),
            AliasChange(AS_OF, name, alias, None, 5),
        ),
    )


def test_alias_digest_names_the_aliases_and_flags_outside_moves() -> None:
    (message,) = digest_messages(_alias_digest("churn", "shadow"))
    text = message_as_text(message)
    assert "2 models · 2 with @champion · 0 approvals pending · 4 changes since" in text
    assert "churn · @champion: v3 (set outside promobot, first seen now) · 2 changes" in text
    assert "      @challenger: v2\n      Other aliases: @shadow v1" in text
    assert "ranker · @champion: v7 (set outside promobot, seen since 2026-11-21 09:00 UTC)" in text
    assert "• churn: @champion moved to v3, it was v4 (made outside promobot, noticed" in text
    assert "• churn: @shadow set on v1 (made outside promobot" in text
    assert "• churn: @shadow removed, it was on v5 (made outside promobot" in text
    assert "churn v4: lost @champion · by @U0BOB" in text
    assert "Production" not in text and "Staging" not in text


def test_hostile_alias_names_are_escaped() -> None:
    hostile = "<!channel>&x"
    messages = digest_messages(_alias_digest(EVIL, hostile, label=f"@{hostile}"))
    everything = "\n".join(text for m in messages for text in _texts(m))
    assert "<!channel>" not in everything and "<@U0BOSS>" not in everything
    assert "*@&lt;!channel&gt;&amp;x* moved to *v3*" in everything
    assert "Other aliases: @&lt;!channel&gt;&amp;x v1" in everything
    assert "lost *@&lt;!channel&gt;&amp;x*" in everything
    assert "*2* with @&lt;!channel&gt;&amp;x" in everything
    assert "<!channel>" not in " ".join(m["text"] for m in messages)  # the fallback too


def test_an_overlong_line_is_wrapped_at_spaces_outside_markup() -> None:
    date = "<!date^1700000000^{date_short_pretty} {time}|2023-11-14 22:13 UTC>"
    line = " ".join(f"v{n} {date}" for n in range(200))
    pieces = fit_line(line)
    assert len(pieces) > 1 and all(len(p) <= MAX_SECTION_TEXT for p in pieces)
    assert all(p.count("<") == p.count(">") for p in pieces)  # no tag split in two
    assert re.sub(r"\s+", " ", " ".join(pieces)) == line


def test_age_reads_at_a_glance() -> None:
    assert age(timedelta(minutes=45)) == "45 min"
    assert age(timedelta(hours=3, minutes=59)) == "3 h"
    assert age(timedelta(days=2, hours=4)) == "2 d 4 h"
    assert age(timedelta(days=3)) == "3 d"
