"""Hostile input: fuzzed command text and interaction payloads never crash promobot.

The properties drive the real ASGI app (`bot.web.create_http_app` around
`bot.app.create_app`) in this process, without sockets, so that the code that parses the HTTP
body is fuzzed too. Each test seeds a real SQLite MLflow registry once; examples share it, so
the registry and the decision log change as the fuzzer files, approves and cancels requests.

PROMOBOT_FUZZ_SCALE multiplies the example counts (default 1: 5,200 examples in all).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.slack import mrkdwn as md
from bot.slack.blocks import ACTION_APPROVE, ACTION_REJECT, ACTION_RETRY
from tests.conftest import MutableClock, Served, make_settings, seed_model
from tests.e2e.conftest import buttons, stage_of
from tests.fake_slack import Call, FakeSlack, is_card
from tests.slack_requests import SIGNING_SECRET, signature

SCALE = float(os.environ.get("PROMOBOT_FUZZ_SCALE", "1"))
COMMAND_EXAMPLES = max(1, int(2000 * SCALE))
PAYLOAD_EXAMPLES = max(1, int(1200 * SCALE))
MALFORMED_EXAMPLES = max(1, int(2000 * SCALE))
REQUESTER, APPROVER, OTHER = "U0ANN", "U0BOB", "U0CAT"
HOSTILE_MODEL = "<!channel> & <@U0EVIL> *bold* _it_ ~s~ `c` \"dq\" 'sq'"
FORM = "application/x-www-form-urlencoded"
UNEXPECTED = "unexpected error reference="
BOOM = "Something went wrong on promobot's side"


def fuzz_settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,  # no .hypothesis folder in the repository
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # one app per test, shared by its examples
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# -- driving the app ---------------------------------------------------------------------------


@dataclass
class InProcessSlack:
    """Posts bodies to the ASGI app as Slack would, signed or not; returns the HTTP status."""

    asgi: Any
    fake: FakeSlack
    loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    nonce: Iterator[int] = field(default_factory=itertools.count)

    def post(self, body: str, content_type: str = FORM, signed: bool = True) -> int:
        timestamp = str(int(time.time()))
        headers = {"content-type": content_type, "x-slack-request-timestamp": timestamp}
        if signed:
            headers["x-slack-signature"] = signature(SIGNING_SECRET, timestamp, body)
        return self.loop.run_until_complete(self._call(body.encode(), headers))

    def command(self, text: str, user: str = REQUESTER, tag: str = "cmd", **extra: str) -> int:
        fields = {
            "command": "/promote",
            "text": text,
            "user_id": user,
            "user_name": "someone",
            "channel_id": "C0CHANNEL",
            "team_id": "T0FAKE",
            "response_url": self.fake.response_url(tag),
            "trigger_id": f"1.{next(self.nonce)}",  # Slack's bodies differ: no replay refusal
            **extra,
        }
        return self.post(urlencode(fields))

    def payload(self, payload: Any) -> int:
        return self.post(urlencode({"payload": json.dumps(payload), "n": next(self.nonce)}))

    async def _call(self, body: bytes, headers: dict[str, str]) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/slack/events",
            "raw_path": b"/slack/events",
            "query_string": b"",
            "root_path": "",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 3000),
        }
        delivered = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:
                await asyncio.sleep(3600)  # the client never disconnects
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])

        try:
            await self.asgi(scope, receive, send)
        except Exception:  # what uvicorn would turn into a 500
            return 500
        return status


class ListenerCompletions:
    """Bolt's listener completion handler, counting finished listeners.

    Listeners run in Bolt's worker threads after the ack, so each example waits for its own
    listener to end; its log records and Slack calls are then attributed to it alone.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._done = 0
        self._changed = threading.Condition()

    def handle(self, request: Any, response: Any) -> None:
        self._inner.handle(request=request, response=response)
        with self._changed:
            self._done += 1
            self._changed.notify_all()

    @property
    def done(self) -> int:
        with self._changed:
            return self._done

    def wait_until(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self._done >= count, timeout)


@dataclass(frozen=True)
class Mark:
    calls: int
    errors: int
    listeners: int


