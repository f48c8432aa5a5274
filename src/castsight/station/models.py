"""Models: registered by their content sha256, made active per part type by an engineer's
act (audited with the user, the software version, the model and plan hashes), the
previous one deactivated and kept. The station inspects each part with the model active
for its part type when its inspection starts; a model whose folder no longer hashes to
its sha256 is refused at activation, and at load (its parts REVIEW NoTest with the
reason). Parameters are frozen: nothing learns in production.

An activation builds every affected cell's Inspector with the model first (the folder
verified, the plan and the detector mode checked against it) and, for a cell with a
``challenge`` part (a known NG part), inspects it: a model that sentences it OK is refused.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from castsight.errors import CastsightError, InputError
from castsight.station.accounts import User
from castsight.station.auth.roles import Role, allows
from castsight.station.exceptions import (
    ActivationRefusedError,
    ForbiddenError,
    ModelNotFoundError,
)
from castsight.station.settings import CellSettings, StationSettings
from castsight.station.store import models, repo
from castsight.station.store.mappers import as_utc
from castsight.station.store.tables import ModelActivationRow, ModelRow
from castsight.station.worker import (
    ModelRef,
    ModelRefusedError,
    build_cell_inspector,
    uses_model,
)

if TYPE_CHECKING:
    from castsight.pipeline import Inspector

log = logging.getLogger("castsight.station.models")


@dataclass(frozen=True)
class ModelInfo:
    """A registered model as the pages and the API show it."""

    id: int
    sha256: str
    path: str
    part_type: str | None
    registered_at: dt.datetime
    active_for: tuple[str, ...] = ()
    """The part types it is active for now."""


@dataclass(frozen=True)
class ActivationInfo:
    """One activation: which model, for which part type, by whom, until when."""

    id: int
    model_id: int
    sha256: str
    path: str
    part_type: str
    activated_at: dt.datetime
    activated_by: str
    deactivated_at: dt.datetime | None
    deactivated_by: str | None
    challenge: dict[str, str] = field(default_factory=dict)
    """Per cell with a challenge part, its sentence under the model (this activation)."""


def _model_info(row: ModelRow, active_for: tuple[str, ...] = ()) -> ModelInfo:
    return ModelInfo(
        row.id, row.sha256, row.path, row.part_type, as_utc(row.registered_at), active_for
    )


def _activation_info(
    row: ModelActivationRow, challenge: dict[str, str] | None = None
) -> ActivationInfo:
    return ActivationInfo(
        id=row.id,
        model_id=row.model_id,
        sha256=row.model.sha256,
        path=row.model.path,
        part_type=row.part_type,
        activated_at=as_utc(row.activated_at),
        activated_by=row.activated_by,
        deactivated_at=as_utc(row.deactivated_at) if row.deactivated_at else None,
        deactivated_by=row.deactivated_by,
        challenge=challenge or {},
    )


class ModelService:
    """Models and their activations on the station's store.

    Parameters
    ----------
    settings : StationSettings
        The cells (part types, plans, detector modes, challenge parts).
    sessions : sessionmaker
        A session per call.
    on_activate : callable, optional
        Told ``(cell, ModelRef)`` for each cell of a part type a model was activated for
        (the pool, so a worker started later builds it at once).
    """

    def __init__(
        self,
        settings: StationSettings,
        sessions: sessionmaker[Session],
        *,
        on_activate: Callable[[str, ModelRef], None] | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.on_activate = on_activate

    def active(self, session: Session, part_type: str) -> ModelRef | None:
        """The model active for ``part_type`` (on the caller's session), or None."""
        row = models.active_model(session, part_type)
        return None if row is None else ModelRef(row.path, row.sha256)

    def models(self) -> list[ModelInfo]:
        """Every registered model, newest first, with the part types it is active for."""
        with self.sessions() as session:
            active: dict[int, list[str]] = {}
            for part_type in sorted({c.part_type for c in self.settings.cells}):
                found = models.active_activation(session, part_type)
                if found is not None:
                    active.setdefault(found.model_id, []).append(part_type)
            return [
                _model_info(row, tuple(active.get(row.id, ())))
                for row in models.list_models(session)
            ]

    def history(self, *, limit: int = 100) -> list[ActivationInfo]:
        """Activations, newest first."""
        with self.sessions() as session:
            return [_activation_info(row) for row in models.activations(session, limit=limit)]

    def part_types(self) -> list[str]:
        """The part types the station's cells inspect."""
        return sorted({c.part_type for c in self.settings.cells})

    def register(self, path: str | Path, *, by: User) -> ModelInfo:
        """Register the model folder at ``path`` (verified by its content sha256).

        Raises
        ------
        ForbiddenError
            ``by`` is no engineer (or admin).
        InputError
            The folder is no castsight model, or its files do not match its manifest.
        """
        from castsight.model.artifact import load_artifact

        _engineer(by, "register models")
        folder = Path(path).expanduser()
        if not folder.is_absolute():
            raise InputError(folder, "give the model folder's absolute path")
        artifact = load_artifact(folder)
        with self.sessions() as session:
            row = models.register_model(
                session,
                sha256=artifact.content_sha256,
                path=str(folder),
                part_type=artifact.part_type,
            )
            repo.audit(
                session,
                action="model_registered",
                actor=by.name,
                detail={"model_id": row.id, "path": str(folder), "part_type": artifact.part_type},
                model_sha256=row.sha256,
            )
            session.commit()
            return _model_info(row)

    def activate(self, model_id: int, part_type: str, *, by: User) -> ActivationInfo:
        """Make model ``model_id`` the active one for ``part_type``: checked first (its
        folder hashes to its sha256, every cell of the part type builds its Inspector
        with it, no challenge part is sentenced OK), then the previous one deactivated,
        the act audited. A refusal is audited too.

        Raises
        ------
        ForbiddenError
            ``by`` is no engineer (or admin).
        ModelNotFoundError
            No model ``model_id``.
        ActivationRefusedError
            No cell inspects ``part_type``, a cell's detector uses no model, the model is
            already active, its folder changed, it does not fit the plan, or it passed a
            challenge part.
        """
        _engineer(by, "activate models")
        cells = [c for c in self.settings.cells if c.part_type == part_type]
        with self.sessions() as session:
            row = models.model_by_id(session, model_id)
            if row is None:
                raise ModelNotFoundError(None, f"no model {model_id}")
            ref = ModelRef(row.path, row.sha256)
            current = models.active_model(session, part_type)
        try:
            if not cells:
                types = ", ".join(self.part_types())
                raise ActivationRefusedError(
                    None, f"no cell inspects part type {part_type!r} (part types: {types})"
                )
            if current is not None and current.id == model_id:
                raise ActivationRefusedError(
                    None, f"model {ref.sha256[:12]} is already active for {part_type!r}"
                )
            plans, challenge = self._check(ref, cells)
        except ActivationRefusedError as err:
            with self.sessions() as session:
                repo.audit(
                    session,
                    action="model_activation_refused",
                    actor=by.name,
                    detail={"model_id": model_id, "part_type": part_type, "reason": str(err)},
                    model_sha256=ref.sha256,
                )
                session.commit()
            raise
        with self.sessions() as session:
            row = models.model_by_id(session, model_id)
            assert row is not None
            done = models.activate(session, row, part_type=part_type, by=by.name)
            repo.audit(
                session,
                action="model_activated",
                actor=by.name,
                detail={
                    "model_id": model_id,
                    "part_type": part_type,
                    "path": ref.path,
                    "previous_sha256": current.sha256 if current is not None else None,
                    "plans": plans,
                    "challenge": challenge,
                },
                plan_sha256=next(iter(plans.values())),
                model_sha256=ref.sha256,
            )
            session.commit()
            info = _activation_info(done, challenge)
        for cell in cells:
            if self.on_activate is not None:
                self.on_activate(cell.name, ref)
        log.warning("%s activated model %s for %s", by.name, ref.sha256[:12], part_type)
        return info

    def _check(
        self, ref: ModelRef, cells: list[CellSettings]
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Per cell its plan's sha256 and its challenge part's sentence under ``ref``.

        Raises
        ------
        ActivationRefusedError
        """
        plans: dict[str, str] = {}
        challenge: dict[str, str] = {}
        for cell in cells:
            if not uses_model(cell):
                raise ActivationRefusedError(
                    None, f"cell {cell.name}'s detector {cell.detector!r} uses no model"
                )
            try:
                inspector = build_cell_inspector(cell.model_copy(update={"model": None}), ref)
            except ModelRefusedError as err:
                raise ActivationRefusedError(None, str(err)) from None
            except CastsightError as err:
                raise ActivationRefusedError(None, f"cell {cell.name}: {err}") from None
            plans[cell.name] = inspector.plan.sha256
            if cell.challenge is not None:
                challenge[cell.name] = _challenge(inspector, cell.name, cell.challenge)
        return plans, challenge

    def start(self) -> dict[str, ModelRef | None]:
        """At the station's start: per cell, the model active for its part type. A part
        type with none gets the settings' model of its first cell that names one,
        activated by ``station`` (audited); later the settings' model is not read again
        (a different one is logged and ignored).

        Raises
        ------
        CastsightError
            A settings' model that cannot be loaded (the station does not start).
        """
        from castsight.model.artifact import load_artifact

        found: dict[str, ModelRef | None] = {}
        with self.sessions() as session:
            for cell in self.settings.cells:
                active = models.active_model(session, cell.part_type)
                if active is None and cell.model is not None and uses_model(cell):
                    artifact = load_artifact(cell.model)
                    active = models.register_model(
                        session,
                        sha256=artifact.content_sha256,
                        path=str(cell.model),
                        part_type=artifact.part_type,
                    )
                    models.activate(session, active, part_type=cell.part_type, by="station")
                    repo.audit(
                        session,
                        action="model_activated",
                        detail={
                            "model_id": active.id,
                            "part_type": cell.part_type,
                            "path": str(cell.model),
                            "source": "settings",
                        },
                        model_sha256=active.sha256,
                    )
                elif (
                    active is not None
                    and cell.model is not None
                    and Path(active.path).resolve() != cell.model.resolve()
                ):
                    log.warning(
                        "cell %s: the settings' model %s is not used: %s is active for "
                        "%s (activate another in the UI or the API)",
                        cell.name,
                        cell.model,
                        active.path,
                        cell.part_type,
                    )
                found[cell.name] = (
                    ModelRef(active.path, active.sha256) if active is not None else None
                )
            session.commit()
        return found


def _engineer(user: User, what: str) -> None:
    if not allows(user.role, Role.ENGINEER):
        raise ForbiddenError(None, f"{user.name} ({user.role}) may not {what}: needs engineer")


def _challenge(inspector: Inspector, cell: str, folder: Path) -> str:
    """The sentence of the cell's challenge part; refused when it is OK (an escape).

    Raises
    ------
    ActivationRefusedError
    """
    from castsight.io.parts import discover_parts

    try:
        parts = discover_parts([folder])
    except CastsightError as err:
        reason = f"cell {cell}: challenge part unreadable ({err})"
        raise ActivationRefusedError(None, reason) from None
    if len(parts) != 1:
        raise ActivationRefusedError(
            folder, f"cell {cell}: the challenge folder must hold one part, not {len(parts)}"
        )
    sentence = str(inspector.inspect(parts[0]).sentence)
    if sentence == "OK":
        raise ActivationRefusedError(
            None,
            f"cell {cell}: the model sentenced the challenge part {parts[0].serial} "
            "(a known NG part) OK",
        )
    return sentence


__all__ = ["ActivationInfo", "ModelInfo", "ModelService"]
