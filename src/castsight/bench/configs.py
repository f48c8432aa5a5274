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

Adding a detector is one entry, e.g. for a learned model taught from ``train``::

    "learned": InProcess("learned", ("train",), _learned, "CNN taught from train"),
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from castsight.accept.plan import InspectionPlan
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


def _local(ctx: Context) -> Inspector:
    return Inspector(ctx.plan, calibration=ctx.calibration(), workers=ctx.workers)


def teach_reference(ctx: Context) -> Path:
    """Learn every view of the ``good`` parts into ``ctx.out/model`` (as ``castsight teach``)."""
    from castsight.teach import teach_reference_model

    return teach_reference_model(
        ctx.data["good"], ctx.out / "model", part_type=ctx.plan.part_type,
        calibration=ctx.calibration("good"),
        progress_for=lambda n: ctx.advance("teaching reference", n),
    )  # fmt: skip


def _reference(ctx: Context) -> Inspector:
    from castsight.model.detectors import model_detectors

    detectors = model_detectors(teach_reference(ctx), ctx.plan)
    return Inspector(ctx.plan, calibration=ctx.calibration(), workers=ctx.workers, **detectors)


def _learned(ctx: Context) -> Inspector:
    """The learned detector of the model shipped in the package (no teaching here)."""
    from castsight.errors import CastsightError
    from castsight.model import default_model
    from castsight.model.detectors import model_detectors

    shipped = default_model()
    if shipped is None:
        raise CastsightError(None, "this installation has no default learned model")
    detectors = model_detectors(shipped, ctx.plan, "learned")
    return Inspector(ctx.plan, calibration=ctx.calibration(), workers=ctx.workers, **detectors)


GUIDED_MINUTES = 4.0
"""CPU training budget of the guided network in the bench (as ``teach --minutes``)."""


def _guided(ctx: Context) -> Inspector:
    """The reference taught from ``good``, plus the guided network fine-tuned on the same
    parts (as ``castsight teach --learned``; needs the ``train`` extra)."""
    from dataclasses import replace

    from castsight.errors import CastsightError
    from castsight.io.parts import discover_parts
    from castsight.model import load_artifact, save_artifact
    from castsight.model.detectors import model_detectors

    try:
        from castsight.learn.teach import FINE_TUNE_LR, TeachSettings
        from castsight.learn.teach_guided import initial_guided_network, teach_guided
    except ImportError as err:
        raise CastsightError(None, f"the guided detector needs the train extra: {err}") from None
    model = teach_reference(ctx)
    artifact = load_artifact(model)
    refs = artifact.reference()
    images = [(f"{p.serial}/{v.name}", v.path)
              for p in discover_parts([ctx.data["good"]]) for v in p.views]  # fmt: skip
    base = TeachSettings()
    train = replace(base.train, time_budget_s=60.0 * GUIDED_MINUTES, lr=FINE_TUNE_LR)
    bars: dict[str, tuple[Callable[[int], None] | None, list[int]]] = {}

    def progress(stage: str, done: int, total: int, note: str) -> None:
        del note
        if stage not in bars:
            bars[stage] = (ctx.advance(f"guided: {stage}", total), [0])
        advance, seen = bars[stage]
        if advance is not None and done > seen[0]:
            advance(done - seen[0])
        seen[0] = done

    guided = teach_guided(images, refs, ctx.calibration("good"), replace(base, train=train),
                          progress=progress, init=initial_guided_network("default"))  # fmt: skip
    save_artifact(model, reference=refs, guided=guided, part_type=artifact.part_type,
                  training=artifact.training, overwrite=True)  # fmt: skip
    detectors = model_detectors(model, ctx.plan)
    return Inspector(ctx.plan, calibration=ctx.calibration(), workers=ctx.workers, **detectors)


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


CONFIGURATIONS: dict[str, Configuration] = {
    "local": InProcess("local", (), _local, "no training: Hessian blob AND closing residual"),
    "reference": InProcess(
        "reference", ("good",), _reference, "per-view reference taught from the good parts"
    ),
    "guided": InProcess(
        "guided", ("good",), _guided, "reference plus the guided CNN fine-tuned on the good parts"
    ),
    "learned": InProcess(
        "learned", (), _learned, "the shipped learned model (CNN through onnxruntime)"
    ),
    "peer": External(
        "peer", ("train",), _peer_check, _peer, "YOLO11n trained on the train set, run through ONNX"
    ),
}
