"""The page's JSON routes, driven over HTTP: commands and clicks reach the real promobot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.playground.people import APPROVER, CHANNEL_ID, ENGINEER, SECOND_APPROVER
from tests.playground.conftest import Served, serving, wait_until

ANN, BOB, CAT = ENGINEER.id, APPROVER.id, SECOND_APPROVER.id


def card(served: Served, person: str) -> dict[str, Any] | None:
    """The approval card in the channel, as `person` sees it."""
    return next(
        (
            m
            for m in served.state(person)["messages"]
            if not m["ephemeral"] and any(b["type"] == "actions" for b in m["blocks"])
        ),
        None,
    )


def ephemeral_texts(served: Served, person: str) -> list[str]:
    return [m["text"] for m in served.state(person)["messages"] if m["ephemeral"]]


def click(served: Served, person: str, message: dict[str, Any], action_id: str) -> int:
    block = next(b for b in message["blocks"] if b["type"] == "actions")
    status, body = served.post(
        "/ui/action",
        {
            "person": person,
            "channel": message["channel"],
            "ts": message["ts"],
            "block_id": block["block_id"],
            "action_id": action_id,
        },
    )
    assert status == 200, body
    return int(body["status"])


def test_config_names_three_people_and_the_commands_usage(served: Served) -> None:
    status, config = served.get("/ui/config")
    assert status == 200
    labels = [p["label"] for p in config["people"]]
    assert labels == ["Ann (ML engineer)", "Bob (approver)", "Cat (approver)"]
    assert config["command"] == "/promote"
    assert {"usage": "digest", "text": "post the registry digest in this channel now"} in config[
        "usage"
    ]
    assert served.playground.settings.approvers == [BOB, CAT]


def test_index_is_served_with_a_policy_that_allows_only_its_own_scripts(served: Served) -> None:
    import urllib.request

    with urllib.request.urlopen(served.url + "/", timeout=10) as response:
        page = response.read().decode()
        policy = response.headers["Content-Security-Policy"]
    assert 'data-testid="person"' in page and 'data-testid="composer"' in page
    assert 'data-testid="registry"' in page
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    status, script = served.get("/static/blockkit.js")
    assert status == 200 and "export function renderBlocks" in script


def test_requester_is_refused_and_an_approver_applies_the_request(served: Served) -> None:
    assert served.stages("churn-model") == {1: "Production", 2: "Staging", 3: "None"}
    status, body = served.post(
        "/ui/command",
        {"person": ANN, "text": "/promote churn-model 2 production better on the holdout set"},
    )
    assert (status, body) == (200, {"status": 200})

    posted = wait_until(lambda: card(served, ANN), what="the approval card")
    assert "churn-model" in posted["text"] and "waiting for approval" in posted["text"]
    filed = wait_until(lambda: ephemeral_texts(served, ANN), what="Ann's private reply")
    assert "The approval card is in this channel" in filed[0]
    assert ephemeral_texts(served, BOB) == []  # only the requester sees her reply

    assert click(served, ANN, posted, "promobot_approve") == 200
    refusal = wait_until(
        lambda: [t for t in ephemeral_texts(served, ANN) if "yourself" in t], what="refusal"
    )
    assert "someone else must approve it" in refusal[0]
    assert served.stages("churn-model")[2] == "Staging"

    assert click(served, BOB, posted, "promobot_approve") == 200
    decided = wait_until(
        lambda: next(
            (m for m in served.state(CAT)["messages"] if m["ts"] == posted["ts"] and m["edited"]),
            None,
        ),
        what="the card's update",
    )
    assert "(applied)" in decided["text"]
    assert not any(b["type"] == "actions" for b in decided["blocks"])
    assert served.stages("churn-model") == {1: "Archived", 2: "Production", 3: "None"}


def test_a_click_on_a_button_the_message_lacks_is_refused_and_changes_nothing(
    served: Served,
) -> None:
    served.post(
        "/ui/command",
        {"person": ANN, "text": "/promote churn-model 2 production better on the holdout set"},
    )
    posted = wait_until(lambda: card(served, ANN), what="the approval card")
    block = next(b for b in posted["blocks"] if b["type"] == "actions")
    status, body = served.post(
        "/ui/action",
        {
            "person": BOB,
            "channel": posted["channel"],
            "ts": posted["ts"],
            "block_id": block["block_id"],
            "action_id": "promobot_retry_forged",
        },
    )
    assert (status, body) == (400, {"error": "element_not_found"})
    assert served.stages("churn-model")[2] == "Staging"


def test_the_page_refuses_non_json_posts_and_unknown_people(served: Served) -> None:
    form = b"person=U0PLAYANN&text=%2Fpromote+help"
    status, _ = served.post("/ui/command", form, "application/x-www-form-urlencoded")
    assert status == 415  # a cross-site form cannot send commands as someone here
    status, body = served.post("/ui/command", {"person": "U0NOBODY", "text": "/promote help"})
    assert (status, body) == (400, {"error": "Pick one of the playground's people."})
    status, body = served.post("/ui/command", {"person": ANN, "text": "/deploy now"})
    assert status == 400 and "Only /promote commands" in body["error"]
    status, _ = served.get("/ui/state?person=U0NOBODY")
    assert status == 400
    assert served.state(ANN)["messages"] == []


def test_commands_in_the_direct_messages_are_answered_there(served: Served) -> None:
    dm = served.state(ANN)["dm_channel"]
    served.post("/ui/command", {"person": ANN, "text": "/promote help", "channel": dm})
    reply = wait_until(lambda: served.state(ANN)["messages"], what="help")
    assert reply[0]["channel"] == dm and "promobot" in reply[0]["text"]
    status, _ = served.post(
        "/ui/command", {"person": ANN, "text": "/promote help", "channel": "D0PLAYBOB"}
    )
    assert status == 400  # nobody types into another person's direct messages


def test_post_digest_posts_the_digest_in_the_channel(served: Served) -> None:
    status, _ = served.post("/ui/digest", {"person": BOB})
    assert status == 200
    digest = wait_until(
        lambda: [
            m
            for m in served.state(ANN)["messages"]
            if m["channel"] == CHANNEL_ID and m["text"].startswith("Registry digest")
        ],
        what="the digest",
    )
    assert "2 models" in digest[0]["text"]
    confirmation = wait_until(lambda: ephemeral_texts(served, BOB), what="Bob's confirmation")
    assert "Posted the registry digest" in confirmation[0]


def test_register_a_new_version_adds_it_to_the_registry(served: Served) -> None:
    status, body = served.post("/ui/new-version", {"person": ANN, "model": "fraud-detector"})
    assert (status, body) == (200, {"model": "fraud-detector", "version": 3})
    assert served.stages("fraud-detector") == {1: "Production", 2: "Staging", 3: "None"}
    status, body = served.post("/ui/new-version", {"person": ANN, "model": "no-such-model"})
    assert status == 400 and "no model named 'no-such-model'" in body["error"]


def test_in_alias_mode_the_approver_moves_the_production_alias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMOBOT_REGISTRY_MODE", "aliases")
    with serving(tmp_path) as served:
        registry = served.registry()
        assert (registry["mode"], registry["production"]) == ("aliases", "@champion")
        churn = next(m for m in registry["models"] if m["name"] == "churn-model")
        assert {v["version"]: v["aliases"] for v in churn["versions"]} == {
            3: [],
            2: ["challenger"],
            1: ["champion"],
        }
        served.post(
            "/ui/command",
            {"person": ANN, "text": "/promote churn-model 2 production better on the holdout set"},
        )
        posted = wait_until(lambda: card(served, ANN), what="the approval card")
        assert click(served, CAT, posted, "promobot_approve") == 200

        def champion() -> int | None:
            models = {m["name"]: m for m in served.registry()["models"]}
            versions = models["churn-model"]["versions"]
            return next((v["version"] for v in versions if "champion" in v["aliases"]), None)

        wait_until(lambda: champion() == 2, what="@champion on v2")


def test_a_registered_version_gets_its_notice_and_move_to_staging_moves_it(
    served: Served,
) -> None:
    served.post("/ui/new-version", {"person": ANN, "model": "fraud-detector"})
    notice = wait_until(
        lambda: [
            m
            for m in served.state(BOB)["messages"]
            if "Move to Staging" in str(m["blocks"]) and "fraud-detector" in m["text"]
        ],
        timeout=30,
        what="the new-version notice from the watch",
    )[0]
    [button] = [
        e
        for b in notice["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == "Move to Staging"
    ]
    actions = next(b for b in notice["blocks"] if b["type"] == "actions")
    status, _ = served.post(
        "/ui/action",
        {
            "person": BOB,
            "channel": CHANNEL_ID,
            "ts": notice["ts"],
            "block_id": actions["block_id"],
            "action_id": button["action_id"],
        },
    )
    assert status == 200
    wait_until(
        lambda: served.stages("fraud-detector").get(3) == "Staging" or None,
        what="version 3 in Staging",
    )
