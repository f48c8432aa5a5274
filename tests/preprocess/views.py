"""Simulated views for the quality-gate tests: calibrated 16-bit, and 8-bit exports.

Real archives hold 8-bit images the X-ray system wrote after its own dark/flat
correction, windowing (air clipped white) and filtering (3x3 median, Gaussian
smoothing, unsharp masking). :func:`export8` does the same to a simulated view.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.accept.plan import load_plan
from castsight.preprocess.prepare import Calibration
from castsight.radiograph import Acquisition, Radiograph
from castsight.simulate.dataset import SimulationConfig, _model, make_part, render_part
from castsight.simulate.panel import dark_frame, flat_frame
from castsight.simulate.render import Exposure, sdd_map

NORMAL_MAS = 0.25
"""``castsight simulate``'s default exposure (mA.s)."""


@dataclass(frozen=True, eq=False)
class View:
    """One simulated view with its calibration frames."""

    radiograph: Radiograph
    calibration: Calibration

    @property
    def transmission(self) -> NDArray[np.float32]:
        """Dark/flat-corrected transmission, as an X-ray system corrects before export."""
        dark, flat = self.calibration.dark, self.calibration.flat
        assert dark is not None and flat is not None
        raw = self.radiograph.pixels.astype(np.float32)
        return np.asarray((raw - dark) / np.maximum(flat - dark, 1.0), np.float32)


@functools.lru_cache(maxsize=8)
def view(mas: float = NORMAL_MAS, size: int = 160, part_type: str = "wheel", seed: int = 1) -> View:
    """The first view of a good simulated part at ``mas`` (same part and pose for any mas)."""
    cfg = SimulationConfig(
        part_type=part_type, n_parts=1, n_views=1, size=size, seed=seed, defect_rate=0.0,
        exposure=Exposure(mas=mas), small_pores_per_part=0.0,
    )  # fmt: skip
    part = render_part(cfg, make_part(cfg, 0, load_plan(part_type).rules), 0)
    geometry, detector = cfg.geometry(), cfg.panel()
    rng = np.random.default_rng(seed + 1000)
    open_beam = _model(cfg.exposure).quanta(
        np.zeros((geometry.rows, geometry.cols)),
        mas=mas, pixel_pitch_mm=geometry.pixel_pitch_mm, sdd_mm=sdd_map(geometry),
    )  # fmt: skip
    dark = dark_frame(detector, rng).astype(np.float32)
    flat = flat_frame(detector, open_beam, rng).astype(np.float32)
    return View(part.views[0].radiograph, Calibration(dark=dark, flat=flat))


def export8(
    transmission: NDArray[np.float32],
    *,
    filt: str | None = None,
    lo: float = 0.0,
    hi: float = 0.9,
    gamma: float = 1.0,
) -> NDArray[np.uint8]:
    """An 8-bit export: window [lo, hi] of transmission -> 0..255 (air above ``hi`` clips
    white), optional gamma, then the system's filter, then rounding.

    ``filt``: None, "median" (3x3, on the 8-bit image as systems do), "gauss" (sigma
    1.2 px), "unsharp" (amount 1, sigma 2 px) or "median+unsharp".
    """
    x = np.clip((transmission - lo) / (hi - lo), 0.0, 1.0) ** gamma * 255.0
    x = np.asarray(x, np.float32)
    for step in (filt or "").split("+"):
        if step == "median":
            x = cv2.medianBlur(np.round(x).astype(np.uint8), 3).astype(np.float32)
        elif step == "gauss":
            x = cv2.GaussianBlur(x, (0, 0), 1.2)
        elif step == "unsharp":
            x = x + (x - cv2.GaussianBlur(x, (0, 0), 2.0))
    return np.asarray(np.clip(np.round(x), 0, 255), np.uint8)


def as_radiograph(pixels: NDArray[np.uint8], pitch_mm: float | None = None) -> Radiograph:
    """An 8-bit archive image: no calibration, no metadata (pixel pitch when given)."""
    return Radiograph(pixels, Acquisition(pixel_pitch_mm=pitch_mm, bit_depth=8))
