"""Conversions keep information, or are refused unless explicitly windowed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from castsight.errors import ConversionError
from castsight.io.convert import apply_window, convert_dtype
from castsight.radiograph import Radiograph
from tests.conftest import make_radiograph


@pytest.mark.parametrize(
    ("src", "dst"), [("uint8", "uint16"), ("uint8", "float32"), ("uint16", "float32")]
)
def test_widening_keeps_every_value(src: str, dst: str) -> None:
    r = make_radiograph(src)
    out = convert_dtype(r, dst)
    assert out.dtype == np.dtype(dst)
    assert np.array_equal(out.pixels.astype(np.float64), r.pixels.astype(np.float64))
    assert out.acquisition == r.acquisition


def test_narrowing_that_fits_is_lossless() -> None:
    r = Radiograph(np.arange(256, dtype=np.uint16).reshape(16, 16))
    out = convert_dtype(r, "uint8")
    assert np.array_equal(out.pixels, r.pixels)


def test_lossy_needs_flag_and_window() -> None:
    r = make_radiograph("uint16")
    with pytest.raises(ConversionError, match="loses information"):
        convert_dtype(r, "uint8")
    with pytest.raises(ConversionError, match="allow-lossy"):
        convert_dtype(r, "uint8", window=(0.0, 1.0))
    with pytest.raises(ConversionError, match="hi > lo"):
        convert_dtype(r, "uint8", allow_lossy=True, window=(5.0, 5.0))


def test_window_maps_linearly_and_clips() -> None:
    px = np.array([[0.0, 100.0, 200.0, 300.0]] * 8, np.float32).repeat(2, 1)
    out = apply_window(px, 100.0, 200.0, np.dtype(np.uint8))
    assert out[0].tolist()[::2] == [0, 0, 255, 255]
    assert apply_window(np.array([150.0]), 100.0, 200.0, np.dtype(np.uint16))[0] == 32768


def test_lossy_conversion_records_new_bit_depth() -> None:
    r = make_radiograph("uint16")
    out = convert_dtype(r, "uint8", allow_lossy=True, window=(0.0, 65535.0))
    assert out.acquisition.bit_depth == 8 and out.provenance is None


@pytest.mark.parametrize("dtype", ["uint8", "uint16"])
def test_invert_is_lossless_and_its_own_inverse(dtype: str) -> None:
    from castsight.io.convert import invert

    r = make_radiograph(dtype)
    once = invert(r)
    top = np.iinfo(np.dtype(dtype)).max if not r.acquisition.bit_depth else (
        (1 << r.acquisition.bit_depth) - 1)  # fmt: skip
    assert np.array_equal(once.pixels.astype(np.int64), top - r.pixels.astype(np.int64))
    assert np.array_equal(invert(once).pixels, r.pixels)
    with pytest.raises(ConversionError, match="unsigned"):
        invert(make_radiograph("float32"))


def test_convert_cli_inverts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from castsight.cli import app
    from castsight.io import read_radiograph, write_radiograph

    r = make_radiograph("uint16")
    write_radiograph(r, tmp_path / "film.tif")
    result = CliRunner().invoke(app, ["convert", str(tmp_path / "film.tif"),
                                      str(tmp_path / "t.tif"), "--invert"])  # fmt: skip
    assert result.exit_code == 0, result.output
    from castsight.io.convert import invert

    assert np.array_equal(read_radiograph(tmp_path / "t.tif").pixels, invert(r).pixels)
