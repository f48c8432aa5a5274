"""Run the foreign-part suite: simulate its series, inspect them untaught and taught, score.

Two configurations (:data:`FOREIGN_CONFIGURATIONS`), both through
:mod:`castsight.app` exactly as a user with an archive would run castsight:

* ``untaught``: ``castsight inspect`` with no ``--model`` (the generic plan, the
  default detector mode);
* ``taught``: ``castsight teach --good`` on the good series of the taught design
  (loose file names: views are found by registration), then ``castsight inspect
  --model``; a test image that matches no taught pose is judged by the
  fallback detector.

The score (:func:`score_run`), at the bench's score threshold 0.5 where one is
needed:

* loose AP: COCO-style AP of the loose matching (IoU >= 0.25 or the
  prediction's centre in the truth box, :mod:`castsight.evaluate.loose`), over
  every test image; AP50 (COCO, IoU >= 0.5, class-agnostic) beside it;
* series found: a defective series (one with a marked defect) is *found*
  when an indication scoring >= 0.5 loosely matches one of its marked
  defects in any view; how many were sentenced NG is counted apart (an NG
  may come from false indications alone);
* false indications per good image: indications scoring >= 0.5 on the
  images of the good test series, per image;
* part sentences: OK / NG / REVIEW counts of the defective and the good series.

>>> f = figures_of([{"serial": "S01", "sentence": "NG", "defective": True, "hits": 1,
...                  "false": 0, "views": 2, "seen": True, "family": "housing", "design": 0}],
...                loose_ap=0.5, ap50=0.1, ms_per_view=40.0)
>>> f.found_hit, f.found_ng, f.sentences_defective
(1, 1, {'OK': 0, 'NG': 1, 'REVIEW': 0})
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from castsight.bench.foreign import ForeignSuite, write_set
from castsight.errors import CastsightError

if TYPE_CHECKING:
    from castsight.pipeline import Inspector

Json = dict[str, Any]
SCORE_THRESHOLD = 0.5
SENTENCES = ("OK", "NG", "REVIEW")
Progress = Callable[[str, int], Callable[[int], None]]


@dataclass
class ForeignRun:
    """A foreign run's settings (the CLI's arguments)."""

    suite: ForeignSuite
    out: Path
    detectors: tuple[str, ...]
    fresh: bool = False
    workers: int = 2
    progress: Progress | None = None
    log: Callable[[str], None] = print

    @property
    def root(self) -> Path:
        """``OUT/<suite>``."""
        return self.out / self.suite.name


@dataclass(frozen=True)
class ForeignConfiguration:
    """One way to inspect the foreign series: ``make(run, out)`` returns the Inspector,
    teaching first (into ``out/model``) if it must."""

    name: str
    description: str
    make: Callable[[ForeignRun, Path], Inspector]


def _untaught(run: ForeignRun, out: Path) -> Inspector:
    from castsight.app import InspectOptions, build_inspector

    del out
    return build_inspector(InspectOptions(workers=run.workers))


def _taught(run: ForeignRun, out: Path) -> Inspector:
    from castsight.app import InspectOptions, TeachOptions, build_inspector, teach

    good = run.root / "data" / "good"
    result = teach(TeachOptions(good=(good,), out=out / "model", overwrite=True))
    for warning in result.warnings:
        run.log(f"taught: {warning}")
    return build_inspector(InspectOptions(model=out / "model", workers=run.workers))


_UNTAUGHT = "castsight inspect, no --model (generic plan, default detector)"
_TAUGHT = "castsight teach --good on the good series of the taught design, then inspect --model"
FOREIGN_CONFIGURATIONS: dict[str, ForeignConfiguration] = {
    c.name: c
    for c in (
        ForeignConfiguration("untaught", _UNTAUGHT, _untaught),
        ForeignConfiguration("taught", _TAUGHT, _taught),
    )
}


def check_foreign_detectors(names: Sequence[str]) -> tuple[str, ...]:
    """Known foreign configuration names, in order, without repeats.

    >>> check_foreign_detectors(["taught", "untaught", "taught"])
    ('taught', 'untaught')
    """
    from castsight.errors import InputError

    unknown = [n for n in names if n not in FOREIGN_CONFIGURATIONS]
    if unknown or not names:
        known = ", ".join(FOREIGN_CONFIGURATIONS)
        what = ", ".join(repr(n) for n in unknown) or "none given"
        raise InputError("--detectors", f"unknown foreign configuration {what} (known: {known})")
    return tuple(dict.fromkeys(names))


@dataclass(frozen=True)
class SeriesResult:
    """One test series as a configuration saw it."""

    serial: str
    family: str
    design: int
    seen: bool
    defective: bool
    """A marked defect shows in at least one of its views."""
    sentence: str
    hits: int
    """Marked defects (per view) loosely matched by an indication scoring >= 0.5."""
    false: int
    """Indications scoring >= 0.5 that match no marked defect."""
    views: int


@dataclass(frozen=True)
class ForeignFigures:
    """A configuration's figures on the foreign test series (see the module docstring)."""

    loose_ap: float | None
    ap50: float | None
    defective_series: int
    found_hit: int
    found_ng: int
    good_series: int
    good_images: int
    false_per_good_image: float | None
    sentences_defective: dict[str, int]
    sentences_good: dict[str, int]
    ms_per_view: float
    series: tuple[SeriesResult, ...] = field(default=())

    def to_dict(self) -> Json:
        """JSON-ready form."""
        return asdict(self)


