"""Seeded builders for the station's tests: views as file bytes, settings, clients."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from pydantic import SecretStr

from castsight.io import write_radiograph
from castsight.radiograph import Radiograph
from castsight.station.settings import CellSettings, StationSettings, StorageSettings
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


def station_settings(tmp_path: Path, database_url: str, **changes: object) -> StationSettings:
    """One cell (generic plan, local detector), one worker, storage in ``tmp_path``."""
    cell = CellSettings(
        name="cell-1", part_type="generic", detector="local", token=SecretStr(TOKEN)
    )
    storage = StorageSettings(data_dir=tmp_path / "data", database_url=database_url)
    values: dict[str, object] = {
        "cells": [cell],
        "storage": storage,
        "workers": 1,
        "inspection_timeout_s": 60.0,
        **changes,
    }
    return StationSettings.model_validate(values)


class RecordingPublisher:
    """Keeps what it is told (beside the real MQTT publisher, never instead)."""

    name = "recording"

    def __init__(self) -> None:
        self.messages: list[SentenceMessage] = []

    def publish(self, message: SentenceMessage) -> None:
        self.messages.append(message)

    def close(self) -> None:
        pass
