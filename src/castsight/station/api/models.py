"""Models over the API: list them and their activations (a logged-in user), register a
model folder and activate a model for a part type (an engineer, with the session's CSRF
token in ``X-CSRF-Token``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from castsight.station.api.deps import CsrfDep, EngineerDep, OperatorDep, StationDep
from castsight.station.models import ActivationInfo, ModelInfo

router = APIRouter(prefix="/api/models", tags=["models"])


class ModelOut(BaseModel):
    """A registered model."""

    id: int
    sha256: str
    path: str
    part_type: str | None
    registered_at: dt.datetime
    active_for: list[str]


class ActivationOut(BaseModel):
    """One activation of a model for a part type."""

    id: int
    model_id: int
    sha256: str
    path: str
    part_type: str
    activated_at: dt.datetime
    activated_by: str
    deactivated_at: dt.datetime | None
    deactivated_by: str | None
    challenge: dict[str, str]
    """Per cell with a challenge part, its sentence under the model."""


class RegisterIn(BaseModel):
    """A model folder to register (an absolute path on the station's computer)."""

    path: str = Field(min_length=1)


class ActivateIn(BaseModel):
    """The part type a model is activated for."""

    part_type: str = Field(min_length=1)


def model_out(info: ModelInfo) -> ModelOut:
    """The API shape of ``info``."""
    return ModelOut(
        id=info.id,
        sha256=info.sha256,
        path=info.path,
        part_type=info.part_type,
        registered_at=info.registered_at,
        active_for=list(info.active_for),
    )


def activation_out(info: ActivationInfo) -> ActivationOut:
    """The API shape of ``info``."""
    return ActivationOut(**asdict(info))


@router.get("")
async def list_models(station: StationDep, user: OperatorDep) -> list[ModelOut]:
    """Registered models, newest first, with the part types each is active for."""
    return [model_out(m) for m in await run_in_threadpool(station.models.models)]


@router.get("/activations")
async def list_activations(station: StationDep, user: OperatorDep) -> list[ActivationOut]:
    """Activations, newest first (the previous ones deactivated, kept)."""
    return [activation_out(a) for a in await run_in_threadpool(station.models.history)]


@router.post("", status_code=201, dependencies=[CsrfDep])
async def register_model(station: StationDep, user: EngineerDep, body: RegisterIn) -> ModelOut:
    """Register a model folder, verified by its content sha256 (audited)."""
    info = await run_in_threadpool(station.models.register, body.path, by=user)
    return model_out(info)


@router.post("/{model_id}/activate", dependencies=[CsrfDep])
async def activate_model(
    station: StationDep, user: EngineerDep, model_id: int, body: ActivateIn
) -> ActivationOut:
    """Activate a model for a part type: checked (folder hash, plan, detector, challenge
    part), the previous model deactivated, the act audited; parts whose inspection
    starts after it use the model."""
    info = await run_in_threadpool(station.models.activate, model_id, body.part_type, by=user)
    return activation_out(info)


__all__ = ["router"]
