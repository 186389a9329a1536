"""Registry events: webhook deliveries, announcements, watched holders and the watch baseline.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_delivery",
        sa.Column("delivery_id", sa.String(), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_webhook_delivery_received_at", "webhook_delivery", ["received_at"])
    op.create_table(
        "registry_announcement",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("channel_id", sa.String(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("acted_by", sa.String(), nullable=True),
        sa.UniqueConstraint("key", name="uq_registry_announcement_key"),
    )
    op.create_table(
        "watched_holder",
        sa.Column("model_name", sa.String(), primary_key=True),
        sa.Column("target", sa.String(), primary_key=True),
        sa.Column("holders", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "registry_watch",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("since", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("registry_watch")
    op.drop_table("watched_holder")
    op.drop_table("registry_announcement")
    op.drop_index("ix_webhook_delivery_received_at", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