def figures_of(
    series: Sequence[Mapping[str, Any]],
    *,
    loose_ap: float | None,
    ap50: float | None,
    ms_per_view: float,
) -> ForeignFigures:
    """The figures from per-series rows (keys of :class:`SeriesResult`)."""
    rows = tuple(SeriesResult(**{k: s[k] for k in SeriesResult.__dataclass_fields__})
                 for s in series)  # fmt: skip
    defective = [r for r in rows if r.defective]
    good = [r for r in rows if not r.defective]
    good_images = sum(r.views for r in good)

    def counts(rs: list[SeriesResult]) -> dict[str, int]:
        return {s: sum(r.sentence == s for r in rs) for s in SENTENCES}

    return ForeignFigures(
        loose_ap=loose_ap,
        ap50=ap50,
        defective_series=len(defective),
        found_hit=sum(r.hits > 0 for r in defective),
        found_ng=sum(r.sentence == "NG" for r in defective),
        good_series=len(good),
        good_images=good_images,
        false_per_good_image=sum(r.false for r in good) / good_images if good_images else None,
        sentences_defective=counts(defective),
        sentences_good=counts(good),
        ms_per_view=ms_per_view,
        series=rows,
    )


def score_run(
    truth: Json, parts: Sequence[Json], predictions: Sequence[Json], records: Sequence[Json],
    *, ms_per_view: float,
) -> ForeignFigures:  # fmt: skip
    """Score one configuration: truth.json and parts.json of the test set, its predictions
    (COCO results with ``image_id``) and records (``serial``, ``sentence``)."""
    from castsight.evaluate.coco import coco_ap
    from castsight.evaluate.loose import average_precision, loose_matching

    matching = loose_matching(truth, predictions)
    part_of_image = {i["id"]: i["part"] for i in truth["images"]}
    part_of_truth = {a["id"]: a["part"] for a in truth["annotations"]}
    hits: dict[str, int] = {}
    false: dict[str, int] = {}
    for pred, t in zip(predictions, matching.pred_truth, strict=True):
        if float(pred["score"]) < SCORE_THRESHOLD:
            continue
        serial = part_of_image[pred["image_id"]]
        if t is None:
            false[serial] = false.get(serial, 0) + 1
        else:
            hits[part_of_truth[t]] = hits.get(part_of_truth[t], 0) + 1
    sentences = {r["serial"]: str(r.get("sentence")) for r in records}
    rows = [{"serial": p["serial"], "family": p["family"], "design": p["design"],
             "seen": p["seen"], "defective": p["sentence"] == "NG",
             "sentence": sentences.get(p["serial"], "missing"),
             "hits": hits.get(p["serial"], 0), "false": false.get(p["serial"], 0),
             "views": len(p["views"])} for p in parts]  # fmt: skip
    agnostic = [{**p, "category_id": truth["categories"][0]["id"]} for p in predictions]
    ap = coco_ap(truth, agnostic).ap50_any_class if truth["annotations"] else None
    return figures_of(rows, loose_ap=average_precision(matching), ap50=ap,
                      ms_per_view=ms_per_view)  # fmt: skip


