"""The DICOM C-STORE intake: a real pynetdicom SCU sends castsight-written DICONDE views
over loopback; a complete series is received, inspected and sentenced as over HTTP; a
series missing a view ends REVIEW (NoTest) "missing view(s)"; an instance the station
cannot take is answered with a failure status and leaves nothing behind."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from fastapi.testclient import TestClient
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE
from sqlalchemy import select

from castsight.io import write_radiograph
from castsight.io.diconde import DX_FOR_PROCESSING
from castsight.radiograph import Radiograph
from castsight.station import dicom
from castsight.station.dicom import DicomIntake
from castsight.station.intake import PartUpload
from castsight.station.main import create_app
from castsight.station.settings import DicomSettings, StationSettings
from castsight.station.store.tables import AuditRow
from tests.station.builders import RecordingPublisher, station_settings

BASIC_TEXT_SR = "1.2.840.10008.5.1.4.1.1.88.11"


def diconde(
    serial: str | None,
    view: str,
    series: str | None,
    *,
    part_type: str | None = "generic",
    seed: int = 0,
) -> Dataset:
    """A view written by castsight's DICONDE writer, in ``series`` (None: the series the
    writer gives it, one per part serial)."""
    px = np.random.default_rng(seed).poisson(np.full((64, 64), 20000.0)).astype(np.uint16)
    radiograph = Radiograph(px, part_serial=serial, part_type=part_type, view=view)
    with tempfile.TemporaryDirectory() as folder:
        ds = pydicom.dcmread(write_radiograph(radiograph, Path(folder) / f"{view}.dcm"))
    if series is not None:
        ds.SeriesInstanceUID = series
    return ds


def text_report(series: str) -> Dataset:
    """A DICOM data set with no image: a Basic Text SR."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = BASIC_TEXT_SR
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = series
    ds.PatientID = "P-SR"
    ds.PatientName = "generic"
    ds.Modality = "SR"
    return ds


def send(port: int, *datasets: Dataset) -> list[int]:
    """Each data set's C-STORE status, over one association from the cell's SCU."""
    ae = AE(ae_title="CELL-1")
    ae.add_requested_context(DX_FOR_PROCESSING, ExplicitVRLittleEndian)
    ae.add_requested_context(BASIC_TEXT_SR, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port, ae_title="CASTSIGHT")
    assert assoc.is_established
    try:
        return [int(assoc.send_c_store(ds).Status) for ds in datasets]
    finally:
        assoc.release()


def dicom_settings(tmp_path: Path, **dicom_changes: Any) -> StationSettings:
    """The test station with its SCP on a free loopback port; cell-1 expects V01, V02."""
    settings = station_settings(tmp_path, f"sqlite:///{tmp_path / 's.db'}")
    cell = settings.cells[0].model_copy(update={"expected_views": ["V01", "V02"]})
    values = {"enabled": True, "port": 0, "poll_s": 0.05, **dicom_changes}
    return settings.model_copy(
        update={"cells": [cell], "dicom": DicomSettings.model_validate(values)}
    )


