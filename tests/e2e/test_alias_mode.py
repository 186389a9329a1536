"""Alias mode over HTTP: signed requests in, fake Slack and a real MLflow registry out.

`churn` has v1 on @champion (set before promobot was installed; its stage is Production,
left over from the stage days), v2 on @challenger, v3 and v4 on no alias.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import APPROVER, REQUESTER, all_text, buttons

STAGES = {1: "Production", 2: "None", 3: "None", 4: "None"}


@pytest.fixture
def served(serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any) -> Served:
    seed_model(
        mlflow_client,
        "churn",
        versions=4,
        stages={1: "Production"},
        metrics={
            1: {"accuracy": 0.81},
            2: {"accuracy": 0.88},
            3: {"accuracy": 0.7},
            4: {"accuracy": 0.6},
        },
    )
    mlflow_client.set_registered_model_alias("churn", "champion", "1")
    mlflow_client.set_registered_model_alias("churn", "challenger", "2")
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri, database_url=database_url, registry_mode="aliases"
    )
    result: Served = serve_app(settings)
    return result


def _say(served: Served, text: str, user: str = REQUESTER) -> dict[str, Any]:
    """Send a command and return the reply that arrived at its response_url."""
    tag = f"r{time.monotonic_ns()}"
    assert served.slack.command(user, text, tag=tag).status == 200
    call = served.fake.wait_for("response_url", lambda c: c.path.endswith(f"/{tag}"))[0]
    return call.body


def _lines(reply: dict[str, Any]) -> list[str]:
    """Every line of every section and context block of a reply."""
    lines: list[str] = []
    for block in reply.get("blocks") or []:
        if block["type"] == "section":
            lines.extend(block["text"]["text"].split("\n"))
        elif block["type"] == "context":
            lines.extend(e["text"] for e in block["elements"])
    return lines


def _approve_latest_card(served: Served, cards: int = 1, updates: int = 1) -> Any:
    card = served.fake.wait_for("chat.postMessage", count=cards)[-1]
    request_id = str(buttons(card.body["blocks"])[0]["value"])
    assert served.slack.click(APPROVER, "promobot_approve", request_id).status == 200
    return served.fake.wait_for("chat.update", count=updates)[-1]


def _aliases(client: Any) -> dict[str, int]:
    return {a: int(v) for a, v in client.get_registered_model("churn").aliases.items()}


def _stages(client: Any) -> dict[int, str]:
    found = client.search_model_versions("name='churn'")
    return {int(v.version): str(v.current_stage) for v in found}


def test_listing_shows_aliases_metrics_and_archived_mark_with_production_holder_first(
    served: Served, mlflow_client: Any
) -> None:
    archived = _say(served, "archive churn 4")["text"]
    assert "archived: its aliases were removed and it is tagged promobot.archived" in archived

    listing = [line for line in _lines(_say(served, "list churn")) if line.startswith("*v")]

    assert [line.split("*")[1] for line in listing] == ["v1", "v4", "v3", "v2"]
    v1, v4, v3, v2 = listing
    assert v1.startswith("*v1* · *@champion* · created") and v1.endswith("accuracy=0.81")
    assert v2.startswith("*v2* · *@challenger* · created") and v2.endswith("accuracy=0.88")
    assert v3.startswith("*v3* · no alias · created") and v3.endswith("accuracy=0.7")
    assert v4.startswith("*v4* · _archived_ · created") and v4.endswith("accuracy=0.6")
    assert "Production" not in "\n".join(listing)  # alias mode shows no stages


def test_listing_all_models_shows_the_production_and_staging_alias_holders(
    served: Served, mlflow_client: Any
) -> None:
    seed_model(mlflow_client, "fraud", versions=2)
    mlflow_client.set_registered_model_alias("fraud", "champion", "2")

    lines = _lines(_say(served, "list"))

    assert "*churn* · @champion: v1 · @challenger: v2" in lines
    assert "*fraud* · @champion: v2 · @challenger: –" in lines


def test_a_direct_alias_move_applies_at_once(served: Served, mlflow_client: Any) -> None:
    reply = _say(served, "churn 3 @challenger")

    assert reply["text"] == (
        f"Model version '3' of model *churn* now has alias 'challenger' (taken from v2), "
        f"by <@{REQUESTER}>."
    )
    assert _aliases(mlflow_client) == {"champion": 1, "challenger": 3}
    assert served.fake.of("chat.postMessage") == []
    assert _stages(mlflow_client) == STAGES


def test_a_protected_alias_is_requested_and_moved_on_approval(
    served: Served, mlflow_client: Any
) -> None:
    reply = _say(served, "churn 2 production better on the holdout set")

    assert "Request #1" in reply["text"] and "@challenger → @champion" in reply["text"]
    card = served.fake.wait_for("chat.postMessage")[0]
    text = all_text([card])
    assert "*churn* v2: *@challenger* → *@champion*" in text
    assert "On approval, v1 loses @champion." in text
    assert "*Candidate v2*: accuracy=0.88" in text and "*@champion now v1*: accuracy=0.81" in text
    assert _aliases(mlflow_client) == {"champion": 1, "challenger": 2}

    update = _approve_latest_card(served)

    assert "Approved and applied" in all_text([update]) and buttons(update.body["blocks"]) == []
    assert "@champion taken from: v1." in all_text([update])
    assert _aliases(mlflow_client) == {"champion": 2, "challenger": 2}
    assert _stages(mlflow_client) == STAGES  # alias mode never touches a stage
    tags = mlflow_client.get_model_version("churn", "2").tags
    assert (tags["promobot.requested_by"], tags["promobot.approved_by"]) == (REQUESTER, APPROVER)


def test_production_needs_the_staging_alias_first(served: Served, mlflow_client: Any) -> None:
    reply = _say(served, "churn 3 @champion better on the holdout set")

    assert reply["text"] == (
        ":warning: Version 3 of 'churn' holds no alias, not @challenger. Move it to "
        "@challenger and test it there before asking for @champion."
    )
    assert served.fake.of("chat.postMessage") == []
    assert _aliases(mlflow_client) == {"champion": 1, "challenger": 2}


def test_rollback_returns_to_the_holder_from_before_promobot(
    served: Served, mlflow_client: Any
) -> None:
    _say(served, "churn 2 production better on the holdout set")
    _approve_latest_card(served)
    assert _aliases(mlflow_client)["champion"] == 2

    _say(served, "rollback 'churn' better on the holdout set")

    card = served.fake.wait_for("chat.postMessage", count=2)[-1]
    assert "*Rollback of @champion*" in all_text([card])
    assert "*churn* v1: *no alias* → *@champion*" in all_text([card])
    assert "On approval, v2 loses @champion." in all_text([card])
    _approve_latest_card(served, cards=2, updates=2)
    assert _aliases(mlflow_client) == {"champion": 1, "challenger": 2}


def test_archiving_the_production_holder_needs_approval(served: Served, mlflow_client: Any) -> None:
    _say(served, "archive churn 1")

    card = served.fake.wait_for("chat.postMessage")[0]
    assert "This takes production down: no version will hold @champion." in all_text([card])
    assert _aliases(mlflow_client)["champion"] == 1
    _approve_latest_card(served)
    assert _aliases(mlflow_client) == {"challenger": 2}
    assert mlflow_client.get_model_version("churn", "1").tags["promobot.archived"] == "true"
    assert _stages(mlflow_client) == STAGES


def test_history_shows_who_asked_who_approved_and_the_displaced_version(
    served: Served,
) -> None:
    _say(served, "churn 2 @champion better on the holdout set")
    _approve_latest_card(served)

    lines = [line.split(" · ", 1)[1] for line in _lines(_say(served, "history churn"))[1:]]

    assert lines == [
        f"*applied* · v1 @champion → – · <@{APPROVER}> · #1 · "
        "lost @champion: replaced by version 2",
        f"*applied* · v2 @challenger → @champion · <@{APPROVER}> · #1",
        f"*approved* · v2 @challenger → @champion · <@{APPROVER}> · #1",
        f"*requested* · v2 @challenger → @champion · <@{REQUESTER}> · #1 · "
        "promote: better on the holdout set",
    ]


HOSTILE_TARGETS = {
    "@<!channel>": "&lt;!channel&gt;' is not a valid alias name",
    "@&lt;!here&gt;": "&lt;!here&gt;' is not a valid alias name",  # as Slack escapes it
    f"@<@{APPROVER}>": f"&lt;@{APPROVER}&gt;' is not a valid alias name",
    "@<https://evil.example|click>": "&lt;https://evil.example|click&gt;' is not a valid",
    "@*bold*_x_": "'*bold*_x_' is not a valid alias name",
    "@latest": "'latest' is reserved by MLflow",
    "@Champion": "'@Champion' differs from '@champion' only in case",
}


def test_hostile_alias_text_is_refused_cleanly_and_never_echoed_unescaped(
    served: Served, mlflow_client: Any
) -> None:
    for target, says in HOSTILE_TARGETS.items():
        reply = _say(served, f"churn 3 {target}")
        assert reply["text"].startswith(":warning: ") and says in reply["text"], target
        for raw in ("<!channel>", "<!here>", f"<@{APPROVER}>", "<https://"):
            assert raw not in json.dumps(reply, ensure_ascii=False), (target, raw)

    assert served.fake.of("chat.postMessage") == []
    assert _aliases(mlflow_client) == {"champion": 1, "challenger": 2}
    assert "Nothing recorded yet" in json.dumps(_say(served, "history churn"))
