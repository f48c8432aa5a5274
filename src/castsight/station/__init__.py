"""The station: castsight as a service beside the X-ray cell (``castsight serve``).

Parts arrive by HTTP (a part's views in one multipart request), are stored durably
(SQLAlchemy 2 + Alembic; SQLite by default, PostgreSQL in production; images archived
by content), inspected in worker processes with the cell's active model and plan
(:mod:`castsight.app`), sentenced (a timeout or an error is REVIEW, never OK) and
signalled to the line (MQTT; a :class:`~castsight.station.signals.Publisher` each).

=====================  ===========================================================
``settings``           :class:`StationSettings` from a YAML file and the environment
``main``               :func:`create_app`: the FastAPI application
``lifecycle``          start (schema at head, workers, publishers, unfinished parts) and stop
``api``                the HTTP edge: routes, dependencies, errors
``service``            receive -> store -> inspect -> store -> signal
``worker``             what runs in a worker process: one part through the Inspector
``store``              tables, migrations, repositories, the image archive
``signals``            the Publisher protocol and its MQTT implementation
``demo``               a simulated cell feeding parts (``castsight serve --demo``)
=====================  ===========================================================

Imports point down: api -> service -> store | signals | worker -> castsight.app.
Nothing below the station imports it or a web, database or fieldbus library.
"""
