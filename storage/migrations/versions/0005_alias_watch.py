"""What alias-mode digests noticed: since when every alias is recorded, and outside changes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alias_watch",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("since", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "alias_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("noticed_at", UTCDateTime(), nullable=False),
        sa.Column("model_name", sa.String(), nullable=False),
        sa.Column("alias", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("previous_version", sa.Integer(), nullable=True),
    )
    op.create_index("ix_alias_change_noticed_at", "alias_change", ["noticed_at"])


def downgrade() -> None:
    op.drop_index("ix_alias_change_noticed_at", table_name="alias_change")
    op.drop_table("alias_change")
    op.drop_table("alias_watch")
