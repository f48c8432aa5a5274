"""Seeded builders for the station's tests: views as file bytes, settings, clients."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from castsight.io import write_radiograph
from castsight.radiograph import Radiograph
from castsight.station.settings import (
    AuthSettings,
    CellSettings,
    StationSettings,
    StorageSettings,
)
from castsight.station.signals import SentenceMessage


def view_bytes(suffix: str = ".tif", *, seed: int = 0, size: int = 96) -> bytes:
    """A small 16-bit radiograph of even exposure, as the bytes of a file of ``suffix``."""
    rng = np.random.default_rng(seed)
    px = rng.poisson(np.full((size, size), 20000.0)).astype(np.uint16)
    with tempfile.TemporaryDirectory() as folder:
        path = write_radiograph(Radiograph(px), Path(folder) / f"view{suffix}")
        return path.read_bytes()


TOKEN = "cell-1-token-0123456789"
"""cell-1's upload token in :func:`station_settings`."""
CELL_AUTH = {"Authorization": f"Bearer {TOKEN}"}
"""Headers of a request sent by cell-1."""


ADMIN = ("root", "root-pass-1")
"""The bootstrap admin of :func:`station_settings`: name, password."""


def station_settings(tmp_path: Path, database_url: str, **changes: object) -> StationSettings:
    """One cell (generic plan, local detector), one worker, storage in ``tmp_path``, the
    bootstrap admin :data:`ADMIN`."""
    cell = CellSettings(
        name="cell-1", part_type="generic", detector="local", token=SecretStr(TOKEN)
    )
    storage = StorageSettings(data_dir=tmp_path / "data", database_url=database_url)
    values: dict[str, object] = {
        "cells": [cell],
        "storage": storage,
        "workers": 1,
        "inspection_timeout_s": 60.0,
        "auth": AuthSettings(bootstrap_admin=ADMIN[0], bootstrap_password=SecretStr(ADMIN[1])),
        **changes,
    }
    return StationSettings.model_validate(values)


class RecordingPublisher:
    """Keeps what it is told (beside the real MQTT publisher, never instead)."""

    name = "recording"

    def __init__(self) -> None:
        self.messages: list[SentenceMessage] = []
        self._told = threading.Condition()

    def publish(self, message: SentenceMessage) -> None:
        with self._told:
            self.messages.append(message)
            self._told.notify_all()

    def wait(self, count: int, timeout: float = 10.0) -> list[SentenceMessage]:
        """The messages once ``count`` have come (the sentence is stored, then published:
        a reader of the store may see it a moment before the line is told)."""
        with self._told:
            self._told.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def close(self) -> None:
        pass


def seed_part(
    settings: StationSettings,
    *,
    serial: str,
    sentence: str,
    views: int = 2,
) -> int:
    """A part already inspected, in the store of ``settings`` (schema upgraded): its views
    archived, a record with one pore per view, the machine's ``sentence``; its id."""
    import datetime as dt

    from castsight.station.store import migrate, repo
    from castsight.station.store.archive import ImageArchive
    from castsight.station.store.engine import make_engine, session_factory
    from castsight.station.store.mappers import MachineSentence

    engine = make_engine(settings.storage.database())
    migrate.upgrade(engine)
    archive = ImageArchive(settings.storage.archive())
    new = []
    for k in range(views):
        data = view_bytes(seed=k)
        new.append(repo.NewView(f"V{k + 1:02d}", f"V{k + 1:02d}.tif", archive.put(data), len(data)))
    record = {
        "serial": serial,
        "sentence": sentence,
        "findings": [
            {"rule": "max_size", "zone": "whole", "view": "V01", "sentence": sentence,
             "message": f"V01#0: pore too large ({sentence})"}
        ],
        "views": [
            {"view": v.name, "status": "inspected", "indications": [
                {"id": f"{v.name}#0", "bbox": [30.0, 40.0, 8.0, 6.0], "kind": "pore",
                 "zone": "whole", "score": 0.9}
            ]}
            for v in new
        ],
    }  # fmt: skip
    outcome = MachineSentence(
        sentence=sentence,
        no_test=False,
        reasons=(f"V01#0: pore too large ({sentence})",),
        record=record,
        software="test",
        plan_sha256="ab" * 32,
        model_sha256=None,
        inspected_at=dt.datetime.now(dt.UTC),
    )
    with session_factory(engine)() as session:
        part = repo.add_part(session, serial=serial, cell="cell-1", part_type="generic", views=new)
        repo.add_sentence(session, part, outcome)
        session.commit()
        part_id = part.id
    engine.dispose()
    return part_id
