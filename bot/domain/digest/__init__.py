"""The digest: its read model, how it is built, its schedules and subscriptions."""
