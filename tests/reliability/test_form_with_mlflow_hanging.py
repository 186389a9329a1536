"""The request form keeps Slack's 3 seconds when MLflow accepts connections and never answers.

The selects' options and the submission are answered in time; the options say MLflow is not
answering, and the modal says "working on it", then what happened, and nothing is filed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.slack.blocks import request_form as form
from storage import queries
from tests.conftest import Served, make_settings
from tests.hanging_server import HangingServer

ACK_LIMIT = 3.0
MESSAGE_LIMIT = 10.0


def _view_json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def test_options_and_submission_answer_in_time_while_mlflow_hangs(
    serve_app: Any, database_url: str
) -> None:
    with HangingServer(lifetime=60) as hanging:
        served: Served = serve_app(
            make_settings(mlflow_tracking_uri=hanging.url, database_url=database_url)
        )
        started = time.monotonic()
        assert served.slack.command("U0ANN", "").status == 200
        opened = served.fake.wait_for("views.open")[0]
        assert opened.at - started < ACK_LIMIT  # nothing is read from MLflow before opening
        view = json.loads(_view_json(opened.body["view"]))

        started = time.monotonic()
        reply = served.slack.interaction(
            {
                "type": "block_suggestion",
                "user": {"id": "U0ANN"},
                "action_id": form.ACTION_MODEL,
                "value": "ch",
                "view": {**view, "id": "V0FORM"},
            }
        )
        options_seconds = time.monotonic() - started
        assert reply.status == 200 and options_seconds < ACK_LIMIT, options_seconds
        [option] = json.loads(reply.body)["options"]
        assert option["value"] == form.UNAVAILABLE
        assert "MLflow is not answering" in option["text"]["text"]

        values = {
            form.BLOCK_MODEL: {form.ACTION_MODEL: {"selected_option": {"value": "churn"}}},
            form.version_block_id("churn"): {
                form.ACTION_VERSION: {"selected_option": {"value": "3"}}
            },
            form.BLOCK_TARGET: {form.ACTION_TARGET: {"selected_option": {"value": "Staging"}}},
            form.BLOCK_REASON: {form.ACTION_REASON: {"value": ""}},
        }
        started = time.monotonic()
        submitted = served.slack.interaction(
            {
                "type": "view_submission",
                "user": {"id": "U0ANN"},
                "view": {**view, "id": "V0FORM", "hash": "1.a", "state": {"values": values}},
            }
        )
        submit_seconds = time.monotonic() - started
        assert submitted.status == 200 and submit_seconds < ACK_LIMIT, submit_seconds
        answer = json.loads(submitted.body)
        assert answer["response_action"] == "update"
        assert "Working on it" in json.dumps(answer["view"])

        update = served.fake.wait_for("views.update", timeout=MESSAGE_LIMIT)[0]
        assert update.at - started < MESSAGE_LIMIT
        assert update.body["view_id"] == "V0FORM"
        assert "MLflow is not answering" in _view_json(update.body["view"])
    with served.runtime.promotions.context.unit_of_work() as session:
        assert queries.list_open_requests(session=session) == []