def wait_for(predicate: Any, timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_a_pushed_series_is_sentenced_and_an_incomplete_one_is_review(
    tmp_path: Path,
) -> None:
    settings = dicom_settings(tmp_path, series_timeout_s=1.5)
    spool = settings.dicom.spool(settings.storage)
    published = RecordingPublisher()
    whole, partial = generate_uid(), generate_uid()
    with TestClient(create_app(settings, publishers=[published])) as client:
        intake = client.app.state.dicom  # type: ignore[attr-defined]
        assert isinstance(intake, DicomIntake)
        statuses = send(
            intake.port,
            diconde("P-D1", "V01", whole, seed=1),
            diconde("P-D2", "V01", partial, seed=3),  # V02 never comes
            diconde("P-D1", "V02", whole, seed=2),
            text_report(generate_uid()),
        )
        assert statuses == [dicom.SUCCESS] * 3 + [dicom.NOT_AN_IMAGE]
        messages = published.wait(2, timeout=60)
        by_serial = {m.serial: m for m in messages}
        assert set(by_serial) == {"P-D1", "P-D2"}
        got = client.get(f"/api/parts/{by_serial['P-D1'].part_id}").json()
        late = client.get(f"/api/parts/{by_serial['P-D2'].part_id}").json()
        parts = client.get("/api/parts").json()
    assert got["state"] == "sentenced" and got["cell"] == "cell-1"
    assert got["part_type"] == "generic"
    assert sorted((v["name"], v["filename"]) for v in got["views"]) == [
        ("V01", "V01.dcm"),
        ("V02", "V02.dcm"),
    ]
    assert got["sentence"]["sentence"] in {"OK", "NG", "REVIEW"}
    assert not got["sentence"]["no_test"]
    assert late["sentence"]["sentence"] == "REVIEW" and late["sentence"]["no_test"]
    assert late["sentence"]["reasons"][0].startswith("missing view(s): V02")
    assert [v["name"] for v in late["views"]] == ["V01"]
    assert sorted(p["serial"] for p in parts) == ["P-D1", "P-D2"]  # not the SR
    processed = sorted(p.name for p in (spool / "processed").iterdir())
    assert processed == sorted(
        [f"{by_serial['P-D1'].part_id}-{whole}", f"{by_serial['P-D2'].part_id}-{partial}"]
    )
    assert [p.name for p in spool.iterdir() if not p.name.startswith(".")] == ["processed"]


class Recorder:
    """Stands in for the store: what would be received and scheduled."""

    def __init__(self) -> None:
        self.uploads: list[PartUpload] = []
        self.scheduled: list[tuple[int, str | None]] = []

    def receive(self, upload: PartUpload) -> int:
        self.uploads.append(upload)
        return len(self.uploads)

    def schedule(self, part_id: int, not_tested: str | None) -> None:
        self.scheduled.append((part_id, not_tested))


@pytest.fixture
def scp(tmp_path: Path) -> Iterator[tuple[DicomIntake, Recorder]]:
    """The SCP alone on a free loopback port; cell-1 expects V01 and V02."""
    recorder = Recorder()
    intake = DicomIntake(
        dicom_settings(tmp_path), {"cell-1": ["V01", "V02"]}, recorder.receive, recorder.schedule
    )
    intake.start()
    try:
        yield intake, recorder
    finally:
        intake.stop()


def series_folders(intake: DicomIntake) -> list[Path]:
    return [p for p in intake.spool.iterdir() if not p.name.startswith(".")]


def test_instances_it_cannot_take_get_a_failure_status_and_leave_nothing(
    scp: tuple[DicomIntake, Recorder], caplog: pytest.LogCaptureFixture
) -> None:
    intake, recorder = scp
    series = generate_uid()
    statuses = send(
        intake.port,
        text_report(series),
        diconde(None, "V01", series),  # no serial
        diconde("P-X", "V01", series, part_type="wheel"),  # no cell inspects wheels
        diconde("P-X", "V01", series, part_type=None),  # no part type
        diconde("P-X", "../V01", series),  # a view name that is a path
    )
    assert statuses == [dicom.NOT_AN_IMAGE] + [dicom.CANNOT_UNDERSTAND] * 4
    assert series_folders(intake) == []
    assert list((intake.spool / dicom.INCOMING).iterdir()) == []
    assert intake.due() == [] and recorder.uploads == []
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 5
    assert "not an image" in refusals[0] and "no part serial (PatientID" in refusals[1]
    assert "'wheel'" in refusals[2] and "no part type" in refusals[3]
    assert "no usable view name" in refusals[4]


def test_an_acknowledged_instance_is_on_disk_and_a_series_completes_once(
    scp: tuple[DicomIntake, Recorder],
) -> None:
    intake, recorder = scp
    series = generate_uid()
    v01, v02 = diconde("P-Y", "V01", series, seed=1), diconde("P-Y", "V02", series, seed=2)
    other_v01 = diconde("P-Y", "V01", series, seed=5)
    assert send(intake.port, v01, v01, other_v01) == [
        dicom.SUCCESS,
        dicom.SUCCESS,  # a retransmission: already held
        dicom.CANNOT_UNDERSTAND,  # the same view with other pixels
    ]
    [folder] = series_folders(intake)
    assert sorted(p.name for p in folder.iterdir()) == [".series.json", "V01.dcm"]
    assert pydicom.dcmread(folder / "V01.dcm").PatientID == "P-Y"
    assert intake.due() == []  # not complete, not timed out
    assert send(intake.port, v02) == [dicom.SUCCESS]
    [(due, info, missing)] = intake.due()
    assert (due, info.serial, info.cell, missing) == (folder, "P-Y", "cell-1", None)
    assert intake.take(due, info) == 1
    [upload] = recorder.uploads
    assert (upload.serial, upload.cell) == ("P-Y", "cell-1")
    assert sorted(v.filename for v in upload.views) == ["V01.dcm", "V02.dcm"]
    assert send(intake.port, v02, other_v01) == [dicom.SUCCESS, dicom.CANNOT_UNDERSTAND]
    assert series_folders(intake) == [intake.spool / "processed"]


def test_views_castsight_wrote_apart_complete_one_series(
    scp: tuple[DicomIntake, Recorder],
) -> None:
    """Each view written on its own by castsight's writer, sent as it is: one series."""
    intake, recorder = scp
    views = [diconde("P-OWN", "V01", None, seed=1), diconde("P-OWN", "V02", None, seed=2)]
    assert views[0].SeriesInstanceUID == views[1].SeriesInstanceUID
    assert send(intake.port, *views) == [dicom.SUCCESS] * 2
    [(folder, info, missing)] = intake.due()
    assert (folder.name, info.serial, missing) == (views[0].SeriesInstanceUID, "P-OWN", None)
    assert intake.take(folder, info) == 1
    assert [sorted(v.filename for v in u.views) for u in recorder.uploads] == [
        ["V01.dcm", "V02.dcm"]
    ]


def test_a_late_instance_after_a_restart_opens_no_second_part(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A series taken as a part, the station restarted, then an instance of that series
    comes: a retransmission is answered Success and dropped, another view is refused
    with a log line; no series folder, no second part with the serial."""
    recorder = Recorder()
    settings = dicom_settings(tmp_path)

    def started() -> DicomIntake:
        intake = DicomIntake(
            settings, {"cell-1": ["V01", "V02"]}, recorder.receive, recorder.schedule
        )
        intake.start()
        return intake

    series = generate_uid()
    v01, v02 = diconde("P-L", "V01", series, seed=1), diconde("P-L", "V02", series, seed=2)
    intake = started()
    try:
        assert send(intake.port, v01, v02) == [dicom.SUCCESS] * 2
        [(folder, info, _)] = intake.due()
        assert intake.take(folder, info) == 1
    finally:
        intake.stop()
    intake = started()  # the station restarted: nothing of the series in memory
    try:
        late = diconde("P-L", "V03", series, seed=3)
        other_v02 = diconde("P-L", "V02", series, seed=4)
        statuses = send(intake.port, v02, late, other_v02)
        assert statuses == [dicom.SUCCESS] + [dicom.CANNOT_UNDERSTAND] * 2
        assert intake.due() == []
    finally:
        intake.stop()
    assert series_folders(intake) == [intake.spool / "processed"]
    assert [u.serial for u in recorder.uploads] == ["P-L"]
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 2 and all("came after its series" in m for m in refusals)
    assert "view V03" in refusals[0] and series in refusals[0]


def test_a_cell_without_expected_views_cannot_take_dicom_parts(tmp_path: Path) -> None:
    recorder = Recorder()
    intake = DicomIntake(
        dicom_settings(tmp_path), {"cell-1": None}, recorder.receive, recorder.schedule
    )
    intake.start()
    try:
        statuses = send(intake.port, diconde("P-Z", "V01", generate_uid()))
        assert statuses == [dicom.CANNOT_UNDERSTAND]
    finally:
        intake.stop()
    assert series_folders(intake) == []


def test_the_scp_is_off_by_default_and_its_spool_is_relative_to_the_settings_file(
    tmp_path: Path,
) -> None:
    from castsight.station.settings import load_settings

    path = tmp_path / "station.yaml"
    path.write_text(
        "cells: [{name: c1, part_type: generic}]\n"
        "dicom: {enabled: true, ae_title: XRAY-1, spool_dir: spool}\n",
        encoding="utf-8",
    )
    settings = load_settings(path)
    assert settings.dicom.spool(settings.storage) == tmp_path / "spool"
    assert (settings.dicom.ae_title, settings.dicom.port) == ("XRAY-1", 11112)
    default = StationSettings.model_validate({"cells": [{"name": "c1", "part_type": "t"}]})
    assert not default.dicom.enabled
    assert default.dicom.spool(default.storage) == Path("castsight-data/dicom-spool")


def receptions(client: TestClient) -> list[tuple[str, int | None]]:
    """The audit trail's parts received (again), oldest first: action, part id."""
    station = client.app.state.station  # type: ignore[attr-defined]
    with station.sessions() as session:
        query = select(AuditRow.action, AuditRow.part_id).where(
            AuditRow.action.startswith("part_received")
        )
        return [(a, p) for a, p in session.execute(query.order_by(AuditRow.id))]


def test_a_part_x_rayed_again_in_a_new_series_is_a_new_inspection(tmp_path: Path) -> None:
    """The same serial in a new series (new series and study UIDs, other images), after
    a restart, is a second part with its own sentence, as over HTTP or from a watched
    folder; a late instance of the first series is still refused, a retransmission of
    it dropped."""
    settings = dicom_settings(tmp_path)
    spool = settings.dicom.spool(settings.storage)
    published = RecordingPublisher()
    first, again = generate_uid(), generate_uid()
    v01, v02 = diconde("P-R", "V01", first, seed=1), diconde("P-R", "V02", first, seed=2)
    x_rayed_again = [diconde("P-R", v, again, seed=s) for v, s in (("V01", 3), ("V02", 4))]
    for ds in x_rayed_again:
        ds.StudyInstanceUID = generate_uid()
    with TestClient(create_app(settings, publishers=[published])) as client:
        intake = client.app.state.dicom  # type: ignore[attr-defined]
        assert send(intake.port, v01, v02) == [dicom.SUCCESS] * 2
        [one] = published.wait(1, timeout=60)
    with TestClient(create_app(settings, publishers=[published])) as client:  # restarted
        intake = client.app.state.dicom  # type: ignore[attr-defined]
        assert send(intake.port, *x_rayed_again) == [dicom.SUCCESS] * 2
        _, two = published.wait(2, timeout=60)
        late = diconde("P-R", "V03", first, seed=5)
        assert send(intake.port, v02, late) == [dicom.SUCCESS, dicom.CANNOT_UNDERSTAND]
        parts = client.get("/api/parts").json()
        latest = client.get("/api/parts/P-R/sentence").json()
        audit = receptions(client)
    assert (one.serial, two.serial) == ("P-R", "P-R") and one.part_id != two.part_id
    assert sorted(p["id"] for p in parts) == sorted([one.part_id, two.part_id])
    assert all(p["state"] == "sentenced" and p["sentence"] is not None for p in parts)
    assert latest["part_id"] == two.part_id
    assert audit == [("part_received", one.part_id), ("part_received", two.part_id)]
    processed = sorted(p.name for p in (spool / "processed").iterdir())
    assert processed == sorted([f"{one.part_id}-{first}", f"{two.part_id}-{again}"])
    assert [p.name for p in spool.iterdir() if not p.name.startswith(".")] == ["processed"]
