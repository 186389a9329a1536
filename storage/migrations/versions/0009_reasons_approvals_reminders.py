"""Request reasons, several approvals per request, and reminder slots.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("promotion_request") as batch:
        batch.add_column(sa.Column("reason", sa.String(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("required_approvals", sa.Integer(), nullable=False, server_default="1")
        )
        batch.add_column(sa.Column("approvals", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("approved_by", sa.String(), nullable=False, server_default=""))
    op.create_table(
        "request_approval",
        sa.Column("request_id", sa.Integer(), primary_key=True),
        sa.Column("approver", sa.String(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "request_reminder",
        sa.Column("request_id", sa.Integer(), primary_key=True),
        sa.Column("slot", sa.String(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(), nullable=False, server_default="claimed"),
    )


def downgrade() -> None:
    op.drop_table("request_reminder")
    op.drop_table("request_approval")
    with op.batch_alter_table("promotion_request") as batch:
        batch.drop_column("approved_by")
        batch.drop_column("approvals")
        batch.drop_column("required_approvals")
        batch.drop_column("reason")
