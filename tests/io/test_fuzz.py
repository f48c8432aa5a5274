"""Fuzz the readers for a bounded time: any bytes give a Radiograph or a CastsightError."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from castsight.errors import CastsightError
from castsight.io import read_radiograph, write_radiograph
from tests.conftest import make_radiograph

_DIR = Path(tempfile.mkdtemp(prefix="castsight-fuzz-"))
SEEDS = {
    name: write_radiograph(make_radiograph(shape=(16, 16)), _DIR / f"seed{name}").read_bytes()
    for name in (".tif", ".png", ".dcm")
}

# CASTSIGHT_FUZZ_EXAMPLES=5000 make test fuzzes longer; CI keeps the suite bounded.
FUZZ = settings(
    max_examples=int(os.environ.get("CASTSIGHT_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _read(data: bytes, suffix: str) -> None:
    path = _DIR / f"case{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(CastsightError):
        read_radiograph(path, max_pixels=1 << 20)


@FUZZ
@given(
    suffix=st.sampled_from(sorted(SEEDS)),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 10_000),
)
def test_mutated_files_never_crash(suffix: str, flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SEEDS[suffix])
    for pos, value in flips:
        data[pos % len(data)] = value
    _read(bytes(data[: max(1, len(data) - cut % len(data))]), suffix)


@FUZZ
@given(
    data=st.binary(min_size=1, max_size=600),
    prefix=st.sampled_from(
        [b"", b"II*\x00", b"MM\x00*", b"\x89PNG\r\n\x1a\n", b"\x00" * 128 + b"DICM"]
    ),
)
def test_random_bytes_never_crash(data: bytes, prefix: bytes) -> None:
    _read(prefix + data, ".bin")
