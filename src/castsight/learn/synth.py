"""Training samples from good images only: superimposed defects with exact masks.

Each good image is prepared once; :func:`cut_crops` keeps crops of its
attenuation (half of them centred on structure edges and other high-gradient
places, where false calls come from; half anywhere on the part). Every
training sample is then made fresh from a random crop (:class:`SampleMaker`):

1. flips and 90-degree turns;
2. 0 to 3 defects of the simulator's shapes (:mod:`castsight.simulate.shapes`:
   pores, shrinkage clusters, thin cracks, inclusions of either polarity),
   2 to 40 px, blurred by the image's own noise blur and added in attenuation
   with a peak contrast of 2 to 20 noise sigmas (log-uniform; noise measured
   on the image as the normalisation does), a fifth of them on high-gradient
   pixels; the label is each defect's exact footprint. (Drawing the contrast
   as an ideal-observer ``d'`` of a few units made large defects invisible
   pixel by pixel, and the network learned nothing in a CPU budget; placing
   half the defects on edges taught it that edges are defects.)
3. augmentation for images never seen: extra blur, extra noise, 8-bit
   quantisation of the intensity, a dark offset, contrast scale (gamma);
4. :func:`castsight.detect.normalise.normalise` on the crop, and the central
   patch kept (the margin keeps the crop border out of the patch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.normalise import CHANNELS, local_noise, normalise
from castsight.preprocess.prepare import PreparedImage
from castsight.simulate.shapes import KINDS, make_shape

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class SynthSettings:
    """How training samples are made."""

    patch_px: int = 96
    margin_px: int = 32
    crops_per_image: int = 48
    edge_fraction: float = 0.35
    """Share of crops centred on high-gradient pixels (hard negatives)."""
    defect_patch_fraction: float = 0.7
    """Share of samples with at least one defect."""
    max_defects: int = 3
    size_px: tuple[float, float] = (2.0, 40.0)
    peak_sigmas: tuple[float, float] = (2.0, 20.0)
    """Peak contrast of a defect, in the image's own noise sigmas (log-uniform)."""
    defect_edge_fraction: float = 0.2
    """Share of defects placed on high-gradient pixels (more would teach "edge = defect")."""
    kinds: tuple[str, ...] = KINDS
    augment: bool = True
    design_negatives: float = 0.0
    """Share of samples given 1-2 flat-topped features of the design (holes, pockets,
    bosses: constant thickness change, sharp walls), labelled sound. A gas pore is
    a sphere, its projection a dome; a designed feature is flat: the network learns
    the difference instead of calling every round pocket a pore."""

    @property
    def crop_px(self) -> int:
        """Side of a stored crop."""
        return self.patch_px + 2 * self.margin_px


@dataclass(frozen=True)
class Crop:
    """A piece of a good image: attenuation, part mask, pixel noise, noise blur."""

    attenuation: F32
    mask: NDArray[np.bool_]
    noise: float
    blur_px: float


def _gradient(a: F32) -> F32:
    g = cv2.GaussianBlur(a, (0, 0), 2.0)
    gx, gy = cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)
    return np.asarray(cv2.magnitude(gx, gy), np.float32)


def _pick(weights: NDArray[np.float64], rng: np.random.Generator, n: int) -> NDArray[np.intp]:
    flat = weights.ravel()
    total = float(flat.sum())
    if n <= 0 or total <= 0:
        return np.zeros(0, np.intp)
    return np.asarray(rng.choice(flat.size, size=n, p=flat / total), np.intp)


def cut_crops(
    image: PreparedImage, settings: SynthSettings, rng: np.random.Generator
) -> list[Crop]:
    """Crops of one good image: some on high-gradient places, the others anywhere on the part."""
    side = settings.crop_px
    rows, cols = image.shape
    if rows < side or cols < side or not image.mask.any():
        return []
    half = side // 2
    valid = np.zeros(image.shape, bool)
    valid[half : rows - side + half + 1, half : cols - side + half + 1] = True
    valid &= image.mask
    if not valid.any():
        return []
    step = 4  # choose centres on a coarse grid: fast and plenty
    grad = _gradient(image.attenuation)[::step, ::step].astype(np.float64)
    ok = valid[::step, ::step]
    n_edge = round(settings.crops_per_image * settings.edge_fraction)
    idx = np.concatenate(
        [
            _pick(np.where(ok, grad, 0.0), rng, n_edge),
            _pick(ok.astype(np.float64), rng, settings.crops_per_image - n_edge),
        ]
    )
    noise_px = local_noise(np.ascontiguousarray(image.attenuation, np.float32))[::step, ::step]
    blur = float(image.quality.noise.blur_sigma_px)
    crops = []
    for i in idx:
        r, c = np.unravel_index(int(i), ok.shape)
        y0, x0 = int(r) * step - half, int(c) * step - half
        a = image.attenuation[y0 : y0 + side, x0 : x0 + side]
        m = image.mask[y0 : y0 + side, x0 : x0 + side]
        crops.append(Crop(a.copy(), m.copy(), float(noise_px[r, c]), blur))
    return crops


