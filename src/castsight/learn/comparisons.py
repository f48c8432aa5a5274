"""Training samples for the ``guided`` detector: good images' reference comparisons,
with defects superimposed.

The network of :mod:`castsight.detect.guided` reads an image's deviation from
the registered reference and its ``z``. Training needs those numbers as a
*new* good image would give them, but the good images at hand are the ones
the reference was learned from. Compared with the reference of all ``n``
images, an image's own deviation is ``(n - 1) / n`` of what it would be
against the other ``n - 1``, and the spread holds that image's own deviation,
so its ``z`` can never exceed ``(n - 1) / sqrt(n)``: a network trained on that
would never see the large ``z`` of good variation a new part brings, and would
call it a defect. :func:`leave_one_out` gives, exactly for mean and variance,
the comparison against the reference learned without the image.

:func:`cut_guided_crops` keeps crops of each good image with its comparison
(half centred where the deviation is large against the noise, where false
indications come from; half anywhere judged). :class:`GuidedSampleMaker` then
adds 0 to 3 defects to a random crop (:func:`castsight.learn.synth.add_defect`:
the same shapes, sizes and contrasts as for the ``learned`` detector), adds
their smoothed change to the deviation too, and makes the input with
:func:`castsight.detect.guided.guided_input`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.guided import CHANNELS, guided_input
from castsight.detect.normalise import local_noise
from castsight.detect.reference import ReferenceScore, smooth
from castsight.learn.synth import CropSampler, SynthSettings, _pick, add_defect

F32 = NDArray[np.float32]


def leave_one_out(
    score: ReferenceScore, n_images: int, floor: float, clean: F32 | None = None
) -> tuple[F32, F32]:
    """``(deviation, scale)`` of a good image against the reference of the *other*
    ``n_images - 1`` good images, from its ``score`` against the reference of all.

    With ``d`` the in-sample deviation and ``S^2`` the variance of ``n`` images,
    removing the image leaves a mean off by ``d / (n - 1)`` and a variance
    ``((n - 1) S^2 - n d^2 / (n - 1)) / (n - 2)`` (kept at 5 % of ``S^2`` or
    more: the learned spread is pooled over neighbours, the image's ``d`` is not).
    ``clean``: when ``score`` is of the good image with defects superimposed, the
    deviation of the good image itself (what the reference learned from).

    >>> import numpy as np
    >>> from castsight.detect.reference import Registration
    >>> d, s = np.full((2, 2), 0.02, np.float32), np.full((2, 2), 0.01, np.float32)
    >>> reg = Registration(np.eye(2, 3), 1.0, True)
    >>> score = ReferenceScore(d / s, np.ones((2, 2), bool), reg, 0.0, d, 1.0, 9, s)
    >>> dev, scale = leave_one_out(score, 10, 0.0)
    >>> round(float(dev[0, 0]), 4), float(scale[0, 0]) < 0.01
    (0.0222, True)
    """
    n = max(int(n_images), 3)
    k = np.float32(max(score.noise_ratio, 1e-12))
    d = score.deviation.astype(np.float32)
    own = d if clean is None else clean.astype(np.float32)
    var = (np.square(score.scale) / k - np.float32(floor**2)) / np.float32(1.0 + 1.0 / n)
    var = np.maximum(var, np.float32(0.0))
    loo = ((n - 1) * var - np.float32(n / (n - 1)) * np.square(own)) / np.float32(n - 2)
    loo = np.maximum(loo, np.float32(0.05) * var)
    scale = np.sqrt(k * (loo * np.float32(1.0 + 1.0 / (n - 1)) + np.float32(floor**2)))
    return (d + own / np.float32(n - 1)).astype(np.float32), scale.astype(np.float32)


def loo_score(
    score: ReferenceScore, n_images: int, floor: float, clean: F32 | None = None
) -> ReferenceScore:
    """``score`` made leave-one-out (:func:`leave_one_out`): deviation, scale and ``z``."""
    dev, scale = leave_one_out(score, n_images, floor, clean)
    z = np.asarray(dev / scale, np.float32)
    return replace(score, z=z, deviation=dev, scale=scale, dof=max(n_images - 2, 1))


@dataclass(frozen=True)
class GuidedCrop:
    """A piece of a good image with its leave-one-out reference comparison."""

    attenuation: F32
    deviation: F32
    scale: F32
    valid: NDArray[np.bool_]
    noise: float
    blur_px: float


def cut_guided_crops(
    attenuation: F32,
    deviation: F32,
    scale: F32,
    valid: NDArray[np.bool_],
    blur_px: float,
    settings: SynthSettings,
    rng: np.random.Generator,
) -> list[GuidedCrop]:
    """Crops of one good image: half where ``|deviation|`` is large against the noise
    (good variation: the hard negatives), half anywhere the reference judges; a crop's
    central patch may reach the image's edge (its margin is then padded)."""
    side, mg = settings.crop_px, settings.margin_px
    if not valid.any():
        return []
    # pad by the margin, so that a patch may reach the image's edge as at inference (the
    # margin only gives the normalisation its context): reflected attenuation, nothing judged
    src = np.ascontiguousarray(attenuation, np.float32)
    a = np.asarray(cv2.copyMakeBorder(src, mg, mg, mg, mg, cv2.BORDER_REFLECT), np.float32)
    dev = np.pad(deviation.astype(np.float32), mg)
    sc = np.pad(scale.astype(np.float32), mg, constant_values=1.0)
    ok_full = np.pad(valid, mg)
    rows, cols = a.shape
    if rows < side or cols < side:
        return []
    half, step = side // 2, 4
    ok = np.zeros(a.shape, bool)
    ok[half : rows - side + half + 1, half : cols - side + half + 1] = True
    ok &= ok_full
    noise = local_noise(a)
    ok_s = ok[::step, ::step]
    if not ok_s.any():
        return []
    strength = np.abs(dev[::step, ::step]) / noise[::step, ::step]
    n_hard = round(settings.crops_per_image * settings.edge_fraction)
    idx = np.concatenate(
        [
            _pick(np.where(ok_s, strength, 0.0).astype(np.float64), rng, n_hard),
            _pick(ok_s.astype(np.float64), rng, settings.crops_per_image - n_hard),
        ]
    )
    crops = []
    for i in idx:
        r, c = np.unravel_index(int(i), ok_s.shape)
        y0, x0 = int(r) * step - half, int(c) * step - half
        sl = (slice(y0, y0 + side), slice(x0, x0 + side))
        noise_here = float(noise[int(r) * step, int(c) * step])
        piece = (a[sl].copy(), dev[sl].copy(), sc[sl].copy(), ok_full[sl].copy())
        crops.append(GuidedCrop(*piece, noise_here, blur_px))
    return crops


class GuidedSampleMaker(CropSampler):
    """Random training samples ``(x, y)`` for the guided network from good crops."""

    channels = CHANNELS

    def sample(self) -> tuple[F32, F32]:
        """One input patch (``CHANNELS`` x P x P) and its defect mask (P x P)."""
        cfg, rng = self.settings, self.rng
        crop = self.crops[int(rng.integers(len(self.crops)))]
        k, flip = int(rng.integers(4)), bool(rng.random() < 0.5)
        arrays = [np.rot90(v, k) for v in (crop.attenuation, crop.deviation, crop.scale)]
        valid = np.rot90(crop.valid, k)
        if flip:
            arrays, valid = [v[:, ::-1] for v in arrays], valid[:, ::-1]
        a, dev, scale = (np.ascontiguousarray(v, np.float32) for v in arrays)
        valid = np.ascontiguousarray(valid)
        label = np.zeros(a.shape, bool)
        if rng.random() < cfg.defect_patch_fraction:
            mg = cfg.margin_px
            inner = np.zeros(a.shape, bool)
            inner[mg:-mg, mg:-mg] = True
            inner &= valid
            if inner.any():
                before = a.copy()
                strong = (np.abs(dev) * inner).astype(np.float64)
                for _ in range(int(rng.integers(1, cfg.max_defects + 1))):
                    hard = rng.random() < cfg.defect_edge_fraction
                    pick = _pick(strong if hard and strong.any() else inner.astype(float), rng, 1)
                    if pick.size:
                        r, c = np.unravel_index(int(pick[0]), a.shape)
                        add_defect(a, label, (int(r), int(c)), rng, cfg, crop.noise, crop.blur_px)
                dev = dev + smooth(np.asarray(a - before, np.float32))
        x = guided_input(a, dev, scale, valid)
        mg = cfg.margin_px
        core = (slice(mg, mg + cfg.patch_px),) * 2
        y = (label & valid)[core].astype(np.float32)
        return np.ascontiguousarray(x[(slice(None), *core)]), y


def guided_crops_of(
    image_attenuation: F32,
    score: ReferenceScore,
    n_images: int,
    floor: float,
    blur_px: float,
    settings: SynthSettings,
    rng: np.random.Generator,
) -> list[GuidedCrop]:
    """:func:`cut_guided_crops` of a good image from its score against the reference of
    all good images (made leave-one-out first)."""
    dev, scale = leave_one_out(score, n_images, floor)
    return cut_guided_crops(image_attenuation, dev, scale, score.valid, blur_px, settings, rng)
