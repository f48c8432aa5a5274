"""2-D projected shapes of casting defects, for superimposition onto any radiograph.

Each shape is a small patch of *projected path length* through the defect
(in pixels of depth), positive for material missing along the ray (pores,
shrinkage, cracks, light inclusions) and negative for extra attenuation
(dense inclusions). In the log (attenuation) domain a defect adds
``mu * path`` to ``ln I``, which is how :mod:`castsight.simulate.superimpose`
uses them.

The shapes follow the projections of simple 3-D bodies: an ellipsoid's
projection is ``2 c sqrt(1 - (x/a)^2 - (y/b)^2)``; shrinkage is a dendritic
cluster of small voids; a crack is a thin, meandering planar body whose depth
along the beam tapers to its tips; an inclusion is an irregular lump.

>>> import numpy as np
>>> p = pore(np.random.default_rng(0), diameter_px=10.0)
>>> p.kind, p.path.shape[0] >= 10, round(float(p.path.max()), 1)
('pore', True, 10.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

KINDS = ("pore", "shrinkage", "crack", "inclusion")


@dataclass(frozen=True)
class DefectShape:
    """A defect's projected path-length patch; the patch centre is the defect centre."""

    kind: str
    path: NDArray[np.float32]
    size_px: float

    @property
    def footprint(self) -> NDArray[np.bool_]:
        """Pixels the defect covers (exact support of the projection)."""
        return np.asarray(self.path != 0)


def _grid(half: int) -> tuple[NDArray[Any], NDArray[Any]]:
    ax = np.arange(-half, half + 1, dtype=np.float64)
    return np.meshgrid(ax, ax, indexing="ij")


def _ellipsoid_path(
    yy: NDArray[Any], xx: NDArray[Any], a: float, b: float, c: float, angle: float
) -> NDArray[Any]:
    """Projected chord length of an ellipsoid (semi-axes a, b in-plane; c along the beam)."""
    cos, sin = np.cos(angle), np.sin(angle)
    u = (xx * cos + yy * sin) / a
    v = (-xx * sin + yy * cos) / b
    inside = 1.0 - u * u - v * v
    return np.where(inside > 0, 2.0 * c * np.sqrt(np.clip(inside, 0, None)), 0.0)


def _supersampled(fn: Any, half: int, factor: int = 4) -> NDArray[np.float32]:
    """Average ``fn(yy, xx)`` over ``factor`` x ``factor`` sub-pixels (anti-aliasing)."""
    offsets = (np.arange(factor) + 0.5) / factor - 0.5
    yy, xx = _grid(half)
    total = np.zeros_like(yy)
    for dy in offsets:
        for dx in offsets:
            total += fn(yy + dy, xx + dx)
    return (total / factor**2).astype(np.float32)


def pore(rng: np.random.Generator, diameter_px: float, aspect: float | None = None) -> DefectShape:
    """A gas pore: an ellipsoid of the given mean diameter, smooth edged."""
    aspect = float(rng.uniform(1.0, 1.5)) if aspect is None else aspect
    a = diameter_px / 2.0 * np.sqrt(aspect)
    b = diameter_px / 2.0 / np.sqrt(aspect)
    c = np.sqrt(a * b)
    angle = float(rng.uniform(0, np.pi))
    half = int(np.ceil(max(a, b))) + 1
    path = _supersampled(lambda y, x: _ellipsoid_path(y, x, a, b, c, angle), half)
    path[_grid(half)[0] ** 2 + _grid(half)[1] ** 2 == 0] = 2 * c  # exact peak at the centre
    return DefectShape("pore", path, float(diameter_px))


