"""Shared tiny fixtures: small generated radiographs, never files from elsewhere."""

from __future__ import annotations

import numpy as np
import pytest

from castsight.radiograph import Acquisition, Radiograph

FULL_ACQ = Acquisition(
    pixel_pitch_mm=0.139,
    sod_mm=700.0,
    sdd_mm=1050.0,
    kv=150.0,
    ma=5.5,
    exposure_ms=250.0,
    filter="Al 2 mm",
    bit_depth=16,
    detector_id="DDA-1536",
)


def make_radiograph(
    dtype: str = "uint16",
    shape: tuple[int, int] = (24, 32),
    seed: int = 0,
    acquisition: Acquisition = FULL_ACQ,
) -> Radiograph:
    """A random radiograph covering the dtype's whole range, with full metadata."""
    rng = np.random.default_rng(seed)
    if dtype == "float32":
        pixels = rng.normal(0.0, 1000.0, shape).astype(np.float32)
    else:
        top = np.iinfo(dtype).max
        pixels = rng.integers(0, top, shape, endpoint=True).astype(dtype)
        pixels[0, 0], pixels[0, 1] = 0, top
    depth = None if dtype == "float32" else np.dtype(dtype).itemsize * 8
    acq = Acquisition(**{**acquisition.to_dict(), "bit_depth": depth})
    return Radiograph(pixels, acq, part_serial="P-0001", part_type="giga-underbody", view="V07")


@pytest.fixture
def radiograph16() -> Radiograph:
    return make_radiograph("uint16")
