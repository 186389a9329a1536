"""Alembic environment: runs on the connection that storage.db.init_db hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from storage import digest_models as _digest_models  # noqa: F401  (registers the tables)
from storage import event_models as _event_models  # noqa: F401  (registers the tables)
from storage import models as _models  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
