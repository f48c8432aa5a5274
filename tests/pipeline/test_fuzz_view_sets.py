"""Fuzz part folders: a part with a missing, doubled, copied, unreadable or odd view is never OK.

Each example draws the fate of every expected view (an image of its own, in TIFF
or PNG; missing; unreadable in one of many ways; another part's image copied in,
byte for byte or re-encoded) and extras (a view name given twice, a copy of a
view under another name, harmless side files), inspects the part after a clean
part P0 with one :class:`Inspector`, and checks the sentence: OK exactly when
every expected view is an image of its own and nothing is doubled.
``CASTSIGHT_FUZZ_EXAMPLES=1000`` fuzzes longer (default 40: ``make test`` stays fast).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tifffile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from castsight.accept.plan import load_plan
from castsight.io import write_radiograph
from castsight.io.parts import discover_parts
from castsight.pipeline import Inspector
from castsight.radiograph import Radiograph

FUZZ = settings(
    max_examples=int(os.environ.get("CASTSIGHT_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
GOOD = ("tif", "png")
UNREADABLE = ("dangling", "loop", "folder", "fifo", "garbage", "empty", "truncated",
              "two-pages", "text")  # fmt: skip
COPIED = ("other-part-bytes", "other-part-pixels")
FATES = (*GOOD, "missing", *UNREADABLE, *COPIED)
EXTRAS = ("name-twice", "copy-in-part", "notes.txt", ".hidden.tif", "extra-view")


def _plate(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 3)
    img = np.full((64, 64), 20000.0)
    img[:, 32:] *= 0.6
    return rng.poisson(img).astype(np.uint16)


def _write(folder: Path, view: str, fate: str, seed: int, other: Path) -> None:
    path = folder / f"{view}.tif"
    if fate in GOOD:
        write_radiograph(Radiograph(_plate(seed)), folder / f"{view}.{fate}")
    elif fate == "dangling":
        path.symlink_to(folder / "gone.tif")
    elif fate == "loop":
        path.symlink_to(path)
    elif fate == "folder":
        path.mkdir()
    elif fate == "fifo":
        os.mkfifo(path)
    elif fate in ("garbage", "empty", "text"):
        path.write_bytes({"garbage": b"II*\x00\x08junk", "empty": b"", "text": b"hello"}[fate])
    elif fate == "truncated":
        write_radiograph(Radiograph(_plate(seed)), path)
        path.write_bytes(path.read_bytes()[:300])
    elif fate == "two-pages":
        with tifffile.TiffWriter(path) as tif:
            tif.write(_plate(seed))
            tif.write(_plate(seed)[:16])
    elif fate == "other-part-bytes":
        shutil.copyfile(other, path)
    elif fate == "other-part-pixels":  # the same pixels re-encoded: another file, same image
        write_radiograph(Radiograph(_plate(0)), folder / f"{view}.png")


def _add_extra(folder: Path, extra: str, good: list[str], seed: int) -> bool:
    """Add ``extra`` to the part; True when it makes the part uninspectable."""
    if extra == "name-twice" and good:
        write_radiograph(Radiograph(_plate(seed)), folder / f"{good[0]}.tiff")
        return True
    if extra == "copy-in-part" and good:
        source = next(p for p in folder.glob(f"{good[0]}.*") if p.suffix != ".json")  # sidecar
        shutil.copyfile(source, folder / f"X01{source.suffix}")
        return True
    if extra in ("notes.txt", ".hidden.tif"):
        (folder / extra).write_bytes(b"not a view")
    elif extra == "extra-view":
        write_radiograph(Radiograph(_plate(seed)), folder / "X02.tif")
    return False


@FUZZ
@given(
    fates=st.lists(st.sampled_from(FATES), min_size=0, max_size=3),
    extras=st.lists(st.sampled_from(EXTRAS), max_size=2, unique=True),
    seed=st.integers(1, 10_000),
)
def test_an_uninspectable_part_is_never_ok(fates: list[str], extras: list[str], seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="castsight-parts-") as tmp:
        root = Path(tmp)
        expected = [f"V{k + 1:02d}" for k in range(max(len(fates), 1))]
        for k, view in enumerate(expected):  # P0: a clean part inspected first
            write_radiograph(Radiograph(_plate(-k)), root / "P0" / f"{view}.tif")
        other = root / "P0" / "V01.tif"  # _plate(0)
        folder = root / "P1"
        folder.mkdir()
        fates = fates or ["missing"]
        for k, (view, fate) in enumerate(zip(expected, fates, strict=True)):
            _write(folder, view, fate, seed * 10 + k + 1, other)
        good = [v for v, fate in zip(expected, fates, strict=True) if fate in GOOD]
        doubled = [_add_extra(folder, e, good, seed * 10 + 7) for e in extras]
        inspector = Inspector(load_plan("generic"), expected_views=expected)
        p0, p1 = discover_parts([root])
        assert inspector.inspect(p0).sentence == "OK"
        record = inspector.inspect(p1)
        clean = all(fate in GOOD for fate in fates) and not any(doubled)
        assert record.sentence == ("OK" if clean else "REVIEW"), (
            fates, extras, [f.message for f in record.findings]
        )  # fmt: skip
        if not clean:
            assert record.findings  # the reason is in the record
