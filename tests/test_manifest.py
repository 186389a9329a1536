"""`promobot manifest` and slack-manifest.yml: valid YAML that matches what the app serves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Served, make_settings, seed_model
from tests.e2e.conftest import APPROVER, REQUESTER, buttons

ROOT = Path(__file__).resolve().parents[1]
#: The bot scope each Slack Web API method promobot calls needs (from Slack's method docs).
METHOD_SCOPES = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "usergroups.users.list": "usergroups:read",
    "users.info": "users:read",
    "chat.getPermalink": None,
    "conversations.open": "im:write",
    # views.* need no scope: a trigger id (open) or the app's own Home tab (publish) is enough.
    "views.open": None,
    "views.update": None,
    "views.publish": None,
}


def _manifest(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PROMOBOT_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "manifest", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )


def _all_keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _all_keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _all_keys(v)}
    return set()


def test_printed_manifest_has_the_command_interactivity_and_scopes() -> None:
    result = _manifest("--url", "https://promobot.example.com/", PROMOBOT_COMMAND="/deploy")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/deploy"
    assert command["url"] == "https://promobot.example.com/slack/events"
    events_url = "https://promobot.example.com/slack/events"
    assert manifest["settings"]["interactivity"] == {
        "is_enabled": True,
        "request_url": events_url,
        "message_menu_options_url": events_url,  # the request form's selects
    }
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["oauth_config"]["scopes"]["bot"] == [
        "commands",
        "chat:write",
        "chat:write.public",
        "usergroups:read",
        "users:read",
        "im:write",
    ]
    assert manifest["settings"]["event_subscriptions"] == {
        "request_url": events_url,
        "bot_events": ["app_home_opened"],
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    [shortcut] = manifest["features"]["shortcuts"]
    assert (shortcut["name"], shortcut["type"]) == ("Request a model promotion", "global")


def test_socket_mode_manifest_has_no_urls() -> None:
    result = _manifest("--socket")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert manifest["features"]["slash_commands"][0]["command"] == "/promote"
    assert not {"url", "request_url"} & _all_keys(manifest)


@pytest.mark.parametrize("args", [[], ["--url", "http://promobot.example.com"], ["--url", "x"]])
def test_http_manifest_needs_an_https_address(args: list[str]) -> None:
    result = _manifest(*args)
    assert result.returncode == 2
    assert "--url" in result.stderr and "Traceback" not in result.stderr


def test_repository_manifest_is_the_generated_one() -> None:
    generated = _manifest("--url", "https://YOUR-HOST")
    assert generated.returncode == 0, generated.stderr
    assert (ROOT / "slack-manifest.yml").read_text() == generated.stdout


def test_manifest_matches_the_listeners_and_slack_methods_the_app_uses(
    serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any
) -> None:
    """Its command is answered, its interactivity is needed, its scopes cover every call."""
    from bot.manifest import build_manifest

    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    settings = make_settings(
        mlflow_tracking_uri=tracking_uri,
        database_url=database_url,
        command="/deploy",
        approvers=["S0APPROVERS"],
    )
    served: Served = serve_app(settings)
    served.fake.usergroups["S0APPROVERS"] = [APPROVER]
    manifest = build_manifest(command=settings.command, url="https://h.example", socket=False)
    served.slack.command_name = manifest["features"]["slash_commands"][0]["command"]

    assert (
        served.slack.command(REQUESTER, "churn 2 production better on the holdout set").status
        == 200
    )
    card = served.fake.wait_for("chat.postMessage")[0]
    # Block actions are registered, so interactivity must be on; the click is handled.
    click = served.slack.click(
        APPROVER, "promobot_approve", str(buttons(card.body["blocks"])[0]["value"])
    )
    assert click.status == 200 and manifest["settings"]["interactivity"]["is_enabled"]
    served.fake.wait_for("chat.update")
    # The shortcut, the Home tab event and the form's options are handled too.
    [shortcut] = manifest["features"]["shortcuts"]
    opened = served.slack.interaction(
        {
            "type": "shortcut",
            "callback_id": shortcut["callback_id"],
            "trigger_id": "1.2.3",
            "user": {"id": REQUESTER},
        }
    )
    assert opened.status == 200
    served.fake.wait_for("views.open")
    [event] = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert served.slack.event({"type": event, "user": APPROVER, "tab": "home"}).status == 200
    served.fake.wait_for("views.publish")
    # A command the manifest does not declare is not handled by the app (Bolt answers 404).
    served.slack.command_name = "/promote"
    assert served.slack.command(REQUESTER, "help").status == 404

    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    called = {c.method for c in served.fake.calls if c.method != "response_url"}
    assert {"chat.postMessage", "chat.update", "usergroups.users.list"} <= called
    assert called <= set(METHOD_SCOPES), f"add the scope of {called - set(METHOD_SCOPES)}"
    assert {METHOD_SCOPES[m] for m in called} - {None} <= scopes
    assert "commands" in scopes  # needed for any slash command


def test_manifest_scopes_cover_the_default_approver_check(
    serve_app: Any, tracking_uri: str, database_url: str, mlflow_client: Any
) -> None:
    """With no PROMOBOT_APPROVERS, a click asks Slack who the clicker is (users.info)."""
    from bot.manifest import build_manifest

    seed_model(mlflow_client, "churn", versions=2, stages={1: "Production", 2: "Staging"})
    served: Served = serve_app(
        make_settings(mlflow_tracking_uri=tracking_uri, database_url=database_url)
    )
    assert (
        served.slack.command(REQUESTER, "churn 2 production better on the holdout set").status
        == 200
    )
    card = served.fake.wait_for("chat.postMessage")[0]
    served.slack.click(APPROVER, "promobot_approve", str(buttons(card.body["blocks"])[0]["value"]))
    served.fake.wait_for("chat.update")

    manifest = build_manifest(command="/promote", url="https://h.example", socket=False)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    called = {c.method for c in served.fake.calls if c.method != "response_url"}
    assert {"users.info", "auth.test"} <= called
    assert called <= set(METHOD_SCOPES), f"add the scope of {called - set(METHOD_SCOPES)}"
    assert {METHOD_SCOPES[m] for m in called} - {None} <= scopes
