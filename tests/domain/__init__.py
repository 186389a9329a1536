"""Service tests: names shared by the fixtures and the tests."""

MODEL = "churn-model"
REQUESTER = "U0ANN"
APPROVER = "U0BOB"
