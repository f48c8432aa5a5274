"""The archive look: window, gamma, filter, 8 bits, no metadata (simulate.archive)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from castsight.io import read_radiograph
from castsight.simulate.archive import (
    FILTERS,
    ArchiveLook,
    archive_image,
    displayed_contrast,
    draw_look,
    median_residual,
    write_archive_png,
)

OPEN_BEAM = 2000.0


def _frame(seed: int = 0) -> np.ndarray:
    """A noisy raw frame: air around a plate of two thicknesses (quantum noise only)."""
    mean = np.full((572, 768), OPEN_BEAM)
    mean[60:520, 80:700] = 700.0
    mean[200:400, 250:550] = 300.0
    return np.random.default_rng(seed).poisson(mean).astype(np.float64)


def _look(filter: str, strength: float = 0.0) -> ArchiveLook:
    return ArchiveLook(white=1.05, black=0.5, gamma=1.5, filter=filter, strength=strength)


def test_median_filtered_archive_has_zero_median_residual() -> None:
    frame = _frame()
    unfiltered = archive_image(frame, open_beam=OPEN_BEAM, look=_look("unsharp", 0.0))
    median = archive_image(frame, open_beam=OPEN_BEAM, look=_look("median"))
    assert median_residual(unfiltered) >= 1.0  # the noise is above the 8-bit step ...
    assert median_residual(median) == 0.0  # ... and the system's 3x3 median removed it


def test_unsharp_mask_keeps_and_smoothing_removes_the_noise() -> None:
    frame = _frame(1)
    sharp = archive_image(frame, open_beam=OPEN_BEAM, look=_look("unsharp", 1.2))
    smooth = archive_image(frame, open_beam=OPEN_BEAM, look=_look("smooth", 1.2))
    assert median_residual(sharp) > median_residual(smooth)
    assert median_residual(smooth) == 0.0


def test_window_saturates_air_below_white_one_and_keeps_the_part() -> None:
    frame = _frame(2)
    look = ArchiveLook(white=0.9, black=0.5, gamma=1.0, filter="median", strength=0.0)
    img = archive_image(frame, open_beam=OPEN_BEAM, look=look)
    assert img.dtype == np.uint8 and img.shape == (572, 768)
    assert (img[:40] == 255).all()  # air clipped to white
    assert 0 < np.median(img[250:350, 300:500]) < np.median(img[100:150, 100:200]) < 255


def test_written_png_is_plain_8_bit_without_metadata(tmp_path: Path) -> None:
    img = archive_image(_frame(3), open_beam=OPEN_BEAM, look=_look("smooth", 0.8))
    path = write_archive_png(img, tmp_path / "S01" / "S01_01.png")
    assert sorted(p.name for p in path.parent.iterdir()) == ["S01_01.png"]
    rad = read_radiograph(path)
    assert rad.pixels.dtype == np.uint8 and rad.shape == (572, 768)
    assert rad.acquisition.pixel_size_at_object_mm is None  # nothing says the pixel size
    assert np.array_equal(rad.pixels, img)


def test_displayed_contrast_follows_window_and_gamma() -> None:
    linear = ArchiveLook(white=1.0, black=0.0, gamma=1.0, filter="median", strength=0.0)
    assert displayed_contrast(128.0, 0.1, lo=0.0, hi=1.0, look=linear) == pytest.approx(12.8)
    bent = ArchiveLook(white=1.0, black=0.0, gamma=2.0, filter="median", strength=0.0)
    assert displayed_contrast(128.0, 0.1, lo=0.0, hi=1.0, look=bent) == pytest.approx(6.4)
    assert displayed_contrast(0.0, 0.1, lo=0.0, hi=1.0, look=bent) == 0.0


def test_draw_look_covers_every_filter_and_refuses_unknown() -> None:
    rng = np.random.default_rng(0)
    assert {draw_look(rng).filter for _ in range(60)} == set(FILTERS)
    with pytest.raises(ValueError, match="unknown filter"):
        ArchiveLook(white=1.0, black=0.5, gamma=1.0, filter="sobel", strength=0.0)