@dataclass
class Fuzzing:
    slack: InProcessSlack
    fake: FakeSlack
    caplog: pytest.LogCaptureFixture
    completions: ListenerCompletions

    def mark(self) -> Mark:
        return Mark(len(self.fake.calls), len(self._unexpected()), self.completions.done)

    def settle(self, mark: Mark, timeout: float = 15.0) -> bool:
        """Wait until the listener this example started has finished."""
        return self.completions.wait_until(mark.listeners + 1, timeout)

    def calls_since(self, mark: Mark) -> list[Call]:
        return self.fake.calls[mark.calls :]

    def errors_since(self, mark: Mark) -> list[str]:
        return [
            r.getMessage() + "\n" + (r.exc_text or "") for r in self._unexpected()[mark.errors :]
        ]

    def _unexpected(self) -> list[logging.LogRecord]:
        return [r for r in self.caplog.records if UNEXPECTED in r.getMessage()]


@pytest.fixture
def fuzzing(
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    fake_slack: FakeSlack,
    clock: MutableClock,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[Fuzzing]:
    """The real app on a seeded registry: `churn` (v1 Production, v2 Staging, v3 None), `fraud`
    (v1 Production, v2 Staging) and a model with a hostile name (v1 Staging)."""
    from bot.app import create_app
    from bot.web import create_http_app

    seed_model(mlflow_client, "churn", versions=3, stages={1: "Production", 2: "Staging"})
    seed_model(mlflow_client, "fraud", versions=2, stages={1: "Production", 2: "Staging"})
    seed_model(mlflow_client, HOSTILE_MODEL, versions=1, stages={1: "Staging"})
    app_settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        slack_api_url=fake_slack.api_url,
    )
    app, runtime = create_app(app_settings, clock=clock)
    runner = app.listener_runner
    completions = ListenerCompletions(runner.listener_completion_handler)
    runner.listener_completion_handler = completions
    caplog.set_level(logging.ERROR, logger="bot")
    bolt_log = logging.getLogger("bot.slack.bolt")
    bolt_log.setLevel(logging.ERROR)  # Bolt warns at length about every unhandled request
    slack = InProcessSlack(create_http_app(app, runtime), fake_slack)
    yield Fuzzing(slack, fake_slack, caplog, completions)
    slack.loop.close()
    bolt_log.setLevel(logging.NOTSET)


# -- what Slack-bound text may contain ---------------------------------------------------------

_ALLOWED_ANGLE = re.compile(
    r"<@[UW][A-Z0-9]{2,}>"  # a mention of an actor's real user ID (md.user)
    r"|<!date\^\d+\^\{date_short_pretty\} \{time\}\|[^<>]*>"  # md.date
    r"|<#[CGD][A-Z0-9]{2,}>"  # the channel the command came from (digest replies)
    r"|<https://[^<>|\s]+\|See the card>"  # the card's permalink, in the requester's DM
    r"|<!subteam\^S[A-Z0-9]{2,}>"  # a configured approver group, mentioned on cards
)
_RAW_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def shown_text(body: dict[str, Any]) -> list[str]:
    """Every string Slack would render from a message body: its text and its blocks."""
    blocks = body.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)  # form-encoded calls carry blocks as JSON text
    return [*_strings(body.get("text") or ""), *_strings(blocks)]


def escaping_leaks(calls: list[Call]) -> list[str]:
    """Text Slack would read as markup promobot did not mean: a stray `<`, `>` or bare `&`."""
    leaks = []
    for call in calls:
        for text in shown_text(call.body):
            rest = _ALLOWED_ANGLE.sub("", text)
            rest = re.sub(r"<[^<>]*…$", "…", rest)  # promobot's own token cut by truncate()
            if "<" in rest or ">" in rest or _RAW_AMPERSAND.search(rest):
                leaks.append(f"{call.method}: {text[:300]!r}")
    return leaks


def reply_kind(text: str) -> str:
    if text.startswith((":warning:", ":information_source:", ":hourglass:", ":no_entry_sign:")):
        return "usage/error"
    return "normal"


# -- strategies --------------------------------------------------------------------------------

