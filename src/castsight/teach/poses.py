"""Views found by registration: good images that carry no view names.

A plant's images come as ``GOOD/<part>/<view>.tif``, and the view name says
which images show the same thing. A folder of loose images (``GOOD/*.png``)
does not: each file is its own "view". :func:`group_by_pose` finds the views
itself: images of one shape whose registration (phase correlation + ECC, as
the ``reference`` detector registers) correlates at ``POSE_CORRELATION`` (0.7)
or better with a group's first image join that group. On simulated views the
same view correlates at 0.99 or more and other views at 0.50 or less (8-bit
PNG copies alike, `benchmarks/loose_images.py`), so the threshold sits inside the gap.

Groups are named ``pose01``, ``pose02``, ... in order of their first image;
at inspection an image is matched to the best pose by the same registration
(:meth:`castsight.detect.reference.ReferenceDetector.match_view`).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> plate = np.full((96, 96), 1.0, np.float32)
>>> plate[20:60, 30:70] = 1.6
>>> other = np.full((96, 96), 1.0, np.float32)
>>> other[50:90, 10:40] = 1.6
>>> smalls = [img + rng.normal(0, 0.01, img.shape).astype(np.float32)
...           for img in (plate, plate, other, plate)]
>>> group_smalls(smalls)
[[0, 1, 3], [2]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from castsight.detect.reference import POSE_CORRELATION, register, registration_template


def group_smalls(smalls: Sequence[NDArray[np.float32]]) -> list[list[int]]:
    """Greedy groups of downsampled attenuation images (indices), each joining the group
    whose first image it registers to best, at ``POSE_CORRELATION`` or more."""
    anchors: list[tuple[Any, int]] = []  # (template of a group's first image, group index)
    groups: list[list[int]] = []
    for i, small in enumerate(smalls):
        best, where = POSE_CORRELATION, -1
        for tpl, g in anchors:
            if tpl.shape != small.shape:
                continue
            cc = register(tpl, small).correlation
            if cc >= best:
                best, where = cc, g
        if where < 0:
            anchors.append((registration_template(small, factor=1), len(groups)))
            groups.append([i])
        else:
            groups[where].append(i)
    return groups


def small_of(attenuation: NDArray[np.floating]) -> NDArray[np.float32]:
    """The downsampled image registration works on (what :func:`group_smalls` takes)."""
    return registration_template(attenuation).small


def group_by_pose(
    items: Sequence[tuple[str, Any]],
    smalls: Sequence[NDArray[np.float32] | str],
    min_images: int,
    notes: list[str],
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[tuple[str, Any]]]:
    """``pose01``, ... -> the ``items`` (label, path) of each group of ``min_images`` or more.

    ``smalls[i]`` is item ``i``'s :func:`small_of`, or why it could not be prepared
    (noted, left out). Images in smaller groups are noted and left out;
    ``progress`` is told of those (the others advance as their view is learned).
    """
    usable = [i for i, s in enumerate(smalls) if not isinstance(s, str)]
    for i, s in enumerate(smalls):
        if isinstance(s, str):
            notes.append(f"{items[i][0]}: {s}")
    groups = group_smalls([smalls[i] for i in usable])  # type: ignore[misc]
    left_out = len(items) - sum(len(g) for g in groups if len(g) >= min_images)
    if progress is not None and left_out:
        progress(left_out)  # the grouped ones advance as their view is learned
    out: dict[str, list[tuple[str, Any]]] = {}
    for members in groups:
        picked = [items[usable[k]] for k in members]
        if len(picked) >= min_images:
            out[f"pose{len(out) + 1:02d}"] = picked
        else:
            names = ", ".join(label for label, _ in picked)
            notes.append(f"{names}: registers with fewer than {min_images - 1} other good "
                         f"images (correlation {POSE_CORRELATION}): not taught")  # fmt: skip
    return out
