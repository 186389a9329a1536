"""The signature check agrees with MLflow's own signing function, and nothing else passes."""

from __future__ import annotations

import json

from mlflow.webhooks.delivery import _generate_hmac_signature

from bot.mlflow_webhooks.signature import is_valid, sign

BODY = json.dumps({"entity": "model_version", "action": "created", "data": {"name": "é"}})


def test_mlflows_signature_is_accepted_and_matches_ours() -> None:
    theirs = _generate_hmac_signature("s3cret", "d-1", "1764500000", BODY)
    assert theirs.startswith("v1,")
    assert sign("s3cret", "d-1", "1764500000", BODY.encode()) == theirs
    assert is_valid("s3cret", "d-1", "1764500000", BODY.encode(), theirs)
    assert is_valid("s3cret", "d-1", "1764500000", BODY.encode(), f"v1,AAAA {theirs}")


def test_any_change_to_id_timestamp_body_or_secret_fails() -> None:
    good = _generate_hmac_signature("s3cret", "d-1", "1764500000", BODY)
    assert not is_valid("other", "d-1", "1764500000", BODY.encode(), good)
    assert not is_valid("s3cret", "d-2", "1764500000", BODY.encode(), good)
    assert not is_valid("s3cret", "d-1", "1764500001", BODY.encode(), good)
    assert not is_valid("s3cret", "d-1", "1764500000", BODY.encode() + b" ", good)
    assert not is_valid("s3cret", "d-1", "1764500000", BODY.encode(), "sha256=" + good[3:])
    assert not is_valid("s3cret", "d-1", "1764500000", BODY.encode(), "v1,ü")
