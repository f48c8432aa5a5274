"""The station's store: tables (SQLAlchemy 2), migrations (Alembic), repositories that
take a session, and the content-addressed image archive.

Engines are made by :func:`~castsight.station.store.engine.make_engine` when the station
starts, never at import.
"""
