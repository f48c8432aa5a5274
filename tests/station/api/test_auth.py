"""No anonymous writes: a part upload needs its cell's token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from castsight.station.main import create_app
from tests.station.builders import TOKEN, station_settings, view_bytes


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = station_settings(tmp_path, f"sqlite:///{tmp_path / 's.db'}")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": f"Basic {TOKEN}"}],
)
def test_an_upload_without_the_cells_token_is_refused(
    client: TestClient, headers: dict[str, str]
) -> None:
    files = [("views", ("V01.tif", view_bytes(), "image/tiff"))]
    answer = client.post(
        "/api/parts", data={"serial": "P1", "cell": "cell-1"}, files=files, headers=headers
    )
    assert answer.status_code == 401 and "token" in answer.json()["detail"]
    assert client.get("/api/parts").json() == []
