"""Tiny generated good images (a plate with a rib and a hole) for the learned detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from castsight.io import write_radiograph
from castsight.radiograph import Radiograph


def scene(shape: tuple[int, int] = (224, 224), level: float = 20000.0) -> np.ndarray:
    """Noise-free intensity of a plate with a thick rib and a round hole."""
    rows, cols = shape
    yy, xx = np.mgrid[:rows, :cols]
    clean = np.full(shape, level)
    clean[:, cols // 2 : cols // 2 + 24] *= 0.55  # a rib: more metal, darker
    clean[(yy - rows // 4) ** 2 + (xx - cols // 4) ** 2 <= 15**2] *= 1.6  # a hole
    return clean


def good_image(seed: int, shape: tuple[int, int] = (224, 224)) -> Radiograph:
    """One noisy good radiograph (uint16, Poisson noise)."""
    rng = np.random.default_rng(seed)
    return Radiograph(rng.poisson(scene(shape)).astype(np.uint16), view="V01")


def write_good_parts(root: Path, n: int, shape: tuple[int, int] = (224, 224)) -> Path:
    """``root/P000k/V01.tif`` for ``n`` good parts."""
    for k in range(n):
        folder = root / f"P{k:04d}"
        folder.mkdir(parents=True)
        write_radiograph(good_image(k, shape), folder / "V01.tif")
    return root
