"""Targets instead of stages, apply heartbeats, and the alias holders promobot last saw.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("promotion_request") as batch:
        batch.alter_column("from_stage", new_column_name="from_target")
        batch.alter_column("to_stage", new_column_name="to_target")
        batch.alter_column("archive_versions", new_column_name="displaced_versions")
        batch.add_column(sa.Column("heartbeat", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("decision_event") as batch:
        batch.alter_column("from_stage", new_column_name="from_target")
        batch.alter_column("to_stage", new_column_name="to_target")
    op.create_table(
        "alias_record",
        sa.Column("model_name", sa.String(), primary_key=True),
        sa.Column("alias", sa.String(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("by_promobot", sa.Boolean(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alias_record")
    with op.batch_alter_table("decision_event") as batch:
        batch.alter_column("from_target", new_column_name="from_stage")
        batch.alter_column("to_target", new_column_name="to_stage")
    with op.batch_alter_table("promotion_request") as batch:
        batch.drop_column("heartbeat")
        batch.alter_column("displaced_versions", new_column_name="archive_versions")
        batch.alter_column("to_target", new_column_name="to_stage")
        batch.alter_column("from_target", new_column_name="from_stage")
