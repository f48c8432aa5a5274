"""Alembic environment: run by :func:`castsight.station.store.migrate.upgrade`, which
hands over the connection (``config.attributes["connection"]``); no URL of its own."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from castsight.station.store.tables import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through castsight.station.store.migrate")
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
