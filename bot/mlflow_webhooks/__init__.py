"""MLflow registry webhooks: signature checks, payload parsing and the receiving route."""
