"""Model activation through the real application (TestClient: lifespan, worker processes,
store on SQLite and PostgreSQL): an engineer registers and activates, an inspector is
refused, every act is audited, a part after an activation carries the new model's hash,
a changed folder is refused at activation and at load (REVIEW NoTest), a challenge part
sentenced OK refuses the model, the settings' model is activated at a first start only."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from castsight import __version__
from castsight.app import TeachOptions, teach
from castsight.io import write_radiograph
from castsight.model.artifact import load_artifact
from castsight.radiograph import Radiograph
from castsight.station.auth.roles import Role
from castsight.station.main import create_app
from castsight.station.settings import CellSettings, StationSettings
from castsight.station.store.tables import AuditRow, ModelActivationRow
from tests.station.builders import ADMIN, CELL_AUTH, TOKEN, station_settings

SIZE = 160
CLEAN = np.full((SIZE, SIZE), 20000.0)
CLEAN[32:96, 80:] = 12000.0


def write_part(folder: Path, seed: int, *, defect: bool = False) -> Path:
    """A part folder with view V01 like the taught ones (a bright blob: a defect)."""
    px = CLEAN.copy()
    if defect:
        px[SIZE - 26 : SIZE - 16, 10:20] = 30000.0
    folder.mkdir(parents=True)
    image = np.random.default_rng(seed).poisson(px).astype(np.uint16)
    write_radiograph(Radiograph(image, view="V01"), folder / "V01.tif")
    return folder


@pytest.fixture(scope="module")
def taught(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two models taught from different good parts, and a known NG part."""
    root = tmp_path_factory.mktemp("models")
    found: dict[str, Path] = {}
    for name, seed in (("a", 0), ("b", 10)):
        for k in range(4):
            write_part(root / f"good-{name}" / f"G{k}", seed + k)
        found[name] = teach(TeachOptions((root / f"good-{name}",), root / f"model-{name}")).model
    found["ng"] = write_part(root / "ng" / "NG-1", 99, defect=True)
    found["good"] = write_part(root / "good-part" / "OK-1", 98)
    return found


def settings_for(tmp_path: Path, database_url: str, **cell: Any) -> StationSettings:
    base = station_settings(tmp_path, database_url)
    values: dict[str, Any] = {
        "name": "cell-1", "part_type": "generic", "detector": "auto", "token": TOKEN, **cell,
    }  # fmt: skip
    return base.model_copy(update={"cells": [CellSettings.model_validate(values)]})


def log_in(client: TestClient, name: str, password: str) -> str:
    """Log in; the session's CSRF token (from the queue page)."""
    answer = client.post("/login", data={"name": name, "password": password, "next": "/ui"})
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/ui").text)
    assert found is not None
    return found.group(1)


def add_users(client: TestClient) -> None:
    station = client.app.state.station  # type: ignore[attr-defined]
    admin = station.accounts.login(*ADMIN)
    for name, role in (("erin", Role.ENGINEER), ("ivan", Role.INSPECTOR), ("olga", Role.OPERATOR)):
        station.accounts.create_user(name=name, role=role, password=f"{name}-pass", by=admin)


def post_part(client: TestClient, serial: str, folder: Path) -> dict[str, Any]:
    files = [("views", ("V01.tif", (folder / "V01.tif").read_bytes(), "image/tiff"))]
    answer = client.post(
        "/api/parts", data={"serial": serial, "cell": "cell-1"}, files=files, headers=CELL_AUTH
    )
    assert answer.status_code == 201, answer.text
    part: dict[str, Any] = answer.json()
    return part


def audit(client: TestClient, action: str) -> list[AuditRow]:
    station = client.app.state.station  # type: ignore[attr-defined]
    with station.sessions() as session:
        query = select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)
        return list(session.scalars(query))


def changed_copy(model: Path, dest: Path) -> Path:
    """A copy of ``model`` to be edited later."""
    shutil.copytree(model, dest)
    return dest


def edit(model: Path) -> None:
    """Change one byte of a payload file (someone edited the model)."""
    payload = next(p for p in sorted(model.rglob("*.npz")))
    data = bytearray(payload.read_bytes())
    data[-1] ^= 0xFF
    payload.write_bytes(bytes(data))


