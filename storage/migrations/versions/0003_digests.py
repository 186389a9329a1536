"""Digest subscriptions and scheduled digest slots.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_subscription",
        sa.Column("channel_id", sa.String(), primary_key=True),
        sa.Column("crontab", sa.String(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("subscribed_by", sa.String(), nullable=False),
        sa.Column("subscribed_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "digest_slot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.String(), nullable=False),
        sa.Column("slot_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("as_of", UTCDateTime(), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.UniqueConstraint("channel_id", "slot_at", name="uq_digest_slot"),
    )
    op.create_index("ix_digest_slot_channel_id", "digest_slot", ["channel_id"])
    op.create_index("ix_digest_slot_status", "digest_slot", ["status"])


def downgrade() -> None:
    op.drop_table("digest_slot")
    op.drop_table("digest_subscription")
