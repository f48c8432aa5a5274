"""Time the simulator: per 1536 x 1536 view and per 28-view part, with per-stage split.

Run: .venv/bin/python benchmarks/simulate_speed.py [--size 1536] [--views 28] [--parts 1]
Prints one JSON line; BENCHMARKS.md records the figures with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from castsight.accept import load_plan
from castsight.simulate.dataset import SimulationConfig, _model, make_part
from castsight.simulate.panel import expose
from castsight.simulate.render import render_view
from castsight.simulate.solids import pack, path_length_image


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=1536)
    ap.add_argument("--views", type=int, default=28)
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--type", default="giga-underbody")
    args = ap.parse_args()
    config = SimulationConfig(part_type=args.type, n_views=args.views, size=args.size,
                              defect_rate=1.0, seed=7)  # fmt: skip
    rules = load_plan(args.type).rules
    geometry, detector, exposure = config.geometry(), config.panel(), config.exposure
    model = _model(exposure)
    # warm-up: numba JIT (cached on disk after the first run), tables, thread pool
    part = make_part(config, 0, rules)
    poses = part.phantom.views(2, np.random.default_rng(0))
    render_view(pack(part.phantom.solids), part.defects, geometry, poses[0], model, detector,
                exposure, np.random.default_rng(0))  # fmt: skip
    t_paths = t_views = 0.0
    n = 0
    t0 = time.perf_counter()
    for p in range(args.parts):
        part = make_part(config, p + 1, rules)
        packed = pack(part.phantom.solids)
        rng = np.random.default_rng(p)
        for pose in part.phantom.views(args.views, rng):
            a = time.perf_counter()
            path_length_image(packed, geometry, pose)
            b = time.perf_counter()
            render_view(packed, part.defects, geometry, pose, model, detector, exposure, rng)
            c = time.perf_counter()
            t_paths += b - a
            t_views += c - b
            n += 1
    total = time.perf_counter() - t0
    q = np.full((args.size, args.size), 5000.0)
    a = time.perf_counter()
    expose(q, detector, geometry.magnification, np.random.default_rng(0))
    t_expose = time.perf_counter() - a
    print(
        json.dumps(
            {
                "size": args.size,
                "views": n,
                "part_type": args.type,
                "view_s": round(t_views / n, 4),
                "path_length_s": round(t_paths / n, 4),
                "expose_s": round(t_expose, 4),
                "part_28_views_s": round(t_views / n * 28, 2),
                "wall_s": round(total, 2),
                "cpus": os.cpu_count(),
                "machine": platform.processor() or platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
