"""Models are activated per part type by an engineer (the settings' model only at a
first start): one row per activation, the previous one deactivated and kept.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_activations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("part_type", sa.String(length=100), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.String(length=100), nullable=False),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deactivated_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_id"], ["models.id"], name=op.f("fk_model_activations_model_id_models")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_activations")),
    )
    op.create_index(
        op.f("ix_model_activations_model_id"), "model_activations", ["model_id"], unique=False
    )
    op.create_index(
        op.f("ix_model_activations_part_type"), "model_activations", ["part_type"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_model_activations_part_type"), table_name="model_activations")
    op.drop_index(op.f("ix_model_activations_model_id"), table_name="model_activations")
    op.drop_table("model_activations")
