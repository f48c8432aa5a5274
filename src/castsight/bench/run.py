"""Run a suite end to end: simulate, teach, inspect, evaluate, summarise.

Layout under ``OUT/<suite>/`` (``OUT`` is ``out/bench`` by default)::

    data/<role>/            simulated data sets (castsight simulate layout) + bench.json stamp
    <detector>/model/       what a configuration taught (if it teaches)
    <detector>/records.jsonl, predictions.json   the test set, as castsight inspect writes
    <detector>/metrics.json, report.html         castsight evaluate of the test set
    <detector>/pod/...      the same for the POD set
    summary.json            every configuration's figures (:mod:`castsight.bench.summary`)

A data set whose ``bench.json`` stamp matches the suite is reused unless
``fresh``; everything else is redone on every run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from castsight.bench.configs import CONFIGURATIONS, Configuration, Context, External, InProcess
from castsight.bench.podset import PodPartMaker, add_wall_thickness
from castsight.bench.suites import Suite
from castsight.errors import CastsightError, InputError

if TYPE_CHECKING:
    from castsight.evaluate.report import Evaluation
    from castsight.pipeline import Inspector

Json = dict[str, Any]
Progress = Callable[[str, int], Callable[[int], None]]
STAMP = "bench.json"


@dataclass
class BenchRun:
    """A run's settings (the CLI's arguments)."""

    suite: Suite
    out: Path
    detectors: tuple[str, ...]
    fresh: bool = False
    workers: int = 2
    peer_dir: Path = field(default_factory=Path)
    progress: Progress | None = None
    log: Callable[[str], None] = print

    @property
    def root(self) -> Path:
        """``OUT/<suite>``."""
        return self.out / self.suite.name


def check_detectors(names: Sequence[str]) -> tuple[str, ...]:
    """Known configuration names, in the given order, without repeats."""
    unknown = [n for n in names if n not in CONFIGURATIONS]
    if unknown or not names:
        known = ", ".join(CONFIGURATIONS)
        what = ", ".join(repr(n) for n in unknown) or "none given"
        raise InputError("--detectors", f"unknown detector configuration {what} (known: {known})")
    return tuple(dict.fromkeys(names))


def simulate_set(run: BenchRun, role: str) -> tuple[Path, float, bool]:
    """Simulate (or reuse) one data set; returns its folder, seconds spent and reused."""
    from castsight.simulate.dataset import write_dataset

    suite = run.suite
    spec = suite.spec(role)
    folder = run.root / "data" / role
    stamp = suite.stamp(spec)
    stamp_path = folder / STAMP
    if not run.fresh and stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text(encoding="utf-8")) == stamp:
                return folder, 0.0, True
        except ValueError:
            pass
    if folder.exists():
        shutil.rmtree(folder)
    t0 = time.perf_counter()
    config = suite.config(spec)
    advance = None
    if run.progress is not None:
        advance = run.progress(f"simulating {role}", spec.n_parts * suite.n_views)
    if role == "pod":
        maker = PodPartMaker(pores_per_part=spec.pores_per_part)
        write_dataset(config, folder, progress=advance, make=maker)
        add_wall_thickness(folder, maker.walls)
    else:
        write_dataset(config, folder, progress=advance)
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    return folder, time.perf_counter() - t0, False


def inspect_set(
    inspector: Inspector,
    folder: Path,
    out: Path,
    advance: Callable[[int], None] | None = None,
) -> Json:
    """Inspect every part of ``folder`` into ``out`` (:func:`castsight.app.inspect_parts`:
    records.jsonl, predictions.json) and time it (timing.json); the timing."""
    from castsight.app import advancing, inspect_parts
    from castsight.io.parts import discover_parts

    parts = discover_parts([folder])
    progress = advancing(advance) if advance is not None else None
    t0 = time.perf_counter()
    per_part = []
    n_views = 0
    records = inspect_parts(parts, inspector, out=out, image_root=folder, progress=progress)
    for part, rec in zip(parts, records, strict=True):
        per_part.append(rec.timings["total_s"])
        n_views += len(part.views)
    wall = time.perf_counter() - t0
    timing = _timing(sum(per_part), len(parts), n_views, wall)
    (out / "timing.json").write_text(json.dumps(timing, indent=1) + "\n", encoding="utf-8")
    return timing


def _timing(total_s: float, n_parts: int, n_views: int, wall_s: float) -> Json:
    return {
        "ms_per_view": 1000.0 * total_s / max(n_views, 1),
        "s_per_part": total_s / max(n_parts, 1),
        "parts": n_parts,
        "views": n_views,
        "wall_s": wall_s,
    }


def evaluate_set(folder: Path, out: Path, *, with_parts: bool) -> Evaluation:
    """``castsight evaluate`` of ``out``'s predictions against ``folder``'s truth, the report
    written into ``out`` beside them.

    Part sentences are judged against ``sentence_imaged`` (a rejectable defect that
    shows in at least one of the suite's views), since the suite images fewer
    views than the real cell.
    """
    from castsight.app import EvaluateOptions, evaluate

    options = EvaluateOptions(
        pred=out / "predictions.json",
        truth=folder / "truth.json",
        out=out,
        parts=folder / "parts.json" if with_parts else None,
        records=out / "records.jsonl" if with_parts else None,
        imaged=True,
        run_folder=False,
    )
    return evaluate(options).evaluation


def run_configuration(run: BenchRun, config: Configuration, data: dict[str, Path]) -> Json:
    """Teach (if needed), inspect and evaluate one configuration; its summary entry."""
    from castsight.accept.plan import load_plan
    from castsight.bench.summary import configuration_figures

    out = run.root / config.name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    plan = load_plan(run.suite.part_type)
    ctx = Context(plan, data, out, run.workers, run.peer_dir, run.progress)
    entry: Json = {"name": config.name, "description": config.description, "dir": str(out)}
    if isinstance(config, InProcess):
        t0 = time.perf_counter()
        inspector = config.make(ctx)
        entry["teach_s"] = time.perf_counter() - t0
        timing = {}
        for role, sub in (("test", out), ("pod", out / "pod")):
            folder = data[role]
            # each simulated data set has its own detector (fixed pattern, bad pixels):
            # its own dark/flat frames, as a cell's calibration goes with its panel
            inspector.calibration = ctx.calibration(role)
            n = sum(1 for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_"))
            advance = None if run.progress is None else run.progress(f"{config.name}: {role}", n)
            timing[role] = inspect_set(inspector, folder, sub, advance)
        evaluations = {"test": evaluate_set(data["test"], out, with_parts=True),
                       "pod": evaluate_set(data["pod"], out / "pod", with_parts=False)}  # fmt: skip
    else:
        status = _run_external(run, config, ctx)
        if status is not None:
            return {**entry, **status}
        timing = {"test": json.loads((out / "timing.json").read_text(encoding="utf-8"))}
        evaluations = {"test": evaluate_set(data["test"], out, with_parts=True)}
    return {**entry, "status": "ran", **configuration_figures(evaluations, timing)}


def _run_external(run: BenchRun, config: External, ctx: Context) -> Json | None:
    """Run an external configuration; None when it wrote its files, else a status entry."""
    command = config.command(ctx)
    run.log(f"{config.name}: {' '.join(command)}")
    log_path = ctx.out / f"{config.name}.log"
    t0 = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
    wall = time.perf_counter() - t0
    wanted = ("records.jsonl", "predictions.json", "timing.json")
    missing = [name for name in wanted if not (ctx.out / name).is_file()]
    if proc.returncode != 0 or missing:
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
        reason = f"exit {proc.returncode}" + (f", no {', '.join(missing)}" if missing else "")
        reason += f"; see {log_path}" + (f": {' | '.join(tail)}" if tail else "")
        run.log(f"{config.name}: failed ({reason})")
        return {"status": "failed", "reason": reason, "wall_s": wall}
    return None


def run_suite(run: BenchRun) -> Json:
    """Run every configuration of ``run`` on its suite; the summary (also written)."""
    from castsight.accept.plan import load_plan
    from castsight.bench.summary import dataset_figures, machine, write_summary

    started = time.time()
    t0 = time.perf_counter()
    cpu0 = _cpu_s()
    load0 = _load()
    plan = load_plan(run.suite.part_type)
    configs = [CONFIGURATIONS[n] for n in run.detectors]
    skipped: dict[str, str] = {}
    for config in configs:
        if isinstance(config, External):
            reason = config.check(Context(plan, {}, run.root / config.name, peer_dir=run.peer_dir))
            if reason is not None:
                skipped[config.name] = reason
                run.log(f"{config.name}: skipped ({reason})")
    needed = ["test", "pod"]
    for config in configs:
        if config.name not in skipped:
            needed += [r for r in config.needs if r not in needed]
    data: dict[str, Path] = {}
    steps: Json = {}
    for role in needed:
        folder, seconds, reused = simulate_set(run, role)
        data[role] = folder
        steps[f"simulate_{role}_s"] = seconds
        run.log(f"data set {role}: {'reused' if reused else f'simulated in {seconds:.0f} s'}"
                f" -> {folder}")  # fmt: skip
    entries: list[Json] = []
    for config in configs:
        if config.name in skipped:
            entries.append({"name": config.name, "description": config.description,
                            "status": "skipped", "reason": skipped[config.name]})  # fmt: skip
            continue
        t1 = time.perf_counter()
        try:
            entry = run_configuration(run, config, data)
        except CastsightError as err:
            entry = {"name": config.name, "status": "failed", "reason": str(err)}
            run.log(f"{config.name}: failed ({err})")
        steps[f"{config.name}_s"] = time.perf_counter() - t1
        entries.append(entry)
    steps["total_s"] = time.perf_counter() - t0
    summary = {
        "cpu_s": _cpu_s() - cpu0,
        "load_average": {"start": load0, "end": _load()},
        "suite": run.suite.to_dict(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "machine": machine(),
        "datasets": {role: dataset_figures(folder) for role, folder in data.items()},
        "steps_s": steps,
        "configurations": entries,
    }
    write_summary(summary, run.root / "summary.json")
    return summary


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _load() -> float | None:
    """The 1-minute load average (how busy the shared machine was), if known."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None
