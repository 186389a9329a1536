"""Who ran the command line that filed a request.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("promotion_request", sa.Column("filed_from", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("promotion_request") as table:
        table.drop_column("filed_from")