def shrinkage(rng: np.random.Generator, extent_px: float) -> DefectShape:
    """Shrinkage porosity: a dendritic cluster of small voids spanning ``extent_px``."""
    half = int(np.ceil(extent_px / 2.0)) + 2
    yy, xx = _grid(half)
    path = np.zeros_like(yy)
    n_branches = int(rng.integers(3, 7))
    voids_per_branch = max(3, int(extent_px / 2.5))
    for _ in range(n_branches):
        pos = rng.normal(0.0, extent_px * 0.08, 2)
        direction = rng.uniform(0, 2 * np.pi)
        for _ in range(voids_per_branch):
            direction += rng.normal(0.0, 0.6)
            pos = pos + rng.uniform(0.8, 2.0) * np.array([np.sin(direction), np.cos(direction)])
            if np.hypot(*pos) > extent_px / 2.0 - 1.0:
                break
            r = float(rng.uniform(0.6, 1.8)) * max(1.0, extent_px / 25.0)
            path += _ellipsoid_path(
                yy - pos[0], xx - pos[1], r * 1.3, r, r, float(rng.uniform(0, np.pi))
            )
    if not path.any():  # a degenerate draw: fall back to one central void
        path = _ellipsoid_path(yy, xx, 1.5, 1.0, 1.0, 0.0)
    return DefectShape("shrinkage", path.astype(np.float32), float(extent_px))


def crack(rng: np.random.Generator, length_px: float, depth_px: float | None = None) -> DefectShape:
    """A crack or cold shut: a meandering line about one pixel wide.

    ``depth_px`` is the crack's extent along the beam at its middle (default:
    a fifth of its length); it tapers elliptically to zero at both tips.
    """
    depth = length_px / 5.0 if depth_px is None else depth_px
    steps = max(4, int(length_px * 2))
    direction = rng.uniform(0, np.pi)
    turn = rng.normal(0.0, 0.05, steps).cumsum()
    angles = direction + turn - turn.mean()
    step = length_px / steps
    pts = np.cumsum(np.stack([np.sin(angles), np.cos(angles)], 1) * step, axis=0)
    pts -= pts.mean(axis=0)
    s = (np.arange(steps) + 0.5) / steps
    depths = depth * np.sqrt(np.clip(1.0 - (2 * s - 1) ** 2, 0, None))
    half = int(np.ceil(np.abs(pts).max())) + 3
    factor = 4
    size = (2 * half + 1) * factor
    fine = np.zeros((size, size))
    width = float(rng.uniform(0.6, 1.2)) * factor  # crack opening, in fine pixels
    for (py, px), d in zip(pts, depths, strict=True):
        cy, cx = (py + half + 0.5) * factor, (px + half + 0.5) * factor
        y0, y1 = int(cy - width / 2), int(np.ceil(cy + width / 2))
        x0, x1 = int(cx - width / 2), int(np.ceil(cx + width / 2))
        patch = fine[max(y0, 0) : y1, max(x0, 0) : x1]
        np.maximum(patch, d, out=patch)
    path = fine.reshape(2 * half + 1, factor, 2 * half + 1, factor).mean(axis=(1, 3))
    return DefectShape("crack", path.astype(np.float32), float(length_px))


def inclusion(rng: np.random.Generator, size_px: float, denser: bool = True) -> DefectShape:
    """An inclusion: an irregular lump, denser than the alloy (negative) or lighter."""
    r0 = size_px / 2.0
    half = int(np.ceil(r0 * 1.4)) + 1
    yy, xx = _grid(half)
    theta = np.arctan2(yy, xx)
    radius = np.full_like(theta, r0)
    for k in range(2, 6):
        radius += r0 * 0.12 * rng.normal() * np.cos(k * theta + rng.uniform(0, 2 * np.pi))
    rr = np.hypot(yy, xx)
    inside = np.clip(1.0 - (rr / np.maximum(radius, 0.5)) ** 2, 0, None)
    path = 2.0 * r0 * np.sqrt(inside)
    sign = -1.0 if denser else 1.0
    return DefectShape("inclusion", (sign * path).astype(np.float32), float(size_px))


def make_shape(kind: str, rng: np.random.Generator, size_px: float) -> DefectShape:
    """A random defect of ``kind`` with governing size ``size_px``."""
    if kind == "pore":
        return pore(rng, size_px)
    if kind == "shrinkage":
        return shrinkage(rng, size_px)
    if kind == "crack":
        return crack(rng, size_px)
    if kind == "inclusion":
        return inclusion(rng, size_px, denser=bool(rng.random() < 0.7))
    raise ValueError(f"unknown defect kind '{kind}' (known: {', '.join(KINDS)})")
