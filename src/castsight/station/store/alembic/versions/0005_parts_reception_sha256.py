"""Each part keeps the digest of what identifies its reception (serial, cell, the views'
names and sha256s), unique: the same upload is stored once by the database's word, also
when two copies arrive at the same moment and both pass the look for the part already
stored. Parts already stored get theirs; a part stored twice before (the race this
closes) keeps it on its first copy only, the later copies keep None (nothing deleted).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("castsight.station.store.migrate")

BATCH = 1000
"""Parts digested per round (memory stays bounded on a large store)."""

parts = sa.table(
    "parts",
    sa.column("id", sa.Integer()),
    sa.column("serial", sa.String()),
    sa.column("cell", sa.String()),
    sa.column("reception_sha256", sa.String()),
)
views = sa.table(
    "views",
    sa.column("part_id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("sha256", sa.String()),
)


def reception_digest(serial: str, cell: str, pairs: list[list[str]]) -> str:
    """:func:`castsight.station.store.repo.reception_digest` as it is at this revision
    (kept here: a migration must not change when the application's code does)."""
    text = json.dumps([serial, cell, sorted(pairs)], separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest_stored_parts(conn: sa.Connection) -> None:
    """Give every stored part its reception digest, ``BATCH`` parts at a time."""
    update = (
        parts.update()
        .where(parts.c.id == sa.bindparam("part"))
        .values(reception_sha256=sa.bindparam("digest"))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(parts.c.id, parts.c.serial, parts.c.cell)
            .where(parts.c.id > last)
            .order_by(parts.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        ids = [row.id for row in rows]
        pairs: defaultdict[int, list[list[str]]] = defaultdict(list)
        query = sa.select(views.c.part_id, views.c.name, views.c.sha256).where(
            views.c.part_id.in_(ids)
        )
        for part_id, name, sha256 in conn.execute(query):
            pairs[part_id].append([name, sha256])
        conn.execute(
            update,
            [
                {"part": row.id, "digest": reception_digest(row.serial, row.cell, pairs[row.id])}
                for row in rows
            ],
        )
        last = ids[-1]


def upgrade() -> None:
    op.add_column("parts", sa.Column("reception_sha256", sa.String(length=64), nullable=True))
    conn = op.get_bind()
    _digest_stored_parts(conn)
    first = sa.select(sa.func.min(parts.c.id)).group_by(parts.c.reception_sha256)
    twice = conn.execute(
        parts.update().where(parts.c.id.not_in(first)).values(reception_sha256=None)
    ).rowcount
    if twice:
        log.warning(
            "%d part(s) had been stored twice (the same serial, cell and images): "
            "each first copy holds the reception, the later copies are kept",
            twice,
        )
    op.create_index(op.f("ix_parts_reception_sha256"), "parts", ["reception_sha256"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_parts_reception_sha256"), table_name="parts")
    op.drop_column("parts", "reception_sha256")
