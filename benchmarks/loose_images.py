"""Views found by registration: loose 8-bit copies of a demo run, grouped and matched.

Usage (from the repository root, after ``make demo``)::

    .venv/bin/python benchmarks/loose_images.py [--demo out/demo] [--work /tmp/loose]

Writes every good view of the demo as a loose 8-bit PNG (no part folders, no
view names, no calibration, no pixel size), teaches the reference from that
folder (:func:`castsight.teach.learn_reference` groups them into poses), and
reports whether each pose holds one true view only, and whether every test
view (also a loose PNG) is matched to the pose of its true view. Times are
wall seconds on this machine.
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from castsight.detect.reference import ReferenceDetector, register, registration_template
from castsight.io import discover_parts, read_radiograph
from castsight.preprocess.prepare import prepare


def _to_png(src: Path, dst: Path) -> None:
    a = read_radiograph(src).pixels.astype(np.float64)
    cv2.imwrite(str(dst), np.clip(a / a.max() * 255.0, 0, 255).astype(np.uint8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", type=Path, default=Path("out/demo"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/castsight-loose"))
    args = parser.parse_args()
    from castsight.teach import learn_reference

    shutil.rmtree(args.work, ignore_errors=True)
    truth: dict[str, str] = {}
    for name in ("good", "parts"):
        (args.work / name).mkdir(parents=True)
        for part in discover_parts([args.demo / name]):
            for view in part.views:
                stem = f"{name}-{part.serial}-{view.name}"
                _to_png(view.path, args.work / name / f"{stem}.png")
                truth[stem] = view.name
    t0 = time.perf_counter()
    notes: list[str] = []
    refs = learn_reference(discover_parts([args.work / "good"]), None, notes=notes)
    t_teach = time.perf_counter() - t0
    members: dict[str, Counter[str]] = {name: Counter() for name in refs}
    detector = ReferenceDetector(refs)
    pose_of_view: dict[str, str] = {}
    for png in sorted((args.work / "good").glob("*.png")):
        found, _ = detector.match_view(prepare(read_radiograph(png)))
        if found is not None:
            members[found][truth[png.stem]] += 1
    for pose, counts in members.items():
        if counts:
            pose_of_view[counts.most_common(1)[0][0]] = pose
    pure = all(len(c) == 1 for c in members.values())
    print(f"{len(list((args.work / 'good').glob('*.png')))} loose good images -> "
          f"{len(refs)} poses in {t_teach:.1f} s; each pose one true view: {pure}")  # fmt: skip
    for pose, counts in members.items():
        print(f"  {pose}: {refs[pose].n_images} images, true views {dict(counts)}")
    if notes:
        print("  notes:", *notes, sep="\n    ")
    right = total = 0
    t1 = time.perf_counter()
    tests = sorted((args.work / "parts").glob("*.png"))
    for png in tests:
        found, _ = detector.match_view(prepare(read_radiograph(png)))
        total += 1
        right += int(found is not None and found == pose_of_view.get(truth[png.stem]))
    ms = 1000.0 * (time.perf_counter() - t1) / max(total, 1)
    print(f"test views matched to their true view's pose: {right} of {total} "
          f"({ms:.0f} ms per view, preparation included)")  # fmt: skip
    templates = {pose: registration_template(ref.mean) for pose, ref in refs.items()}
    same: list[float] = []
    other: list[float] = []
    for png in tests:
        a = prepare(read_radiograph(png)).attenuation
        mine = pose_of_view.get(truth[png.stem])
        for pose, tpl in templates.items():
            (same if pose == mine else other).append(register(tpl, a).correlation)
    if same and other:
        print(f"registration correlation: same view {min(same):.3f} or more ({len(same)} "
              f"pairs), other views {max(other):.3f} or less ({len(other)} pairs)")  # fmt: skip


if __name__ == "__main__":
    main()