def run_configuration(run: ForeignRun, config: ForeignConfiguration, test: Path) -> Json:
    """Teach (if needed), inspect the test series and score them; the summary entry."""
    from castsight.bench.run import inspect_set
    from castsight.evaluate.inputs import resolve_predictions

    out = run.root / config.name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    entry: Json = {"name": config.name, "description": config.description, "dir": str(out)}
    t0 = time.perf_counter()
    inspector = config.make(run, out)
    entry["teach_s"] = time.perf_counter() - t0
    n = sum(1 for p in test.iterdir() if p.is_dir())
    advance = None if run.progress is None else run.progress(f"{config.name}: test", n)
    timing = inspect_set(inspector, test, out, advance)
    truth = json.loads((test / "truth.json").read_text(encoding="utf-8"))
    parts = json.loads((test / "parts.json").read_text(encoding="utf-8"))["parts"]
    raw = json.loads((out / "predictions.json").read_text(encoding="utf-8"))
    predictions = resolve_predictions(raw, truth, out / "predictions.json")
    lines = (out / "records.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    figures = score_run(truth, parts, predictions, records, ms_per_view=timing["ms_per_view"])
    (out / "figures.json").write_text(json.dumps(figures.to_dict(), indent=1) + "\n",
                                      encoding="utf-8")  # fmt: skip
    return {**entry, "status": "ran", "timing": timing, **figures.to_dict()}


def run_foreign(run: ForeignRun) -> Json:
    """Simulate (or reuse) the suite's data sets, run every configuration, write and return
    the summary (``OUT/<suite>/summary.json``)."""
    from castsight.bench.run import _load
    from castsight.bench.summary import machine

    started = time.time()
    t0 = time.perf_counter()
    load0 = _load()
    suite = run.suite
    steps: Json = {}
    datasets: Json = {}
    roles = ("test", "good") if "taught" in run.detectors else ("test",)
    for role in roles:
        count = suite.test_series if role == "test" else suite.good_series
        advance = None if run.progress is None else run.progress(f"simulating {role}",
                                                                  count * suite.views)  # fmt: skip
        t1 = time.perf_counter()
        folder = run.root / "data" / role
        reused, datasets[role] = write_set(suite, role, folder, fresh=run.fresh, progress=advance)
        steps[f"simulate_{role}_s"] = time.perf_counter() - t1
        run.log(f"data set {role}: {'reused' if reused else 'simulated'} -> {folder}")
    entries: list[Json] = []
    for name in run.detectors:
        config = FOREIGN_CONFIGURATIONS[name]
        t1 = time.perf_counter()
        try:
            entry = run_configuration(run, config, run.root / "data" / "test")
        except CastsightError as err:
            entry = {"name": name, "description": config.description, "status": "failed",
                     "reason": str(err)}  # fmt: skip
            run.log(f"{name}: failed ({err})")
        steps[f"{name}_s"] = time.perf_counter() - t1
        entries.append(entry)
    steps["total_s"] = time.perf_counter() - t0
    summary: Json = {
        "suite": suite.to_dict(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started)),
        "machine": machine(),
        "load_average": {"start": load0, "end": _load()},
        "datasets": datasets,
        "steps_s": steps,
        "configurations": entries,
    }
    _write(summary, run.root / "summary.json")
    return summary


def _write(summary: Json, path: Path) -> None:
    from castsight.evaluate.report import json_finite
    from castsight.io.files import atomic_write_bytes

    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json_finite(summary), indent=1, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


__all__ = [
    "FOREIGN_CONFIGURATIONS",
    "ForeignConfiguration",
    "ForeignFigures",
    "ForeignRun",
    "SeriesResult",
    "check_foreign_detectors",
    "figures_of",
    "run_configuration",
    "run_foreign",
    "score_run",
]
