"""A user's sessions end when their password is reset: each session cookie carries the
user's session generation when it was issued, and a reset counts it up.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+): a batch rebuild of ``users`` drops the table
    # under foreign keys, which SQLite refuses once a review names a user
    op.drop_column("users", "session_generation")
