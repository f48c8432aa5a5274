"""Models and their activations on a given session (the caller commits).

>>> from castsight.station.store.engine import make_engine, session_factory
>>> from castsight.station.store.migrate import upgrade
>>> engine = make_engine("sqlite://")
>>> _ = upgrade(engine)
>>> with session_factory(engine)() as session:
...     a = register_model(session, sha256="a" * 64, path="/m/a", part_type="wheel")
...     b = register_model(session, sha256="b" * 64, path="/m/b", part_type="wheel")
...     _ = activate(session, a, part_type="wheel", by="erin")
...     _ = activate(session, b, part_type="wheel", by="erin")
...     active_model(session, "wheel").path, [m.path for m in list_models(session)]
('/m/b', ['/m/b', '/m/a'])
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from castsight.station.store.repo import now
from castsight.station.store.tables import ModelActivationRow, ModelRow


def register_model(session: Session, *, sha256: str, path: str, part_type: str | None) -> ModelRow:
    """The model of ``sha256``, added if new (flushed: it has its id). A model known by
    its hash keeps its row; a new ``path`` replaces the old one (the folder moved)."""
    row = model_by_sha256(session, sha256)
    if row is None:
        row = ModelRow(sha256=sha256, path=path, part_type=part_type, registered_at=now())
        session.add(row)
        session.flush()
    elif row.path != path:
        row.path = path
    return row


def model_by_sha256(session: Session, sha256: str) -> ModelRow | None:
    """The model registered with content hash ``sha256``, or None."""
    found: ModelRow | None = session.scalars(
        select(ModelRow).where(ModelRow.sha256 == sha256)
    ).first()
    return found


def model_by_id(session: Session, model_id: int) -> ModelRow | None:
    """The model ``model_id``, or None."""
    return session.get(ModelRow, model_id)


def list_models(session: Session) -> list[ModelRow]:
    """Every registered model, newest first."""
    return list(session.scalars(select(ModelRow).order_by(ModelRow.id.desc())))


def active_activation(session: Session, part_type: str) -> ModelActivationRow | None:
    """The activation in force for ``part_type`` (with its model), or None."""
    query = (
        select(ModelActivationRow)
        .options(selectinload(ModelActivationRow.model))
        .where(
            ModelActivationRow.part_type == part_type,
            ModelActivationRow.deactivated_at.is_(None),
        )
        .order_by(ModelActivationRow.id.desc())
    )
    found: ModelActivationRow | None = session.scalars(query).first()
    return found


def active_model(session: Session, part_type: str) -> ModelRow | None:
    """The model active for ``part_type``, or None."""
    found = active_activation(session, part_type)
    return None if found is None else found.model


def activations(session: Session, *, limit: int = 100) -> list[ModelActivationRow]:
    """Activations, newest first (with their models)."""
    query = (
        select(ModelActivationRow)
        .options(selectinload(ModelActivationRow.model))
        .order_by(ModelActivationRow.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def activate(session: Session, model: ModelRow, *, part_type: str, by: str) -> ModelActivationRow:
    """Make ``model`` the active one for ``part_type``: the activation in force (if any)
    is deactivated, never deleted (flushed)."""
    stamp = now()
    for row in session.scalars(
        select(ModelActivationRow).where(
            ModelActivationRow.part_type == part_type,
            ModelActivationRow.deactivated_at.is_(None),
        )
    ):
        row.deactivated_at, row.deactivated_by = stamp, by
    row = ModelActivationRow(
        model_id=model.id, part_type=part_type, activated_at=stamp, activated_by=by
    )
    row.model = model
    session.add(row)
    session.flush()
    return row


__all__ = [
    "activate",
    "activations",
    "active_activation",
    "active_model",
    "list_models",
    "model_by_id",
    "model_by_sha256",
    "register_model",
]
