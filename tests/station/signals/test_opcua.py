"""The OPC UA server on loopback, read back with an asyncua Client: the publisher alone,
then the station serving it (a part sent over HTTP, a timeout: REVIEW NoTest)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from castsight.station.main import create_app
from castsight.station.settings import OpcuaSettings, SignalSettings, StorageSettings
from castsight.station.signals import SentenceMessage
from castsight.station.signals.opcua import OpcuaPublisher
from tests.station.builders import ADMIN, CELL_AUTH, station_settings, view_bytes
from tests.station.signals.opcua_clients import client_cert, free_port, read

T0 = dt.datetime(2026, 12, 2, 10, 0, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2026, 12, 2, 10, 0, 7, 250000, tzinfo=dt.UTC)
NAMESPACE = "urn:castsight:test"


@pytest.fixture
def opcua() -> OpcuaSettings:
    """A lab's server: no security (the secured ones: test_opcua_security.py)."""
    return OpcuaSettings(
        enabled=True, port=free_port(), namespace=NAMESPACE, security_policies=["None"]
    )


@pytest.fixture
def storage(tmp_path: Path) -> StorageSettings:
    return StorageSettings(data_dir=tmp_path / "data")


@pytest.fixture
def publisher(opcua: OpcuaSettings, storage: StorageSettings) -> Iterator[OpcuaPublisher]:
    publisher = OpcuaPublisher(opcua, ["cell-1", "cell-2"], storage=storage)
    yield publisher
    publisher.close()


def message(**changes: Any) -> SentenceMessage:
    values: dict[str, Any] = {
        "part_id": 41, "serial": "P-41", "cell": "cell-1", "sentence": "NG", "no_test": False,
        "reasons": ("pore 3.1 mm > 2.0 mm", "V02: pore cluster"), "received_at": T0,
        "sentenced_at": T1, "software": "0.1.0", "plan_sha256": "ab" * 32,
        "model_sha256": "cd" * 32, **changes,
    }  # fmt: skip
    return SentenceMessage(**values)


def utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def test_a_result_is_read_back(opcua: OpcuaSettings, publisher: OpcuaPublisher) -> None:
    before = read(opcua, "cell-1")
    assert (before["SystemState"], before["ResultState"], before["ResultId"]) == (
        "Operational", 0, "")  # fmt: skip
    publisher.publish(message())
    got = read(opcua, "cell-1")
    assert got["ResultId"] == "41" and got["PartId"] == "P-41"
    assert (got["Sentence"], got["SentenceCode"], got["ResultState"], got["NoTest"]) == (
        "NG", 2, 1, False)  # fmt: skip
    assert got["Reasons"] == ["pore 3.1 mm > 2.0 mm", "V02: pore cluster"]
    assert (utc(got["CreationTime"]), utc(got["ProcessingEndTime"])) == (T0, T1)
    assert (got["SoftwareVersion"], got["PlanHash"], got["ModelHash"]) == (
        "0.1.0", "ab" * 32, "cd" * 32)  # fmt: skip
    assert read(opcua, "cell-2")["ResultId"] == ""  # another cell's result is its own


def test_no_test_is_review_failed_never_ok(opcua: OpcuaSettings, publisher: OpcuaPublisher) -> None:
    publisher.publish(message(sentence="OK"))
    publisher.publish(message(part_id=42, serial="P-42", sentence="REVIEW", no_test=True,
                              reasons=("inspection timed out after 5 s",),
                              model_sha256=None))  # fmt: skip
    got = read(opcua, "cell-1")
    assert (got["ResultId"], got["Sentence"], got["SentenceCode"], got["NoTest"]) == (
        "42", "REVIEW", 3, True)  # fmt: skip
    assert got["ResultState"] == 4 and got["Reasons"] == ["inspection timed out after 5 s"]
    assert got["ModelHash"] == ""


def test_a_taken_port_fails_to_start(
    opcua: OpcuaSettings, storage: StorageSettings, publisher: OpcuaPublisher
) -> None:
    from castsight.errors import CastsightError

    with pytest.raises(CastsightError, match="OPC UA server not started"):
        OpcuaPublisher(opcua, ["cell-1"], storage=storage)


def test_a_start_past_its_timeout_fails(opcua: OpcuaSettings, storage: StorageSettings) -> None:
    """Starting waits for the server to serve (the port bound, SystemState written), up
    to ``start_timeout_s``, and no longer: a server that is not up by then is an error."""
    from castsight.errors import CastsightError

    late = opcua.model_copy(update={"start_timeout_s": 0.001})
    with pytest.raises(CastsightError, match=r"OPC UA server not started \(TimeoutError"):
        OpcuaPublisher(late, ["cell-1"], storage=storage)
    publisher = OpcuaPublisher(opcua, ["cell-1"], storage=storage)  # the port was left free
    try:
        assert read(opcua, "cell-1")["SystemState"] == "Operational"
    finally:
        publisher.close()


def test_the_station_serves_its_sentences(tmp_path: Path) -> None:
    """A part sent over HTTP to a station whose inspection times out: REVIEW NoTest on
    OPC UA with the reason, as stored; read over Basic256Sha256 SignAndEncrypt by a
    station user (its certificate generated in the data folder)."""
    opcua = OpcuaSettings(
        enabled=True, port=free_port(), namespace=NAMESPACE, login="station-users"
    )
    settings = station_settings(
        tmp_path,
        f"sqlite:///{tmp_path / 's.db'}",
        inspection_timeout_s=0.001,
        signals=SignalSettings(opcua=opcua),
    )
    cert = client_cert(tmp_path / "client", "hmi")
    with TestClient(create_app(settings), headers=CELL_AUTH) as client:
        answer = client.post(
            "/api/parts?wait=false",
            data={"serial": "P-OPC", "cell": "cell-1"},
            files=[("views", ("V01.tif", view_bytes(), "image/tiff"))],
        )
        url = answer.headers["location"]
        end = time.monotonic() + 60
        while client.get(url).json()["state"] != "sentenced" and time.monotonic() < end:
            time.sleep(0.05)
        part = client.get(url).json()
        got = read(opcua, "cell-1", cert, ADMIN)
    assert got["SystemState"] == "Operational"
    assert (got["ResultId"], got["PartId"]) == (str(part["id"]), "P-OPC")
    assert (got["Sentence"], got["SentenceCode"], got["NoTest"], got["ResultState"]) == (
        "REVIEW", 3, True, 4)  # fmt: skip
    assert got["Reasons"] == part["sentence"]["reasons"] == ["inspection timed out after 0.001 s"]
    assert got["PlanHash"] == part["sentence"]["plan_sha256"]
    assert (tmp_path / "data" / "opcua" / "server-certificate.der").is_file()
