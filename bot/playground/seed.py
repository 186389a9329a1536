"""The playground's registry: sample models with runs and metrics, some already serving."""

from __future__ import annotations

import random
import warnings
from collections.abc import Mapping

from bot.sample_models import SAMPLE_METRICS, add_sample_version, register_sample_model
from bot.settings import Settings

#: name -> (description, metrics per version, version in production, version in staging)
SAMPLE_MODELS: Mapping[str, tuple[str, tuple[Mapping[str, float], ...], int, int]] = {
    "churn-model": ("Predicts which customers will churn.", SAMPLE_METRICS, 1, 2),
    "fraud-detector": (
        "Flags card payments that look fraudulent.",
        ({"precision": 0.912, "recall": 0.774}, {"precision": 0.925, "recall": 0.801}),
        1,
        2,
    ),
}


def seed_registry(settings: Settings) -> list[str]:
    """Register the sample models and put one version of each in production, one in staging.

    These are the registry's starting state, set up directly in MLflow as a team's earlier
    work would have been; everything after this goes through promobot.
    """
    import mlflow  # noqa: F401  (MLflow sets its log level on import; quiet it afterwards)
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=settings.mlflow_tracking_uri)
    for name, (description, metrics, production, staging) in SAMPLE_MODELS.items():
        register_sample_model(
            settings.mlflow_tracking_uri, name, description=description, metrics=metrics
        )
        if settings.registry_mode == "aliases":
            client.set_registered_model_alias(name, settings.production_alias, str(production))
            client.set_registered_model_alias(name, settings.staging_alias, str(staging))
        else:
            with warnings.catch_warnings():  # stages are deprecated; promobot uses them on purpose
                warnings.simplefilter("ignore", FutureWarning)
                client.transition_model_version_stage(name, str(production), "Production")
                client.transition_model_version_stage(name, str(staging), "Staging")
    return list(SAMPLE_MODELS)


def register_new_version(settings: Settings, model: str, rng: random.Random) -> int:
    """A training pipeline's new version of `model`, with plausible run metrics."""
    base = SAMPLE_MODELS.get(model, ("", SAMPLE_METRICS, 0, 0))[1][-1]
    metrics = {
        key: round(min(0.999, value + rng.uniform(-0.02, 0.03)), 3) for key, value in base.items()
    }
    return add_sample_version(settings.mlflow_tracking_uri, model, metrics)
