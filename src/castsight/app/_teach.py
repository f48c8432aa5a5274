"""Teach a model from good parts: the ``reference`` statistics, and with ``learned`` a network.

The reference is learned where the good images are aligned views of one part
(three or more images per view name that register); the network, with
``TeachOptions.learned`` (the ``train`` extra: torch), is the ``guided``
detector's when there is a reference, else the image-only ``learned``
detector's. The model is written once, at the end, atomically: an error or
Ctrl-C leaves no model folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from castsight.app.options import TeachOptions
from castsight.app.progress import Progress
from castsight.app.results import NetworkSummary, TeachResult
from castsight.errors import CastsightError, InputError

if TYPE_CHECKING:
    from castsight.detect.reference import ReferenceView
    from castsight.io.parts import PartSource
    from castsight.model.artifact import LearnedPart
    from castsight.preprocess.prepare import Calibration

STAGE = "learning views"


def teach(options: TeachOptions, *, progress: Progress | None = None) -> TeachResult:
    """Learn from the good parts of ``options.good`` and write the model ``options.out``.

    Parameters
    ----------
    options : TeachOptions
        Good folders, model folder, plan, calibration, network and its training.
    progress : Progress, optional
        ``("learning views", done, n_images)``, then the network's training stages.

    Returns
    -------
    TeachResult
        The model folder, its size, images per taught view, networks and warnings.

    Raises
    ------
    CastsightError
        The model folder exists (without ``overwrite``) or is not a model, no
        good image was found, the guided network was asked without aligned
        views, or the ``train`` extra is missing for a network.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from pathlib import Path
    >>> from castsight.io import write_radiograph
    >>> from castsight.radiograph import Radiograph
    >>> good = Path(tempfile.mkdtemp())
    >>> rng = np.random.default_rng(0)
    >>> clean = np.full((96, 96), 20000.0); clean[20:60, 40:] = 12000.0
    >>> for k in range(4):
    ...     (good / f"P{k}").mkdir()
    ...     px = rng.poisson(clean).astype(np.uint16)
    ...     _ = write_radiograph(Radiograph(px, view="V01"), good / f"P{k}" / "V01.tif")
    >>> result = teach(TeachOptions(good=(good,), out=good.parent / f"{good.name}-model"))
    >>> result.images_per_view
    {'V01': 4}
    """
    from castsight.accept.plan import load_plan
    from castsight.io.parts import discover_parts
    from castsight.model import save_artifact
    from castsight.preprocess.prepare import load_calibration
    from castsight.teach import learn_reference, reference_summary

    _check_out(options.out, overwrite=options.overwrite)
    if options.learned and options.init not in ("default", "none"):
        _check_init(options.init)  # a bad --init fails now, not after minutes
    part_type = load_plan(options.plan).part_type
    parts = discover_parts(list(options.good))
    n_images = sum(len(p.views) for p in parts)
    if n_images == 0:
        raise InputError(options.good[0], "no part images found (expected "
                                          "GOOD/<part>/<view>.tif)")  # fmt: skip
    cal_dir = options.calibration or next(
        (g / "_calibration" for g in options.good if (g / "_calibration").is_dir()), None
    )
    cal = load_calibration(cal_dir) if cal_dir is not None else None
    warnings: list[str] = []
    refs: dict[str, ReferenceView] | None = None
    done = [0]

    def learned_one(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(STAGE, done[0], n_images)

    if progress is not None:
        progress(STAGE, 0, n_images)
    try:
        refs = learn_reference(parts, cal, progress=learned_one, notes=warnings)
    except InputError as err:  # no aligned views: still a model, judged by others
        then = "the learned detector" if options.learned else "the local detector (or teach "
        warnings.append(f"no reference statistics: {err.reason}; views will be judged by "
                        f"{then}{'' if options.learned else '--learned)'}")  # fmt: skip
    learned_part = guided_part = None
    if options.learned:
        if options.network == "guided" and not refs:
            raise InputError(options.good[0], "the guided detector needs aligned views "
                                              "(a reference); none could be learned")  # fmt: skip
        if refs and options.network != "learned":
            guided_part = _teach_network(parts, cal, options, progress, refs)
        else:
            learned_part = _teach_network(parts, cal, options, progress)
    summary: dict[str, Any] = reference_summary(refs) if refs else {"views": 0, "warnings": []}
    training: dict[str, Any] = {
        **summary,
        "good": [str(g) for g in options.good],
        "parts": len(parts),
        "calibration": str(cal_dir) if cal_dir is not None else None,
        "plan": options.plan,
    }
    model = save_artifact(
        options.out,
        reference=refs,
        learned=learned_part,
        guided=guided_part,
        part_type=part_type,
        training=training,
        overwrite=options.overwrite,
    )
    taught = (("learned", learned_part), ("guided", guided_part))
    networks = [_network_summary(name, net) for name, net in taught if net is not None]
    return TeachResult(
        model=options.out,
        size_bytes=model.size_bytes,
        images_per_view=dict(summary.get("images_per_view", {})),
        networks=tuple(networks),
        warnings=tuple(warnings + summary["warnings"]),
    )


def _check_out(out: Path, *, overwrite: bool) -> None:
    """Fail before minutes of learning, not after."""
    from castsight.model import MANIFEST
    from castsight.report.rundir import check_writable

    if out.exists() and not overwrite:
        raise InputError(out, "already exists; pass --overwrite to replace it")
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    if out.exists() and not (out / MANIFEST).is_file() and any(out.iterdir()):
        raise InputError(out, "exists and is not a castsight model; refusing to replace it")
    check_writable(out.parent)


def _check_init(init: str) -> None:
    """A model folder given as ``init`` holds weights to fine-tune."""
    from castsight.model import load_artifact

    manifest = load_artifact(init).manifest
    if not any(isinstance(manifest.get(k), dict) and manifest[k].get("weights")
               for k in ("learned", "guided")):  # fmt: skip
        raise InputError(Path(init), "has no learned or guided weights to fine-tune")


def _network_summary(name: str, net: LearnedPart) -> NetworkSummary:
    val = net.summary["validation"]
    a90 = (val.get("pod_size_px") or {}).get("a90")
    return NetworkSummary(
        name=name,
        threshold=float(net.settings.threshold),
        recall=float(val["recall"]),
        a90_px=float(a90) if a90 else None,
        false_per_good_image=float(val["false_per_good_image"]),
    )


def _teach_network(
    parts: Sequence[PartSource],
    cal: Calibration | None,
    opt: TeachOptions,
    progress: Progress | None,
    refs: dict[str, ReferenceView] | None = None,
) -> LearnedPart:
    """A network's part of the model (needs torch: the ``train`` extra): the guided
    detector's when ``refs`` (the reference just learned) are given, else the learned one's."""
    try:
        from castsight.learn.guided_network import initial_guided_network, teach_guided
        from castsight.learn.network import (
            FINE_TUNE_LR,
            TeachSettings,
            initial_network,
            teach_learned,
        )
    except ImportError as err:
        raise CastsightError(
            None,
            f"the learned detector needs the train extra (pip install castsight[train]): {err}",
        ) from None
    init = initial_guided_network(opt.init) if refs else initial_network(opt.init)
    base = TeachSettings()
    train = replace(
        base.train,
        steps=opt.steps,
        time_budget_s=60.0 * opt.minutes,
        seed=opt.seed,
        workers=opt.workers,
        lr=FINE_TUNE_LR if init is not None else base.train.lr,
    )
    settings = replace(base, seed=opt.seed, target_false_per_image=opt.false_rate, train=train)
    images = [(f"{p.serial}/{v.name}", v.path) for p in parts for v in p.views]
    if refs:
        return teach_guided(images, refs, cal, settings, progress=progress, init=init)
    return teach_learned(images, cal, settings, progress=progress, init=init)


__all__ = ["teach"]