def add_defect(
    a: F32,
    label: NDArray[np.bool_],
    where: tuple[int, int],
    rng: np.random.Generator,
    settings: SynthSettings,
    noise: float,
    blur_px: float,
) -> bool:
    """Add one random defect centred near ``where`` to ``a`` in place; mark ``label``."""
    lo, hi = np.log(settings.size_px[0]), np.log(settings.size_px[1])
    kind = str(rng.choice(list(settings.kinds)))
    shape = make_shape(kind, rng, float(np.exp(rng.uniform(lo, hi))))
    path = shape.path.astype(np.float32)
    h, w = path.shape
    rows, cols = a.shape
    y0 = int(np.clip(where[0] - h // 2, 0, rows - h)) if rows > h else -1
    x0 = int(np.clip(where[1] - w // 2, 0, cols - w)) if cols > w else -1
    if y0 < 0 or x0 < 0:
        return False
    pad = int(np.ceil(3 * blur_px)) + 1
    blurred = np.pad(path, pad).astype(np.float32)
    if blur_px > 0.1:
        blurred = np.asarray(cv2.GaussianBlur(blurred, (0, 0), blur_px), np.float32)
    peak = float(np.abs(blurred).max())
    if peak <= 0:
        return False
    sigmas = float(np.exp(rng.uniform(*np.log(settings.peak_sigmas))))
    change = blurred * np.float32(sigmas * noise / peak)  # path > 0: less material
    ys0, xs0 = y0 - pad, x0 - pad
    ys = slice(max(ys0, 0), min(ys0 + blurred.shape[0], rows))
    xs = slice(max(xs0, 0), min(xs0 + blurred.shape[1], cols))
    a[ys, xs] -= change[ys.start - ys0 : ys.stop - ys0, xs.start - xs0 : xs.stop - xs0]
    label[y0 : y0 + h, x0 : x0 + w] |= shape.footprint
    return True


def add_design_feature(
    a: F32, rng: np.random.Generator, noise: float, blur_px: float, avoid: NDArray[np.bool_]
) -> None:
    """Add one flat-topped feature (disc or rounded rectangle) of the design to ``a`` in place,
    away from the ``avoid`` pixels (superimposed defects keep their label)."""
    rows, cols = a.shape
    size = float(np.exp(rng.uniform(np.log(6.0), np.log(60.0))))
    half = int(np.ceil(size / 2)) + 2
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float32)
    if rng.random() < 0.6:
        shape = (xx**2 + yy**2) <= (size / 2) ** 2
    else:  # a rounded rectangle of another aspect
        w, h = size / 2, size / 2 * float(rng.uniform(0.3, 1.0))
        r = min(w, h) * float(rng.uniform(0.0, 0.8))
        dx, dy = np.maximum(np.abs(xx) - (w - r), 0), np.maximum(np.abs(yy) - (h - r), 0)
        shape = (dx**2 + dy**2) <= r**2 + 1e-3
    cy, cx = int(rng.integers(0, rows)), int(rng.integers(0, cols))
    ys = slice(max(cy - half, 0), min(cy + half + 1, rows))
    xs = slice(max(cx - half, 0), min(cx + half + 1, cols))
    piece = shape[
        ys.start - cy + half : ys.stop - cy + half, xs.start - cx + half : xs.stop - cx + half
    ]
    if avoid[ys, xs][piece].any():
        return
    flat = np.zeros(a.shape, np.float32)
    flat[ys, xs][piece] = 1.0
    if blur_px > 0.1:
        flat = np.asarray(cv2.GaussianBlur(flat, (0, 0), blur_px), np.float32)
    sigmas = float(np.exp(rng.uniform(np.log(3.0), np.log(60.0))))
    sign = 1.0 if rng.random() < 0.5 else -1.0  # a pocket or hole, or a boss
    a -= flat * np.float32(sign * sigmas * noise)


def _augment(a: F32, rng: np.random.Generator, noise: float) -> F32:
    """Imaging changes a new radiograph may bring (in attenuation)."""
    if rng.random() < 0.25:  # a blurrier system (also lowers the noise, as it would)
        a = np.asarray(cv2.GaussianBlur(a, (0, 0), float(rng.uniform(0.4, 1.2))), np.float32)
    if rng.random() < 0.3:  # a noisier exposure
        a = a + rng.normal(0.0, noise * rng.uniform(0.3, 1.2), a.shape).astype(np.float32)
    if rng.random() < 0.3:  # another spectrum / material scale (gamma in log domain)
        a = a * np.float32(np.exp(rng.uniform(-0.7, 0.7)))
    if rng.random() < 0.2:  # an 8-bit image, or an unknown dark offset
        intensity = np.exp(-(a - np.float32(np.median(a))))
        if rng.random() < 0.6:
            level = float(rng.uniform(40.0, 200.0))
            intensity = np.clip(np.round(intensity * level), 1.0, 255.0) / level
        else:
            intensity = intensity + np.float32(rng.uniform(-0.3, 0.5))
        a = -np.log(np.maximum(intensity, 1e-3)).astype(np.float32)
    return np.asarray(a, np.float32)


class Maker(Protocol):
    """What training draws samples from (:class:`SampleMaker`, or the guided one)."""

    channels: int
    seed: int

    def batch(self, n: int) -> tuple[F32, F32]:
        """``n`` samples stacked: x (n, C, P, P), y (n, 1, P, P)."""
        ...  # pragma: no cover

    def reseeded(self, seed: int) -> Maker:
        """The same source with another sample stream."""
        ...  # pragma: no cover


class CropSampler:
    """What the sample makers share: crops, settings and a seeded stream; :meth:`batch`
    stacks :meth:`sample`, which each maker defines."""

    channels = CHANNELS

    def __init__(self, crops: Sequence[Any], settings: SynthSettings, seed: int) -> None:
        if not crops:
            raise ValueError("no crops to make samples from")
        self.crops = list(crops)
        self.settings = settings
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def reseeded(self, seed: int) -> Self:
        """The same crops and settings, another sample stream."""
        return type(self)(self.crops, self.settings, seed)

    def sample(self) -> tuple[F32, F32]:
        """One input patch (C x P x P) and its defect mask (P x P)."""
        raise NotImplementedError

    def batch(self, n: int) -> tuple[F32, F32]:
        """``n`` samples stacked: x (n, C, P, P), y (n, 1, P, P)."""
        xs, ys = zip(*(self.sample() for _ in range(n)), strict=True)
        return np.stack(xs), np.stack(ys)[:, None]


class SampleMaker(CropSampler):
    """Random training samples ``(x, y)`` (patch_px square, float32) from good crops."""

    def sample(self) -> tuple[F32, F32]:
        """One normalised patch (C x P x P) and its defect mask (P x P, 1.0 inside a defect)."""
        cfg, rng = self.settings, self.rng
        crop = self.crops[int(rng.integers(len(self.crops)))]
        k, flip = int(rng.integers(4)), bool(rng.random() < 0.5)
        a = np.rot90(crop.attenuation, k)
        m = np.rot90(crop.mask, k)
        if flip:
            a, m = a[:, ::-1], m[:, ::-1]
        a = np.ascontiguousarray(a, np.float32)
        label = np.zeros(a.shape, bool)
        if rng.random() < cfg.defect_patch_fraction:
            inner = np.zeros(a.shape, bool)
            mg = cfg.margin_px
            inner[mg:-mg, mg:-mg] = True
            inner &= m
            if inner.any():
                grad = _gradient(a).astype(np.float64) * inner
                for _ in range(int(rng.integers(1, cfg.max_defects + 1))):
                    on_edge = rng.random() < cfg.defect_edge_fraction
                    weights = grad if on_edge else inner.astype(float)
                    pick = _pick(weights, rng, 1)
                    if pick.size:
                        r, c = np.unravel_index(int(pick[0]), a.shape)
                        add_defect(a, label, (int(r), int(c)), rng, cfg, crop.noise, crop.blur_px)
        if rng.random() < cfg.design_negatives:
            for _ in range(int(rng.integers(1, 3))):
                add_design_feature(a, rng, crop.noise, crop.blur_px, label)
        if cfg.augment:
            a = _augment(a, rng, crop.noise)
        x = normalise(a)
        mg = cfg.margin_px
        core = (slice(mg, mg + cfg.patch_px),) * 2
        return np.ascontiguousarray(x[(slice(None), *core)]), label[core].astype(np.float32)
