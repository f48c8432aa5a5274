"""Bad uploads get a clear 4xx and store nothing (no part row, no view row)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from castsight.station.main import create_app
from castsight.station.store.tables import PartRow, ViewRow
from tests.station.builders import CELL_AUTH, station_settings, view_bytes

TIFF = view_bytes(".tif")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("bad")
    settings = station_settings(tmp, f"sqlite:///{tmp / 'station.db'}", max_view_bytes=len(TIFF))
    with TestClient(create_app(settings), headers=CELL_AUTH) as client:
        yield client


def view(name: str = "V01.tif", data: bytes = TIFF) -> tuple[str, tuple[str, bytes, str]]:
    return ("views", (name, data, "application/octet-stream"))


CASES: list[tuple[str, dict[str, str], list[Any], int, str]] = [
    ("another cell", {"serial": "P1", "cell": "nope"}, [view()], 403, "not cell 'nope'"),
    (
        "wrong type",
        {"serial": "P1", "cell": "cell-1", "part_type": "wheel"},
        [view()],
        422,
        "inspects 'generic'",
    ),
    (
        "no cell, wrong type",
        {"serial": "P1", "part_type": "wheel"},
        [view()],
        422,
        "inspects 'generic'",
    ),
    ("no serial", {"cell": "cell-1"}, [view()], 422, "serial"),
    ("blank serial", {"serial": "  ", "cell": "cell-1"}, [view()], 422, "serial"),
    ("no views", {"serial": "P1", "cell": "cell-1"}, [], 422, "views"),
    (
        "truncated",
        {"serial": "P1", "cell": "cell-1"},
        [view(data=TIFF[: len(TIFF) // 2])],
        422,
        "V01.tif",
    ),
    ("oversized", {"serial": "P1", "cell": "cell-1"}, [view(data=TIFF + b"\0")], 413, "limit"),
    (
        "not an image",
        {"serial": "P1", "cell": "cell-1"},
        [view(data=b"hello" * 100)],
        415,
        "not a TIFF",
    ),
    (
        "jpeg",
        {"serial": "P1", "cell": "cell-1"},
        [view(data=b"\xff\xd8\xff\xe0" + b"0" * 99)],
        415,
        "not a TIFF",
    ),
    ("same view twice", {"serial": "P1", "cell": "cell-1"}, [view(), view()], 422, "unique"),
    (
        "second view bad",
        {"serial": "P1", "cell": "cell-1"},
        [view(), view("V02.tif", TIFF[:100])],
        422,
        "V02.tif",
    ),
]


def _count(client: TestClient, table: type[PartRow] | type[ViewRow]) -> int:
    with client.app.state.station.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


@pytest.mark.parametrize(
    ("name", "data", "files", "status", "said"), CASES, ids=[c[0] for c in CASES]
)
def test_refused_and_nothing_stored(
    client: TestClient, name: str, data: dict[str, str], files: list[Any], status: int, said: str
) -> None:
    answer = client.post("/api/parts", data=data, files=files or None)
    assert answer.status_code == status, answer.text
    assert said in answer.text
    assert _count(client, PartRow) == 0 and _count(client, ViewRow) == 0


def test_malformed_multipart_is_400(client: TestClient) -> None:
    answer = client.post(
        "/api/parts",
        content=b"--xyz\r\nContent-Disposition: form-da",
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert answer.status_code in (400, 422), answer.text
    assert _count(client, PartRow) == 0


# starlette's multipart parser leaves the half file's SpooledTemporaryFile to the collector
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_unfinished_upload_leaves_nothing(client: TestClient) -> None:
    """The body stops mid-file (the cell's connection dropped): refused, nothing stored."""
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="serial"\r\n\r\nP1\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="views"; filename="V01.tif"\r\n'
        b"Content-Type: image/tiff\r\n\r\n" + TIFF[:200]
    )
    answer = client.post(
        "/api/parts", content=body, headers={"content-type": "multipart/form-data; boundary=xyz"}
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert _count(client, PartRow) == 0
