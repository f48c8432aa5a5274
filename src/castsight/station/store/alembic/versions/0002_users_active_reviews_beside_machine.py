"""Users can be deactivated (never deleted: the audit trail names them); a review keeps
the machine's sentence it saw and whether it overturned it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    with op.batch_alter_table("reviews") as batch:
        batch.add_column(sa.Column("machine_sentence", sa.String(length=10), nullable=True))
        batch.add_column(
            sa.Column("overturned", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("reviews") as batch:
        batch.drop_column("overturned")
        batch.drop_column("machine_sentence")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("active")
