"""When each channel last asked for a digest, so `/promote digest` runs once a minute.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "on_demand_digest",
        sa.Column("channel_id", sa.String(), primary_key=True),
        sa.Column("posted_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("on_demand_digest")
