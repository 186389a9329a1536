"""Sample registered models with training runs and metrics, for `demo` and `playground`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

#: Metrics of the sample training runs, one dict per version (version 1 first).
SAMPLE_METRICS: tuple[Mapping[str, float], ...] = (
    {"accuracy": 0.861, "f1": 0.802, "auc": 0.903},
    {"accuracy": 0.894, "f1": 0.851, "auc": 0.931},
    {"accuracy": 0.879, "f1": 0.833, "auc": 0.917},
)
SAMPLE_EXPERIMENT = "promobot-demo"


def free_model_name(taken: set[str], base: str = "churn-model") -> str:
    """`base`, or `base-2`, `base-3`, ... : the first name not in `taken`."""
    return next(n for n in (base, *(f"{base}-{i}" for i in range(2, 10_000))) if n not in taken)


def register_sample_model(
    tracking_uri: str,
    name: str,
    *,
    description: str,
    metrics: Sequence[Mapping[str, float]] = SAMPLE_METRICS,
) -> None:
    """Create model `name` with one version per entry of `metrics`, each from its own run."""
    from mlflow import MlflowClient

    MlflowClient(tracking_uri=tracking_uri).create_registered_model(name, description=description)
    for run_metrics in metrics:
        add_sample_version(tracking_uri, name, run_metrics)


def add_sample_version(tracking_uri: str, name: str, metrics: Mapping[str, float]) -> int:
    """Log a finished training run with `metrics` and register its model as a new version."""
    import mlflow
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    experiment = client.get_experiment_by_name(SAMPLE_EXPERIMENT)
    experiment_id = (
        experiment.experiment_id
        if experiment is not None
        else client.create_experiment(SAMPLE_EXPERIMENT)
    )
    number = len(client.search_model_versions(f"name = '{_quoted(name)}'")) + 1
    run = client.create_run(experiment_id, run_name=f"{name}-train-{number}")
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, key, value)
    client.set_terminated(run.info.run_id)
    created = client.create_model_version(
        name,
        source=f"{run.info.artifact_uri}/model",
        run_id=run.info.run_id,
        description=f"Gradient boosting, training run {number}.",
    )
    return int(created.version)


def _quoted(name: str) -> str:
    """A name inside a single-quoted MLflow filter string."""
    return name.replace("\\", "\\\\").replace("'", "\\'")