HOSTILE_TOKENS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U0ANN>",
    "<#C0CHANNEL>",
    "<https://evil.example|click>",
    "&lt;!channel&gt;",
    "&amp;",
    "&",
    "*bold*",
    "_it_",
    "~s~",
    "`code`",
    "```",
    ">quote",
    '"',
    "'",
    "“",
    "”",
    "‘",
    "\\",
    "%",
    "\u202e",
    "\u200b",
    "🚀",
    "e\u0301\u0302",
    "نموذج",
    "模型",
    "\t",
    "\n",
    "\x00",
    "#1",
    "v2",
    "-1",
    "0",
    "99999999999999999999",
]
WORDS = [
    "help",
    "list",
    "pending",
    "history",
    "archive",
    "rollback",
    "cancel",
    "promote",
    "churn",
    "fraud",
    '"churn"',
    "1",
    "2",
    "3",
    "production",
    "Staging",
    "none",
    "ARCHIVED",
    "prod",
    "digest",
    "subscribe",
    "unsubscribe",
    "0 9 * * 1-5",
    "*/5",
    md.escape(HOSTILE_MODEL),
]
words = st.sampled_from(WORDS + HOSTILE_TOKENS) | st.text(max_size=12)
command_texts = st.one_of(
    st.lists(words, max_size=8).map(" ".join),
    st.text(max_size=200),
    st.tuples(st.sampled_from(WORDS + HOSTILE_TOKENS), st.integers(200, 2000)).map(
        lambda t: " ".join([t[0]] * t[1])[:4000]  # very long
    ),
)
users = st.sampled_from([REQUESTER, APPROVER, OTHER, "W0ENTERPRISE"]) | st.text(max_size=20)


@st.composite
def slash_commands(draw: st.DrawFn) -> tuple[str, str, str, str]:
    text = draw(command_texts)
    user = draw(users)
    # Slack sets the channel, so it has a channel ID's shape (see the report on digest links)
    channel = draw(st.from_regex(r"[CGD][A-Z0-9]{2,10}", fullmatch=True))
    name = draw(st.sampled_from(["/promote"] * 9 + ["/other"]))
    return name, text, user, channel


