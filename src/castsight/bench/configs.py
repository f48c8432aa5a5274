"""Detector configurations the benchmark can run: one entry each in :data:`CONFIGURATIONS`.

A configuration is either

* :class:`InProcess`: a castsight :class:`~castsight.pipeline.Inspector` built by
  ``make(ctx)``, which may first teach from the suite's data sets named in
  ``needs`` (``good``: good parts; ``train``: labelled parts). The bench times
  ``make`` as the teaching time and then inspects the test and POD sets with
  the Inspector, setting its ``calibration`` to each set's own dark/flat frames
  (every simulated data set has its own detector); or
* :class:`External`: a program run on the suite's files that writes
  ``records.jsonl``, ``predictions.json`` and ``timing.json`` like
  ``castsight inspect`` (the peer, a YOLO11n through ONNX, with its own venv).
  ``check(ctx)`` says why it cannot run here and how to enable it (None when
  it can); ``command(ctx)`` gives the argument list.

An in-process configuration is named after a detector mode of the one registry
(:data:`castsight.app.detectors.DETECTORS`) and builds its Inspector through
:func:`castsight.app.build_inspector` (teaching through :func:`castsight.app.teach`);
adding one is one entry, e.g. for the cascade::

    "cascade": _in_process("cascade", (), _cascade, "local confirmed by the shipped CNN"),
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from castsight.accept.plan import InspectionPlan
from castsight.app.detectors import DETECTORS
from castsight.app.progress import Progress
from castsight.pipeline import Inspector
from castsight.preprocess.prepare import Calibration, load_calibration


@dataclass
class Context:
    """What a configuration may use: the plan, the data sets, its own output folder."""

    plan: InspectionPlan
    data: dict[str, Path]
    """Data set folders by role (``test``, ``pod``, ``good``, ``train``)."""
    out: Path
    """This configuration's output folder (models go below it)."""
    workers: int = 2
    peer_dir: Path = field(default_factory=Path)
    """Folder holding ``.venv-peer/bin/python`` and ``benchmarks/peer/run_peer.py``."""
    progress: Callable[[str, int], Callable[[int], None]] | None = None
    """``progress(description, total)`` returns an ``advance(n)`` callback."""

    def calibration(self, role: str = "test") -> Calibration | None:
        """The dark/flat frames of a data set, if it has them."""
        folder = self.data[role] / "_calibration"
        return load_calibration(folder) if folder.is_dir() else None

    def advance(self, description: str, total: int) -> Callable[[int], None] | None:
        """A progress callback for a step of ``total`` units, or None."""
        return None if self.progress is None else self.progress(description, total)


@dataclass(frozen=True)
class InProcess:
    """A castsight detector configuration run in this process."""

    name: str
    needs: tuple[str, ...]
    make: Callable[[Context], Inspector]
    description: str


@dataclass(frozen=True)
class External:
    """A detector run as another program (see the module docstring)."""

    name: str
    needs: tuple[str, ...]
    check: Callable[[Context], str | None]
    command: Callable[[Context], list[str]]
    description: str


Configuration = InProcess | External


def _inspector(ctx: Context, detector: str, model: Path | None = None) -> Inspector:
    """The Inspector of a detector mode of :data:`~castsight.app.detectors.DETECTORS`."""
    from castsight.app import InspectOptions, build_inspector

    options = InspectOptions(model=model, detector=detector, workers=ctx.workers)
    return build_inspector(options, plan=ctx.plan, calibration=ctx.calibration())


def _local(ctx: Context) -> Inspector:
    return _inspector(ctx, "local")


def teach_reference(ctx: Context, **network: Any) -> Path:
    """Teach the ``good`` parts into ``ctx.out/model`` as ``castsight teach`` does (with
    ``network``: :class:`~castsight.app.TeachOptions` of a network too); refused when no
    view could be taught."""
    from castsight.app import TeachOptions, advancing, teach
    from castsight.errors import CastsightError

    bars: dict[str, Progress | None] = {}

    def progress(stage: str, done: int, total: int, note: str = "", /) -> None:
        if stage not in bars:
            name = "teaching reference" if stage == "learning views" else f"guided: {stage}"
            advance = ctx.advance(name, total)
            bars[stage] = advancing(advance) if advance is not None else None
        bar = bars[stage]
        if bar is not None:
            bar(stage, done, total, note)

    good = ctx.data["good"]
    options = TeachOptions((good,), ctx.out / "model", ctx.plan.part_type, overwrite=True,
                           **network)  # fmt: skip
    result = teach(options, progress=progress)
    if not result.views:
        raise CastsightError(good, "; ".join(result.warnings) or "no view could be taught")
    return result.model


def _reference(ctx: Context) -> Inspector:
    return _inspector(ctx, "reference", teach_reference(ctx))


def _learned(ctx: Context) -> Inspector:
    """The learned detector of the model shipped in the package (no teaching here)."""
    return _inspector(ctx, "learned")


GUIDED_MINUTES = 4.0
"""CPU training budget of the guided network in the bench (as ``teach --minutes``)."""


def _guided(ctx: Context) -> Inspector:
    """The reference taught from ``good``, plus the guided network fine-tuned on the same
    parts (as ``castsight teach --learned``; needs the ``train`` extra): 3000 steps at
    most, samples made in this process."""
    model = teach_reference(ctx, learned=True, network="guided", minutes=GUIDED_MINUTES,
                            steps=3000, workers=0)  # fmt: skip
    return _inspector(ctx, "guided", model)


PEER_PYTHON = Path(".venv-peer/bin/python")
PEER_SCRIPT = Path("benchmarks/peer/run_peer.py")


def _peer_check(ctx: Context) -> str | None:
    missing = [str(ctx.peer_dir / p) for p in (PEER_PYTHON, PEER_SCRIPT)]
    missing = [p for p in missing if not Path(p).exists()]
    if not missing:
        return None
    return (
        f"{' and '.join(missing)} not found; build the peer's venv and script "
        "(docs/bench.md, 'The peer') or pass --peer-dir"
    )


def _peer(ctx: Context) -> list[str]:
    python, script = ctx.peer_dir / PEER_PYTHON, ctx.peer_dir / PEER_SCRIPT
    return [str(python), str(script), "--train", str(ctx.data["train"]),
            "--test", str(ctx.data["test"]), "--out", str(ctx.out)]  # fmt: skip


def _in_process(
    name: str, needs: tuple[str, ...], make: Callable[[Context], Inspector], description: str
) -> InProcess:
    """An in-process configuration; its name is a detector mode of the one registry
    (:data:`~castsight.app.detectors.DETECTORS`)."""
    if name not in DETECTORS:
        raise ValueError(f"bench configuration {name!r} is not a detector mode")
    return InProcess(name, needs, make, description)


CONFIGURATIONS: dict[str, Configuration] = {
    "local": _in_process("local", (), _local, "no training: Hessian blob AND closing residual"),
    "reference": _in_process(
        "reference", ("good",), _reference, "per-view reference taught from the good parts"
    ),
    "guided": _in_process(
        "guided", ("good",), _guided, "reference plus the guided CNN fine-tuned on the good parts"
    ),
    "learned": _in_process(
        "learned", (), _learned, "the shipped learned model (CNN through onnxruntime)"
    ),
    "peer": External(
        "peer", ("train",), _peer_check, _peer, "YOLO11n trained on the train set, run through ONNX"
    ),
}
