"""The archive look: a raw radiograph as an X-ray system writes it to its 8-bit archive.

Users' archives are not raw detector frames: the system has windowed the
signal (a level and width chosen for the part), applied a gamma, filtered the
image (a 3x3 median, an unsharp mask or a Gaussian smoothing) and quantised it
to 8 bits, and it keeps no calibration frames and no acquisition metadata. A
held-out set of such images (768 x 572 px) is the reason for this module: in
half of them the residual after a 3x3 median is zero grey levels, i.e. the
noise lies below the 8-bit step.

:func:`archive_image` does the same to a simulated frame:

1. window: the open-beam level times ``white`` maps to 255 (``white`` < 1
   saturates the air, as operators often set it), the image's 0.5th
   percentile times ``black`` maps to 0; values outside are clipped;
2. gamma: ``v ** (1 / gamma)`` on the windowed 0..1 signal;
3. filter, one of :data:`FILTERS`: ``median`` (3x3, on the 8-bit image, as
   such systems filter their 8-bit frames), ``unsharp`` (the image plus
   ``strength`` times its difference from a Gaussian of sigma 3 px) or
   ``smooth`` (a Gaussian of sigma ``strength`` px);
4. quantisation to 8 bits (rounded, clipped).

:func:`write_archive_png` writes the pixels as a plain 8-bit PNG with no
sidecar: nothing says the pixel size, the geometry or the exposure.

>>> rng = np.random.default_rng(0)
>>> frame = rng.poisson(np.full((64, 64), 400.0)).astype(np.float64)
>>> frame[16:48, 16:48] = rng.poisson(np.full((32, 32), 150.0))   # the part
>>> look = ArchiveLook(white=0.95, black=0.8, gamma=1.0, filter="median", strength=0.0)
>>> img = archive_image(frame, open_beam=400.0, look=look)
>>> img.dtype.name, img.shape, int(img[:8, :8].min())      # air saturated at 255
('uint8', (64, 64), 255)
>>> median_residual(img)
0.0
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage as ndi

from castsight.io.files import atomic_write_bytes

FILTERS = ("median", "unsharp", "smooth")
"""The filters archive images come with."""
UNSHARP_SIGMA_PX = 3.0
"""The Gaussian the unsharp mask subtracts."""


@dataclass(frozen=True)
class ArchiveLook:
    """How one X-ray system turns its frames into 8-bit archive images.

    ``white``: the fraction of the open-beam level shown as 255; ``black``: the
    fraction of the image's 0.5th percentile shown as 0; ``gamma``: exponent
    ``1 / gamma`` on the windowed signal (> 1 opens the dark, thick sections);
    ``filter``: one of :data:`FILTERS`; ``strength``: the unsharp amount or the
    smoothing sigma in pixels (unused by ``median``).
    """

    white: float
    black: float
    gamma: float
    filter: str
    strength: float

    def __post_init__(self) -> None:
        if self.filter not in FILTERS:
            raise ValueError(f"unknown filter {self.filter!r} (known: {', '.join(FILTERS)})")
        if not (self.white > 0.0 and 0.0 <= self.black < 1.0 and self.gamma > 0.0):
            raise ValueError("need white > 0, 0 <= black < 1 and gamma > 0")
        if self.strength < 0.0:
            raise ValueError("strength must be >= 0")


def draw_look(rng: np.random.Generator, *, filter: str | None = None) -> ArchiveLook:
    """A random system's look: window, gamma, filter and strength (``filter`` fixes it).

    >>> look = draw_look(np.random.default_rng(1), filter="smooth")
    >>> look.filter, 0.5 <= look.strength <= 1.0
    ('smooth', True)
    """
    chosen = str(rng.choice(FILTERS)) if filter is None else filter
    strength = {"median": 0.0, "unsharp": float(rng.uniform(0.6, 1.5)),
                "smooth": float(rng.uniform(0.5, 1.0))}[chosen]  # fmt: skip
    return ArchiveLook(
        white=float(rng.uniform(0.85, 1.1)),
        black=float(rng.uniform(0.2, 0.8)),
        gamma=float(rng.uniform(0.9, 2.0)),
        filter=chosen,
        strength=strength,
    )


def window(signal: NDArray[np.float64], *, open_beam: float, look: ArchiveLook) -> tuple[
    float, float
]:  # fmt: skip
    """The intensities shown as 0 and 255: ``black`` times the 0.5th percentile of
    ``signal`` and ``white`` times ``open_beam``.

    >>> window(np.array([[100.0, 200.0]]), open_beam=400.0,
    ...        look=ArchiveLook(1.0, 0.5, 1.0, "median", 0.0))
    (50.25, 400.0)
    """
    hi = open_beam * look.white
    lo = min(float(np.percentile(signal, 0.5)) * look.black, 0.9 * hi)
    return lo, hi


def archive_image(
    intensity: ArrayLike, *, open_beam: float, look: ArchiveLook
) -> NDArray[np.uint8]:
    """The 8-bit archive image of a linear ``intensity`` frame (offset removed).

    ``open_beam`` is the frame's level where nothing attenuates (the air).
    See the module docstring for the steps.
    """
    signal = np.asarray(intensity, dtype=np.float64)
    if signal.ndim != 2 or open_beam <= 0.0:
        raise ValueError("need a 2-D frame and open_beam > 0")
    lo, hi = window(signal, open_beam=open_beam, look=look)
    v = np.clip((signal - lo) / (hi - lo), 0.0, 1.0) ** (1.0 / look.gamma)
    grey = 255.0 * v
    if look.filter == "median":
        return np.asarray(cv2.medianBlur(_quantise(grey), 3), dtype=np.uint8)
    if look.filter == "smooth":
        return _quantise(ndi.gaussian_filter(grey, look.strength, mode="nearest"))
    blurred = ndi.gaussian_filter(grey, UNSHARP_SIGMA_PX, mode="nearest")
    return _quantise(grey + look.strength * (grey - blurred))


def displayed_contrast(
    grey: float, relative: float, *, lo: float, hi: float, look: ArchiveLook
) -> float:
    """The grey-level change a relative intensity change ``relative`` (a defect's mean
    contrast, > 0 brighter) makes where the archive image shows ``grey``: the slope of
    the window and gamma there times the intensity change. 0 where ``grey`` is clipped
    (0 or 255: nothing shows).

    >>> look = ArchiveLook(1.0, 0.0, 1.0, "median", 0.0)
    >>> displayed_contrast(100.0, 0.15, lo=0.0, hi=1000.0, look=look)
    15.0
    >>> displayed_contrast(255.0, 0.15, lo=0.0, hi=1000.0, look=look)
    0.0
    """
    if not 0.0 < grey < 255.0:
        return 0.0
    v = (grey / 255.0) ** look.gamma  # the windowed level before the gamma
    level = lo + v * (hi - lo)
    slope = 255.0 / look.gamma * v ** (1.0 / look.gamma - 1.0) / (hi - lo)
    return float(slope * level * relative)


def _quantise(grey: NDArray[np.float64]) -> NDArray[np.uint8]:
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def median_residual(pixels: ArrayLike) -> float:
    """The median absolute residual after a 3x3 median, in grey levels (0: the noise is
    below the 8-bit step, or a median filter has already removed it).

    >>> noisy = np.random.default_rng(0).normal(128, 4, (64, 64)).round().astype(np.uint8)
    >>> median_residual(noisy) > 1.0
    True
    """
    img = np.asarray(pixels)
    if img.ndim != 2:
        raise ValueError("need a 2-D image")
    filtered = ndi.median_filter(img, size=3, mode="nearest")
    return float(np.median(np.abs(img.astype(np.float64) - filtered)))


def write_archive_png(pixels: NDArray[np.uint8], path: Path) -> Path:
    """Write 8-bit grey ``pixels`` as a plain PNG, atomically, with no metadata sidecar.

    >>> import tempfile
    >>> out = write_archive_png(np.zeros((4, 6), np.uint8), Path(tempfile.mkdtemp()) / "a.png")
    >>> sorted(p.name for p in out.parent.iterdir())
    ['a.png']
    """
    if pixels.dtype != np.uint8 or pixels.ndim != 2:
        raise ValueError("need 2-D uint8 pixels")
    ok, data = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError(f"PNG encoding failed for {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, data.tobytes())
    return path


def resize_to(pixels: NDArray[np.uint8], shape: tuple[int, int]) -> NDArray[np.uint8]:
    """``pixels`` resampled (area average) to ``shape`` = (rows, cols).

    >>> resize_to(np.zeros((572, 768), np.uint8), (143, 192)).shape
    (143, 192)
    """
    rows, cols = shape
    if (rows, cols) == pixels.shape:
        return pixels
    interp = cv2.INTER_AREA if rows < pixels.shape[0] else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(pixels, (cols, rows), interpolation=interp), dtype=np.uint8)


__all__ = [
    "FILTERS",
    "ArchiveLook",
    "archive_image",
    "displayed_contrast",
    "draw_look",
    "median_residual",
    "resize_to",
    "window",
    "write_archive_png",
]