action_ids = st.sampled_from([ACTION_APPROVE, ACTION_REJECT, ACTION_RETRY]) | st.text(max_size=30)
#: Replaced by the newest request's id when the click is sent, so clicks meet live requests.
LATEST = "<latest request>"
values = st.one_of(
    st.just(LATEST),
    st.just(LATEST),
    st.integers(1, 30).map(str),
    st.sampled_from(
        ["", "0", "-1", "+1", " 1", "1 ", "01", "1e3", "0x1", "#1", "１", "١", "9" * 13]
    ),
    st.integers(-(10**20), 10**20).map(str),
    st.text(max_size=60),
    st.integers(-5, 5),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_MISSING = object()


@st.composite
def block_actions(draw: st.DrawFn) -> dict[str, Any]:
    """A block_actions payload shaped like Slack's, with hostile or missing optional parts."""
    action: dict[str, Any] = {"action_id": draw(action_ids), "type": "button"}
    value = draw(values | st.just(_MISSING))
    if value is not _MISSING:
        action["value"] = value
    if draw(st.booleans()):
        action["block_id"] = draw(st.text(max_size=20))
    user: dict[str, Any] = {"id": draw(users)}
    if draw(st.booleans()):
        user["username"] = draw(st.text(max_size=20))
    payload: dict[str, Any] = {"type": "block_actions", "user": user, "actions": [action]}
    if draw(st.booleans()):
        payload["actions"].append({"action_id": draw(action_ids), "value": draw(values)})
    for key, strategy in (
        ("container", st.fixed_dictionaries({"message_ts": st.text(max_size=20)})),
        ("channel", st.fixed_dictionaries({"id": st.text(max_size=12)})),
        ("message", st.fixed_dictionaries({"ts": st.text(max_size=20), "text": st.text()})),
        ("team", st.fixed_dictionaries({"id": st.text(max_size=12)})),
        ("trigger_id", st.text(max_size=20)),
    ):
        if draw(st.booleans()):
            payload[key] = draw(strategy)
    return payload


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def broken_payloads(draw: st.DrawFn) -> Any:
    """Payloads Slack would never send: wrong types, missing required parts, not JSON."""
    kind = draw(st.sampled_from(["any json", "broken block_actions", "not json", "other type"]))
    if kind == "any json":
        return draw(json_values)
    if kind == "not json":
        return draw(st.text(max_size=40).filter(lambda t: not _is_json(t)))
    if kind == "other type":
        return {
            "type": draw(st.sampled_from(["view_submission", "shortcut", "message_action"])),
            "user": draw(json_values),
            "view": draw(json_values),
            "callback_id": draw(json_values),
        }
    payload = draw(block_actions())
    for key in draw(st.lists(st.sampled_from(["user", "actions", "type"]), max_size=2)):
        if draw(st.booleans()):
            payload.pop(key, None)
        else:
            payload[key] = draw(json_values)
    if draw(st.booleans()):
        payload["actions"] = draw(st.lists(json_values, max_size=2))
    return payload


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@st.composite
def broken_bodies(draw: st.DrawFn, response_url: str) -> tuple[str, str, bool]:
    """(body, content type, signed): broken payloads, broken commands, garbage, JSON garbage."""
    signed = draw(st.booleans())
    kind = draw(st.sampled_from(["payload", "payload", "command", "form garbage", "json"]))
    if kind == "payload":
        payload = draw(broken_payloads())
        raw = payload if isinstance(payload, str) else json.dumps(payload)
        return urlencode({"payload": raw, "n": draw(st.uuids())}), FORM, signed
    if kind == "command":
        fields = {
            "command": "/promote",
            "text": draw(command_texts),
            "user_id": draw(users),
            "channel_id": "C0CHANNEL",
            "response_url": response_url,
            "trigger_id": str(draw(st.uuids())),
        }
        for key in draw(st.lists(st.sampled_from(["user_id", "channel_id", "text"]), max_size=2)):
            fields.pop(key, None)
        return urlencode(fields), FORM, signed
    if kind == "json":
        return draw(st.text(max_size=60)), "application/json", signed
    return draw(st.text(max_size=80)) + f"&n={draw(st.uuids())}", FORM, signed


# -- the properties ----------------------------------------------------------------------------


def test_fuzzed_command_text_always_gets_a_usage_error_or_normal_reply(
    fuzzing: Fuzzing, mlflow_client: Any, figure: Callable[[str], None]
) -> None:
    """Any text, any user, any channel: HTTP 200, one escaped private reply, never a crash."""
    seen: Counter[str] = Counter()
    started = time.monotonic()

    @fuzz_settings(COMMAND_EXAMPLES)
    @given(slash_commands())
    def property_holds(command: tuple[str, str, str, str]) -> None:
        name, text, user, channel = command
        tag = f"c{next(fuzzing.slack.nonce)}"
        mark = fuzzing.mark()
        status = fuzzing.slack.command(text, user=user, tag=tag, command=name, channel_id=channel)
        seen["examples"] += 1
        if name != "/promote":
            assert status == 404  # not our command: Bolt says so and runs nothing
            seen["other"] += 1
            return
        assert status == 200
        assert fuzzing.settle(mark), "the listener did not finish"
        assert fuzzing.errors_since(mark) == []
        calls = fuzzing.calls_since(mark)
        replies = [c for c in calls if c.method == "response_url"]
        if not text.strip():  # no arguments: the request form opens instead of a reply
            assert [c.method for c in calls if c.method in {"views.open", "response_url"}] == [
                "views.open"
            ]
            seen["form"] += 1
            return
        assert [c.path.rsplit("/", 1)[-1] for c in replies] == [tag]  # exactly one reply
        reply = replies[0].body
        assert reply.get("response_type") == "ephemeral"
        assert reply.get("text") or reply.get("blocks")
        assert BOOM not in str(reply.get("text"))
        assert escaping_leaks(calls) == []
        seen[reply_kind(str(reply.get("text") or ""))] += 1

    property_holds()
    elapsed = time.monotonic() - started
    stages = [stage_of(mlflow_client, "churn", v) for v in (1, 2, 3)]
    figure(
        f"{seen['examples']} fuzzed slash commands in {elapsed:.1f}s "
        f"({seen['examples'] - seen['other']} /promote, {seen['other']} other -> 404): 0 crashes, "
        f"{seen['usage/error']} usage/error + {seen['normal']} normal replies, "
        f"0 escaping leaks (churn v1-v3 now {stages})"
    )
    assert seen["examples"] >= COMMAND_EXAMPLES


def test_fuzzed_interaction_payloads_never_crash(
    fuzzing: Fuzzing, mlflow_client: Any, figure: Callable[[str], None]
) -> None:
    """Any action id, value and user on a Slack-shaped payload: 200 or 404, never an error.

    One example in twenty first files a new Production request for `churn` (moving a version to
    Staging first when needed), and many clicks carry the newest request's id, so clicks meet
    requests in every state: pending, applied, rejected, cancelled, expired by nobody.
    """
    seen: Counter[str] = Counter()
    started = time.monotonic()

    def refile() -> None:
        """File a Production request for `churn`, moving a version to Staging first if none is."""
        stages = {v: stage_of(mlflow_client, "churn", v) for v in (1, 2, 3)}
        staging = [v for v, stage in stages.items() if stage == "Staging"]
        candidate = staging[0] if staging else min(v for v in stages if stages[v] != "Production")
        texts = [] if staging else [f"churn {candidate} staging"]
        for text in [*texts, f"churn {candidate} production better on the holdout set"]:
            mark = fuzzing.mark()
            assert fuzzing.slack.command(text, tag="refile") == 200
            assert fuzzing.settle(mark)

    @fuzz_settings(PAYLOAD_EXAMPLES)
    @given(block_actions(), st.integers(0, 19))
    def property_holds(payload: dict[str, Any], dice: int) -> None:
        if dice == 0:
            refile()
        cards = [c for c in fuzzing.fake.of("chat.postMessage") if is_card(c)]
        newest = buttons(cards[-1].body["blocks"])[0]["value"]
        for action in payload["actions"]:
            if action.get("value") == LATEST:
                action["value"] = newest
        payload["response_url"] = fuzzing.fake.response_url(f"a{next(fuzzing.slack.nonce)}")
        mark = fuzzing.mark()
        status = fuzzing.slack.payload(payload)
        seen["examples"] += 1
        ours = payload["actions"][0]["action_id"] in (ACTION_APPROVE, ACTION_REJECT, ACTION_RETRY)
        assert status == (200 if ours else 404)
        if not ours:
            return
        assert fuzzing.settle(mark), "the listener did not finish"
        assert fuzzing.errors_since(mark) == []
        calls = fuzzing.calls_since(mark)
        assert calls, "a click on our button must update the card or tell the clicker"
        assert all(BOOM not in str(c.body.get("text")) for c in calls)
        notices = [c for c in calls if c.method == "response_url"]
        assert all(c.body.get("response_type") == "ephemeral" for c in notices)
        assert escaping_leaks(calls) == []
        seen.update(c.method for c in calls)
        seen.update("applied" for c in calls if "Approved and applied" in str(c.body))

    for text in (
        "churn 2 production better on the holdout set",
        "archive fraud 1",
    ):  # open requests for the first clicks
        assert fuzzing.slack.command(text, tag="setup") == 200
    fuzzing.fake.wait_for("chat.postMessage", is_card, count=2)
    property_holds()
    elapsed = time.monotonic() - started
    figure(
        f"{seen['examples']} fuzzed block_actions in {elapsed:.1f}s: 0 crashes, 0 escaping "
        f"leaks; {seen['chat.update']} card updates ({seen['applied']} applied), "
        f"{seen['response_url']} private notices"
    )
    assert seen["examples"] >= PAYLOAD_EXAMPLES


def test_malformed_bodies_get_a_4xx_never_a_500(
    fuzzing: Fuzzing, figure: Callable[[str], None]
) -> None:
    """Bodies Slack never sends, signed or not: refused with 4xx (or answered), never a 500."""
    seen: Counter[int] = Counter()
    started = time.monotonic()

    @fuzz_settings(MALFORMED_EXAMPLES)
    @given(broken_bodies(fuzzing.fake.response_url("malformed")))
    def property_holds(case: tuple[str, str, bool]) -> None:
        body, content_type, signed = case
        mark = fuzzing.mark()
        status = fuzzing.slack.post(body, content_type=content_type, signed=signed)
        seen[status] += 1
        assert status in (200, 400, 401, 404), f"HTTP {status} for {body!r} ({content_type})"
        assert signed or status in (400, 401), f"unsigned body answered {status}"
        if status == 200:
            fuzzing.settle(mark, timeout=2.0)  # a listener may be running: let it end
        assert fuzzing.errors_since(mark) == []

    property_holds()
    elapsed = time.monotonic() - started
    figure(
        f"{sum(seen.values())} malformed bodies in {elapsed:.1f}s: "
        + ", ".join(f"{n} x HTTP {code}" for code, n in sorted(seen.items()))
        + ", 0 unexpected errors"
    )


# -- hostile names end to end over HTTP --------------------------------------------------------


def _exactly(unit: str, size: int) -> str:
    text = (unit * (size // len(unit) + 1))[: size - 1].rstrip()
    return text + "z" * (size - len(text))  # no trailing space: Slack trims command text


HOSTILE_NAMES = {
    "mrkdwn, mentions, quotes": (
        "<!channel> & <@U0EVIL> *bold* _it_ ~s~ `c` > \"dq\" 'sq' \\",
        "<!here> <@U0EVIL> <https://evil.example|click> *desc* & `x`",
    ),
    "unicode": (
        "🚀 模型 \u202eRTL\u202c نموذج e\u0301\u0302 ñ",
        "emoji 🎉, RTL \u202eevil\u202c, combining a\u0308\u0301, زمن",
    ),
    "2000 characters": (
        _exactly("<!everyone> *x* & <@U0EVIL> ñ🚀 ", 2000),
        _exactly("<!channel> desc & ", 2000),
    ),
}


def test_hostile_model_names_and_descriptions_are_escaped_end_to_end(
    serve_app: Any,
    tracking_uri: str,
    database_url: str,
    mlflow_client: Any,
    figure: Callable[[str], None],
) -> None:
    """list, list <model>, request card, approve, history: all escaped; the transition right."""
    for name, description in HOSTILE_NAMES.values():
        seed_model(mlflow_client, name, versions=2, stages={1: "Production", 2: "Staging"})
        mlflow_client.update_model_version(name, "2", description=description)
    served: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    for label, (name, description) in HOSTILE_NAMES.items():
        shown = _hostile_flow(served, label, typed=md.escape(name))  # as Slack sends it
        escaped = md.escape(name)[:200]
        missing = [where for where, texts in shown.items() if escaped not in texts]
        assert missing == [], f"{label}: the escaped name is missing from {missing}"
        assert md.escape(description)[:200] in shown["card"]
        assert stage_of(mlflow_client, name, 2) == "Production"
        assert stage_of(mlflow_client, name, 1) == "Archived"
    assert escaping_leaks(served.fake.calls) == []
    everything = "\n".join(t for c in served.fake.calls for t in shown_text(c.body))
    assert "&amp;amp;" not in everything and "&amp;lt;" not in everything  # escaped once
    assert len(max((n for n, _ in HOSTILE_NAMES.values()), key=len)) == 2000
    figure(
        f"{len(HOSTILE_NAMES)} hostile names ({', '.join(HOSTILE_NAMES)}): "
        f"{len(served.fake.calls)} Slack messages, 0 unescaped <, > or &, each name shown "
        "escaped once in list/list model/card/approved card/history; v2 -> Production each"
    )


def _hostile_flow(served: Served, label: str, typed: str) -> dict[str, str]:
    """list, list <model>, file, approve and history for one model; what each one showed."""
    fake = served.fake
    tag = re.sub(r"\W", "", label)

    def ask(text: str, where: str) -> str:
        served.slack.command(REQUESTER, text, tag=f"{tag}-{where}")
        reply = fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}-{where}"))
        return "\n".join(shown_text(reply[0].body))

    shown = {"list": ask("list", "list"), "list model": ask(f"list {typed}", "listmodel")}
    posted, updated = len(fake.of("chat.postMessage")), len(fake.of("chat.update"))
    ask(f"{typed} 2 production better on the holdout set", "file")
    card = fake.wait_for("chat.postMessage", count=posted + 1)[-1]
    shown["card"] = "\n".join(shown_text(card.body))
    request_id = str(buttons(card.body["blocks"])[0]["value"])
    assert served.slack.click(APPROVER, ACTION_APPROVE, request_id).status == 200
    update = fake.wait_for("chat.update", count=updated + 1)[-1]
    shown["approved card"] = "\n".join(shown_text(update.body))
    assert "Approved and applied" in shown["approved card"]
    shown["history"] = ask(f"history {typed}", "history")
    assert "*applied*" in shown["history"]
    return shown
