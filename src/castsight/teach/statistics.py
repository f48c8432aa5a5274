"""Learn what good parts look like, view by view: the ``reference`` detector's statistics.

For each view name the first good image is the anchor. Every other good image
of that view is registered to it (:func:`castsight.detect.reference.register`:
phase correlation, then ECC translation + rotation), warped into the anchor's
frame, and accumulated in float64:

* the exposure offset is removed first: the median of ``a - a_anchor`` over
  the part. Exposure (mA.s) drift and small kV drift move the whole
  attenuation image by nearly a constant, which is not a defect; what is
  learned is the exposure-independent structure;
* ``mean`` is the mean of the offset-free attenuation; ``modes`` are the pose
  modes of the registered images (:mod:`castsight.detect.modes`), and ``std``
  is the leave-one-out spread: each good image predicted from the others
  (their mean plus their pose modes fitted to it, as the detector fits a new
  image), the prediction error smoothed by the detector's light Gaussian, so
  it holds one image's noise plus what the modes do not explain, exactly
  what a new good image will show;
* ``mask`` keeps pixels that at least 60 % of the images cover (inside their
  frame: near the frame, the images that reach a pixel are a few, biased by
  the fixturing shift) and that are part in at least half of those. 60 %
  rather than 90 % judged 1-2 % more of each view on the standard bench,
  found 5 more pores and 1 more NG part, with the same false indications
  and false calls (50 % did no better).

Images are warped with Lanczos interpolation, which keeps the noise variance
of a shifted image; linear interpolation lowers it (to a quarter at half-pixel
shifts in x and y), which made the learned spread too small (held-out good
images: z std 1.15-1.3 instead of about 1). The detector never interpolates
the image it judges: it warps the reference onto it.

>>> import numpy as np
>>> from castsight.radiograph import Radiograph
>>> from castsight.preprocess.prepare import prepare
>>> rng = np.random.default_rng(0)
>>> clean = np.full((96, 96), 20000.0)
>>> clean[20:60, 40:] = 12000.0                        # a thick block
>>> goods = [prepare(Radiograph(rng.poisson(clean).astype(np.uint16), view="V01"))
...          for _ in range(5)]
>>> ref = learn_view("V01", goods)
>>> ref.n_images, ref.mean.shape, bool(ref.mask[10:-10, 10:30].all())
(5, (96, 96), True)
>>> bool(abs(float(ref.mean[40, 60] - ref.mean[10, 10]) - np.log(20 / 12)) < 0.01)
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.detect.modes import choose_count, leave_one_out, mode_weights
from castsight.detect.reference import (
    ReferenceView,
    RegistrationTemplate,
    downsample,
    exposure_offset,
    register,
    registration_template,
    smooth,
)
from castsight.errors import CastsightError, InputError
from castsight.io.files import short_reason
from castsight.io.parts import PartSource
from castsight.preprocess.prepare import Calibration, PreparedImage, prepare

MIN_IMAGES = 3
"""Fewer good images than this per view: refuse to learn."""
FEW_IMAGES = 10
"""Fewer good images than this per view: learn, but warn (the spread is uncertain)."""
COVERAGE = 0.6
"""A pixel is learned only where at least this share of the good images covers it
(0.9 before: the same false calls on the standard bench, 1 more escape)."""
MIN_CORRELATION = 0.5
"""A good image that registers worse than this to the anchor is left out."""
WARP_INTERPOLATION = cv2.INTER_LANCZOS4
_MARGIN = 4 + 2
"""Interpolation support plus smoothing reach: a warped image's edge band this wide is
made of reflected pixels and is not learned from."""


@dataclass
class _Accumulator:
    """Running float64 sums in the anchor's frame (shifted by the anchor: no cancellation)."""

    anchor: PreparedImage
    template: RegistrationTemplate = field(init=False)
    s1: NDArray[np.float64] = field(init=False)
    count: NDArray[np.int32] = field(init=False)
    part: NDArray[np.int32] = field(init=False)
    noise: list[float] = field(default_factory=list)
    rows: list[NDArray[np.float32]] = field(default_factory=list)
    """Each image's offset-free deviation from the anchor (for the pose modes)."""
    insides: list[NDArray[np.bool_] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        shape = self.anchor.shape
        self.template = registration_template(self.anchor.attenuation)
        self.s1 = np.zeros(shape)
        self.count = np.zeros(shape, np.int32)
        self.part = np.zeros(shape, np.int32)
        self._add(self.anchor.attenuation, self.anchor.mask, None, self.anchor)

    def add(self, image: PreparedImage) -> str | None:
        """Register and accumulate ``image``; returns why it was left out, if it was."""
        if image.shape != self.anchor.shape:
            return f"is {image.shape}, the anchor image {self.anchor.shape}"
        reg = register(self.template, image.attenuation)
        if reg.correlation < MIN_CORRELATION:
            return f"registers poorly to the anchor (correlation {reg.correlation:.2f})"

        def back(arr: NDArray[Any], interpolation: int) -> NDArray[Any]:
            flags = interpolation | cv2.WARP_INVERSE_MAP  # image pixels -> anchor frame
            border = cv2.BORDER_REFLECT if arr.dtype == np.float32 else cv2.BORDER_CONSTANT
            out = cv2.warpAffine(arr, reg.matrix, arr.shape[::-1], flags=flags, borderMode=border)
            return np.asarray(out)

        a = back(image.attenuation, WARP_INTERPOLATION)
        mask = back(image.mask.astype(np.uint8), cv2.INTER_NEAREST) > 0
        # pixels whose value and smoothed value come from inside the image only
        inside = back(np.ones(image.shape, np.uint8), cv2.INTER_NEAREST)
        inside = cv2.erode(inside, np.ones((2 * _MARGIN + 1,) * 2, np.uint8)) > 0
        self._add(a, mask, np.asarray(inside), image)
        return None

    def _add(
        self,
        a: NDArray[np.float32],
        mask: NDArray[np.bool_],
        inside: NDArray[np.bool_] | None,
        image: PreparedImage,
    ) -> None:
        d = a - self.anchor.attenuation
        d -= np.float32(exposure_offset(a, self.anchor.attenuation, mask & self.anchor.mask, 2))
        if inside is None:
            self.s1 += d
            self.count += 1
        else:
            self.s1[inside] += d[inside]
            self.count += inside
        self.part += mask & (inside if inside is not None else True)
        self.rows.append(d)
        self.insides.append(inside)
        sub = image.noise_std[::8, ::8][image.mask[::8, ::8]]
        if sub.size:
            self.noise.append(float(np.median(np.square(sub, dtype=np.float64))))

    def result(self, view: str, notes: Sequence[str]) -> ReferenceView:
        n_images = len(self.noise)
        n = np.maximum(self.count, 1).astype(np.float64)
        mean = self.anchor.attenuation + self.s1 / n
        # pixels seen by only some images (near the frame) have biased, uncertain statistics
        covered = self.count >= max(2, math.ceil(COVERAGE * n_images))
        mask = covered & (2 * self.part >= self.count)
        modes, std = self._modes(mask)
        return ReferenceView(
            view=view,
            mean=mean.astype(np.float32),
            std=std,
            mask=mask,
            modes=modes,
            n_images=n_images,
            noise_var=float(np.median(self.noise)) if self.noise else 0.0,
            notes=tuple(notes),
        )

    def _modes(self, mask: NDArray[np.bool_]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Pose modes (:mod:`castsight.detect.modes`) and the leave-one-out spread.

        Each good image is predicted from the others (their mean plus their pose
        modes fitted to it, as :class:`~castsight.detect.reference.ReferenceDetector`
        fits a new image); the spread is the RMS of the smoothed, offset-free
        prediction error, counted where the image covers the pixel."""
        n = len(self.rows)
        full = np.stack(self.rows)
        mean_dev = (self.s1 / np.maximum(self.count, 1)).astype(np.float32)
        for row, inside in zip(full, self.insides, strict=True):
            if inside is not None:
                row[~inside] = mean_dev[~inside]  # outside its frame: no information
        f = self.template.factor
        small = np.stack([downsample(row, f) for row in full]).reshape(n, -1)
        small_mask = downsample(mask.astype(np.float32), f) > 0.999
        rr, cc = np.indices(small_mask.shape)
        half = ((rr // 4 + cc // 4) % 2 == 0).ravel()
        k = choose_count(small, small_mask.ravel(), half)
        weights = mode_weights(small, small_mask.ravel(), k)
        flat = full.reshape(n, -1)
        modes = (weights @ (flat - flat.mean(axis=0))).astype(np.float32)
        predict = leave_one_out(small, small_mask.ravel(), k).astype(np.float32)
        sq = np.zeros(self.anchor.shape)
        for i, inside in enumerate(self.insides):
            guess = (predict[i] @ flat).reshape(self.anchor.shape)
            g = smooth((flat[i].reshape(self.anchor.shape) - guess).astype(np.float32))
            g -= np.float32(exposure_offset(g, np.zeros_like(g), mask, 2))

            if inside is None:
                sq += np.square(g, dtype=np.float64)
            else:
                sq[inside] += np.square(g[inside], dtype=np.float64)
        std = np.sqrt(sq / np.maximum(self.count, 1)).astype(np.float32)
        return modes.reshape(k, *self.anchor.shape), std


def learn_view(
    view: str,
    images: Iterable[PreparedImage | tuple[str, PreparedImage | str]],
    *,
    progress: Callable[[int], None] | None = None,
) -> ReferenceView:
    """Learn one view from good images (the first becomes the anchor).

    Items are prepared images, or ``(label, image)`` pairs where ``image`` may be a
    string: the reason that image could not be prepared (it is noted and skipped).
    Raises :class:`InputError` with fewer than :data:`MIN_IMAGES` usable images.
    """
    acc: _Accumulator | None = None
    notes: list[str] = []
    for i, item in enumerate(images):
        label, image = item if isinstance(item, tuple) else (f"image {i + 1}", item)
        if isinstance(image, str):
            notes.append(f"{label}: {image}")
        elif acc is None:
            acc = _Accumulator(image)
        elif (why := acc.add(image)) is not None:
            notes.append(f"{label}: {why}")
        if progress is not None:
            progress(1)
    n_good = 0 if acc is None else len(acc.noise)
    if acc is None or n_good < MIN_IMAGES:
        extra = f" ({notes[0]})" if notes else ""
        raise InputError(
            view, f"{n_good} usable good images; a reference needs at least {MIN_IMAGES}{extra}"
        )
    return acc.result(view, notes)


def learn_reference(
    parts: Sequence[PartSource],
    calibration: Calibration | None,
    *,
    progress: Callable[[int], None] | None = None,
    notes: list[str] | None = None,
) -> dict[str, ReferenceView]:
    """Learn a :class:`ReferenceView` for every view name among ``parts`` (all good).

    ``progress`` is called with 1 after each image. Images that cannot be read or
    prepared, or do not register, are left out and listed in the view's ``notes``.
    Views named fewer than :data:`MIN_IMAGES` times (loose images in one folder,
    each its own "view") are grouped by registration instead
    (:mod:`castsight.teach.poses`: views ``pose01``, ...); what is left out is
    added to ``notes``.
    """
    from castsight.io import read_radiograph
    from castsight.teach.poses import group_by_pose, small_of

    said = notes if notes is not None else []
    groups: dict[str, list[tuple[str, Any]]] = {}
    for part in parts:
        for view in part.views:
            groups.setdefault(view.name, []).append((f"{part.serial}/{view.name}", view.path))
    if not groups:
        raise InputError(None, "no good images to learn from")

    def prepared(path: Any) -> PreparedImage:
        return prepare(read_radiograph(path), calibration)

    def load(items: list[tuple[str, Any]]) -> Iterator[tuple[str, PreparedImage | str]]:
        for label, path in items:
            try:
                yield label, prepared(path)
            except CastsightError as err:
                yield label, short_reason(err)

    loose = [item for items in groups.values() if len(items) < MIN_IMAGES for item in items]
    named = {name: items for name, items in groups.items() if len(items) >= MIN_IMAGES}
    if len(loose) >= MIN_IMAGES:
        # each loose image is prepared here for grouping and again when its view is
        # learned: holding every prepared image of a large folder would cost GBs
        smalls: list[Any] = []
        for _, image in load(loose):
            smalls.append(image if isinstance(image, str) else small_of(image.attenuation))
        named |= group_by_pose(loose, smalls, MIN_IMAGES, said, progress)
    elif loose:
        names = ", ".join(label for label, _ in loose)
        said.append(f"{names}: fewer than {MIN_IMAGES} good images of the view: not taught")
        if progress is not None:
            progress(len(loose))
    if not named:
        why = f" ({said[0]})" if said and notes is None else ""  # else the caller shows them
        raise InputError(None, f"no view has {MIN_IMAGES} usable good images, named alike "
                               f"or registering to each other{why}")  # fmt: skip
    return {name: learn_view(name, load(items), progress=progress)
            for name, items in named.items()}  # fmt: skip


def reference_summary(refs: dict[str, ReferenceView]) -> dict[str, Any]:
    """Training summary for the model manifest: images per view and warnings."""
    warnings = [note for ref in refs.values() for note in ref.notes]
    few = sorted(name for name, ref in refs.items() if ref.n_images < FEW_IMAGES)
    if few:
        warnings.append(
            f"fewer than {FEW_IMAGES} good images for views {', '.join(few)}: "
            "their spread is uncertain (more false indications); teach with more parts"
        )
    counts = [ref.n_images for ref in refs.values()]
    return {
        "views": len(refs),
        "images_per_view": {name: ref.n_images for name, ref in refs.items()},
        "min_images_per_view": min(counts, default=0),
        "warnings": warnings,
    }