@pytest.fixture
def client(tmp_path: Path, database_url: str) -> Iterator[TestClient]:
    app = create_app(settings_for(tmp_path, database_url))
    with TestClient(app, follow_redirects=False) as client:
        add_users(client)
        yield client


def test_an_engineer_activates_and_parts_after_it_carry_the_new_model(
    client: TestClient, taught: dict[str, Path], tmp_path: Path
) -> None:
    sha = {k: load_artifact(taught[k]).content_sha256 for k in ("a", "b")}
    before = post_part(client, "P-0", taught["ng"])
    assert before["sentence"]["model_sha256"] is None  # no model active yet

    csrf = log_in(client, "ivan", "ivan-pass")
    refused = client.post("/api/models", json={"path": str(taught["a"])},
                          headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert refused.status_code == 403

    csrf = log_in(client, "erin", "erin-pass")
    assert client.post("/api/models", json={"path": str(taught["a"])}).status_code == 403  # CSRF
    ids = {}
    for k in ("a", "b"):
        answer = client.post("/api/models", json={"path": str(taught[k])},
                             headers={"X-CSRF-Token": csrf})  # fmt: skip
        assert answer.status_code == 201, answer.text
        assert answer.json()["sha256"] == sha[k] and answer.json()["active_for"] == []
        ids[k] = answer.json()["id"]

    csrf_ivan = log_in(client, "ivan", "ivan-pass")
    answer = client.post(f"/api/models/{ids['a']}/activate", json={"part_type": "generic"},
                         headers={"X-CSRF-Token": csrf_ivan})  # fmt: skip
    assert answer.status_code == 403
    csrf = log_in(client, "erin", "erin-pass")
    answer = client.post(f"/api/models/{ids['a']}/activate", json={"part_type": "generic"},
                         headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert (answer.json()["sha256"], answer.json()["activated_by"]) == (sha["a"], "erin")
    assert post_part(client, "P-1", taught["ng"])["sentence"]["model_sha256"] == sha["a"]

    answer = client.post(f"/api/models/{ids['b']}/activate", json={"part_type": "generic"},
                         headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert answer.status_code == 200, answer.text
    part = post_part(client, "P-2", taught["ng"])
    assert part["sentence"]["model_sha256"] == sha["b"]
    assert part["record"]["model"]["sha256"] == sha["b"]
    again = client.post(f"/api/models/{ids['b']}/activate", json={"part_type": "generic"},
                        headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert again.status_code == 422 and "already active" in again.json()["detail"]

    models = {m["id"]: m for m in client.get("/api/models").json()}
    assert (models[ids["a"]]["active_for"], models[ids["b"]]["active_for"]) == ([], ["generic"])
    history = client.get("/api/models/activations").json()
    assert [(h["sha256"], h["deactivated_by"]) for h in history] == [
        (sha["b"], None), (sha["a"], "erin")]  # fmt: skip
    activated = audit(client, "model_activated")
    assert [(a.actor, a.model_sha256, a.software) for a in activated] == [
        ("erin", sha["a"], __version__), ("erin", sha["b"], __version__)]  # fmt: skip
    assert all(a.plan_sha256 and a.at for a in activated)
    assert activated[1].detail["previous_sha256"] == sha["a"]
    assert [a.actor for a in audit(client, "model_registered")] == ["erin", "erin"]


def test_a_changed_model_is_refused_at_activation_and_at_load(
    client: TestClient, taught: dict[str, Path], tmp_path: Path
) -> None:
    csrf = log_in(client, "erin", "erin-pass")
    headers = {"X-CSRF-Token": csrf}
    early = changed_copy(taught["a"], tmp_path / "early")
    late = changed_copy(taught["b"], tmp_path / "late")
    ids = [client.post("/api/models", json={"path": str(p)}, headers=headers).json()["id"]
           for p in (early, late)]  # fmt: skip

    edit(early)
    answer = client.post(f"/api/models/{ids[0]}/activate", json={"part_type": "generic"},
                         headers=headers)  # fmt: skip
    assert answer.status_code == 422 and "sha256 differs" in answer.json()["detail"]
    refused = audit(client, "model_activation_refused")
    assert [(r.actor, r.model_sha256) for r in refused] == [
        ("erin", load_artifact(taught["a"]).content_sha256)]  # fmt: skip
    assert client.get("/api/models/activations").json() == []

    answer = client.post(f"/api/models/{ids[1]}/activate", json={"part_type": "generic"},
                         headers=headers)  # fmt: skip
    assert answer.status_code == 200
    edit(late)  # after the activation, before any worker loaded it
    part = post_part(client, "P-3", taught["ng"])
    assert part["sentence"]["sentence"] == "REVIEW" and part["sentence"]["no_test"]
    assert "refused" in part["sentence"]["reasons"][0]
    assert "sha256 differs" in part["sentence"]["reasons"][0]
    assert part["sentence"]["model_sha256"] == load_artifact(taught["b"]).content_sha256


def test_the_models_page_registers_and_activates_with_csrf(
    client: TestClient, taught: dict[str, Path]
) -> None:
    csrf = log_in(client, "olga", "olga-pass")
    assert client.get("/ui/models").status_code == 403
    assert 'href="/ui/models"' not in client.get("/ui").text
    csrf = log_in(client, "erin", "erin-pass")
    page = client.get("/ui/models")
    assert page.status_code == 200 and "No model registered" in page.text
    no_csrf = client.post("/ui/models", data={"path": str(taught["a"])})
    assert no_csrf.status_code == 403
    answer = client.post("/ui/models", data={"path": str(taught["a"]), "csrf": csrf})
    assert answer.headers["location"] == "/ui/models?done=registered"
    bad = client.post("/ui/models", data={"path": "/no/such/model", "csrf": csrf})
    assert bad.status_code == 422 and "no such model folder" in bad.text
    model_id = client.get("/api/models").json()[0]["id"]
    answer = client.post(f"/ui/models/{model_id}/activate",
                         data={"part_type": "generic", "csrf": csrf})  # fmt: skip
    assert answer.headers["location"] == "/ui/models?done=activated"
    page = client.get("/ui/models?done=activated")
    assert "model activated" in page.text and str(taught["a"]) in page.text
    wrong = client.post(
        f"/ui/models/{model_id}/activate", data={"part_type": "wheel", "csrf": csrf}
    )
    assert wrong.status_code == 422 and "no cell inspects part type" in wrong.text


def test_a_challenge_part_sentenced_ok_refuses_the_model(
    tmp_path: Path, taught: dict[str, Path]
) -> None:
    for challenge, status in ((taught["good"].parent, 422), (taught["ng"].parent, 200)):
        url = f"sqlite:///{tmp_path / f'{challenge.name}.db'}"
        settings = settings_for(tmp_path / challenge.name, url, challenge=challenge)
        with TestClient(create_app(settings), follow_redirects=False) as client:
            add_users(client)
            csrf = log_in(client, "erin", "erin-pass")
            headers = {"X-CSRF-Token": csrf}
            found = client.post("/api/models", json={"path": str(taught["a"])}, headers=headers)
            answer = client.post(f"/api/models/{found.json()['id']}/activate",
                                 json={"part_type": "generic"}, headers=headers)  # fmt: skip
            assert answer.status_code == status, answer.text
            if status == 422:
                assert "challenge part OK-1 (a known NG part) OK" in answer.json()["detail"]
            else:
                assert answer.json()["challenge"] == {"cell-1": "NG"}


def test_the_settings_model_is_activated_at_a_first_start_only(
    tmp_path: Path, taught: dict[str, Path]
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    sha = {k: load_artifact(taught[k]).content_sha256 for k in ("a", "b")}
    with TestClient(create_app(settings_for(tmp_path, url, model=taught["a"]))) as client:
        assert post_part(client, "P-1", taught["ng"])["sentence"]["model_sha256"] == sha["a"]
        assert [(a.actor, a.detail["source"]) for a in audit(client, "model_activated")] == [
            ("station", "settings")]  # fmt: skip
    with TestClient(create_app(settings_for(tmp_path, url, model=taught["b"]))) as client:
        assert post_part(client, "P-2", taught["ng"])["sentence"]["model_sha256"] == sha["a"]
        assert len(audit(client, "model_activated")) == 1
        station = client.app.state.station  # type: ignore[attr-defined]
        with station.sessions() as session:
            assert len(session.scalars(select(ModelActivationRow)).all()) == 1
