"""Render the pictures in docs/img from the simulator (reproducible, seeded).

Run: .venv/bin/python tools/render_docs_images.py
Writes docs/img/sim_giga-underbody.jpg, sim_wheel.jpg, superimpose_8bit.jpg,
superimpose_16bit.jpg (JPEG keeps the noisy pictures small): radiographs
shown in the log (attenuation) domain with each true defect outlined in red.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.accept import load_plan
from castsight.radiograph import Radiograph
from castsight.simulate.dataset import SimulationConfig, make_part, render_part
from castsight.simulate.superimpose import superimpose

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"


def display(pixels: NDArray[np.generic]) -> NDArray[np.uint8]:
    """Log-domain window from the 0.5 to 99.5 percentiles, as an 8-bit BGR image."""
    logs = np.log(np.maximum(pixels.astype(np.float64), 1.0))
    lo, hi = np.percentile(logs, [0.5, 99.5])
    grey = np.clip((logs - lo) / max(hi - lo, 1e-9), 0, 1)
    return cv2.cvtColor((grey * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def outline(image: NDArray[np.uint8], mask: NDArray[np.bool_], scale: float = 1.0) -> None:
    """Draw the mask's contour in red (on an image ``scale`` times the mask size)."""
    m = mask.astype(np.uint8)
    if scale != 1.0:
        m = cv2.resize(m, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(image, contours, -1, (0, 0, 255), 1)


def simulated(part_type: str, seed: int, views: tuple[int, ...]) -> NDArray[np.uint8]:
    config = SimulationConfig(part_type=part_type, n_views=max(views) + 1, size=512,
                              defect_rate=1.0, seed=seed)  # fmt: skip
    part = render_part(config, make_part(config, 0, load_plan(part_type).rules), 0)
    tiles = []
    for v in views:
        view = part.views[v]
        img = display(view.radiograph.pixels)
        for t in view.defects:
            full = np.zeros(view.radiograph.shape, bool)
            x, y, w, h = t.bbox
            full[y : y + h, x : x + w] = t.mask
            outline(img, np.asarray(cv2.dilate(full.astype(np.uint8), None, iterations=3), bool))
        tiles.append(img)
    return np.hstack(tiles)


def superimposed(dtype: str) -> NDArray[np.uint8]:
    config = SimulationConfig(n_views=1, size=512, defect_rate=0.0, seed=21)
    part = render_part(config, make_part(config, 0, load_plan("giga-underbody").rules), 0)
    host = part.views[0].radiograph.pixels
    if dtype == "uint8":  # a windowed 8-bit export, as many archives hold
        host = np.clip(host / 257.0, 0, 255).astype(np.uint8)
    result = superimpose(Radiograph(host), np.random.default_rng(3), n_defects=8,
                         size_px=(6.0, 40.0), contrast=(0.05, 0.2))  # fmt: skip
    before, after = display(host), display(result.radiograph.pixels)
    marked = after.copy()
    for d in result.defects:
        outline(marked, d.full_mask(host.shape))
    return np.hstack([before, after, marked])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    quality = [cv2.IMWRITE_JPEG_QUALITY, 90]
    pictures = {
        "sim_giga-underbody": simulated("giga-underbody", 4, (0, 5, 17)),
        "sim_wheel": simulated("wheel", 2, (0, 9, 20)),
        "superimpose_8bit": superimposed("uint8"),
        "superimpose_16bit": superimposed("uint16"),
    }
    for name, picture in pictures.items():
        cv2.imwrite(str(OUT / f"{name}.jpg"), picture, quality)
    for p in sorted(OUT.iterdir()):
        print(p.name, p.stat().st_size // 1024, "kB")


if __name__ == "__main__":
    main()
