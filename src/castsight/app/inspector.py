"""The :class:`~castsight.pipeline.Inspector` for a plan, a model and a detector mode."""

from __future__ import annotations

from pathlib import Path

from castsight.accept.plan import InspectionPlan
from castsight.app.detectors import check_detector, model_detectors
from castsight.app.options import InspectOptions
from castsight.errors import CastsightError
from castsight.pipeline import Inspector
from castsight.preprocess.prepare import Calibration


def build_inspector(
    options: InspectOptions,
    *,
    plan: InspectionPlan | None = None,
    calibration: Calibration | None = None,
) -> Inspector:
    """The Inspector of ``options``: its plan, its detector mode built from its model.

    Parameters
    ----------
    options : InspectOptions
        Plan name, model folder, detector mode, calibration folder, workers.
    plan : InspectionPlan, optional
        A plan already loaded (then ``options.plan`` is not read).
    calibration : Calibration, optional
        Dark/flat frames already loaded (then ``options.calibration`` is not read).

    Returns
    -------
    Inspector
        Ready to inspect parts (:func:`castsight.app.inspect_parts`).

    Raises
    ------
    CastsightError
        A mode that needs a model without one, a model that is not there, is
        edited, lacks the mode's detector or was taught for another part type.

    Examples
    --------
    >>> inspector = build_inspector(InspectOptions(detector="local"))
    >>> inspector.detector_for("V01").name, inspector.model_info is None
    ('local', True)
    """
    from castsight.accept.plan import load_plan
    from castsight.model import default_model
    from castsight.preprocess.prepare import load_calibration

    mode = check_detector(options.detector)
    plan = plan if plan is not None else load_plan(options.plan)
    if calibration is None and options.calibration is not None:
        calibration = load_calibration(options.calibration)
    model: Path | None = options.model
    if model is None and mode.model == "shipped":
        model = default_model()
    if model is None and mode.model in ("shipped", "required"):
        raise CastsightError(None, f"--detector {mode.name} needs --model (no shipped model "
                                   "here)")  # fmt: skip
    if model is None or mode.model == "none":
        return Inspector(plan, calibration=calibration, workers=options.workers)
    found = model_detectors(model, plan, mode.name)
    return Inspector(
        plan,
        calibration=calibration,
        workers=options.workers,
        detector_for=found.detector_for,
        model_info=found.model_info,
        expected_views=list(found.expected_views),
    )


__all__ = ["build_inspector"]
