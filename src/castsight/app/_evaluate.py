"""Score an inspection run against the truth: COCO detection, part rates, POD; a report."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from castsight.app.options import EvaluateOptions
from castsight.app.results import EvaluateResult
from castsight.errors import InputError

if TYPE_CHECKING:
    from castsight.evaluate.rates import PartRates


def evaluate(options: EvaluateOptions) -> EvaluateResult:
    """Score ``options.pred`` (and the records' sentences) against ``options.truth``.

    Parameters
    ----------
    options : EvaluateOptions
        Inputs, matching (IoU, score, box or mask), POD link, where the report goes.
        Part rates need both ``parts`` and ``records`` (:func:`beside_inputs`
        finds them next to the inputs).

    Returns
    -------
    EvaluateResult
        The figures, the report's folder and what the part rates miss.

    Raises
    ------
    CastsightError
        An input that is missing or malformed, a report folder that exists
        (without ``overwrite``) or holds the inputs.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> truth = {"images": [{"id": 1, "file_name": "P1/V01.tif", "width": 64, "height": 64}],
    ...          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "area": 16,
    ...                           "bbox": [10, 10, 4, 4], "iscrowd": 0, "size_mm": 1.0}],
    ...          "categories": [{"id": 1, "name": "pore"}]}
    >>> _ = (root / "truth.json").write_text(json.dumps(truth))
    >>> pred = [{"file_name": "P1/V01.tif", "bbox": [10, 10, 4, 4], "score": 0.9,
    ...          "category_id": 1}]
    >>> _ = (root / "predictions.json").write_text(json.dumps(pred))
    >>> result = evaluate(EvaluateOptions(pred=root / "predictions.json",
    ...                                   truth=root / "truth.json", out=root / "eval"))
    >>> result.evaluation.detection.recall, (result.report / "metrics.json").is_file()
    (1.0, True)
    """
    from castsight.evaluate import inputs
    from castsight.evaluate.report import evaluate as run_evaluation
    from castsight.evaluate.report import write_report
    from castsight.report.rundir import RunFolder, check_out

    opt = options
    if opt.run_folder:
        check_out(opt.out, overwrite=opt.overwrite)
        _check_apart(opt.out, [opt.pred, opt.truth, opt.parts, opt.records])
    truth = inputs.load_truth(opt.truth)
    ev = run_evaluation(
        truth,
        inputs.load_predictions(opt.pred, truth),
        parts=None if opt.parts is None else inputs.load_parts(opt.parts),
        records=None if opt.records is None else inputs.load_records(opt.records),
        iou_threshold=opt.iou,
        score_threshold=opt.score_threshold,
        mode=opt.match,
        pod_model=opt.pod_model,
        use_imaged=opt.imaged,
        sources={
            "truth": str(opt.truth),
            "predictions": str(opt.pred),
            "parts": None if opt.parts is None else str(opt.parts),
            "records": None if opt.records is None else str(opt.records),
        },
        image_root=opt.truth.parent,
    )
    if not opt.run_folder:
        write_report(ev, opt.out)
        return EvaluateResult(ev, opt.out, _incomplete(ev.parts, opt.records))
    run = RunFolder.start(opt.out, overwrite=opt.overwrite, command="evaluate")
    try:
        write_report(ev, run.path)
        report = run.finish()
    except BaseException:
        run.discard()
        raise
    return EvaluateResult(ev, report, _incomplete(ev.parts, opt.records))


def beside_inputs(pred: Path, truth: Path) -> tuple[Path | None, Path | None]:
    """``parts.json`` beside ``truth`` and ``records.jsonl`` beside ``pred``, where there."""
    parts = truth.parent / "parts.json"
    records = pred.parent / "records.jsonl"
    return (parts if parts.is_file() else None, records if records.is_file() else None)


def _check_apart(out: Path, inputs: list[Path | None]) -> None:
    """The report folder is replaced whole: it may not hold the files evaluated."""
    for path in inputs:
        if path is not None and path.resolve().is_relative_to(out.resolve()):
            raise InputError(out, f"holds the input {path}: choose another --out")


def _incomplete(parts: PartRates | None, records: Path | None) -> str | None:
    """Why the part rates do not cover every part (parts without a record, a run that did
    not complete), or None."""
    from castsight.report.rundir import run_status

    said = []
    if parts is not None and parts.missing:
        names = ", ".join(parts.missing[:10]) + (", ..." if len(parts.missing) > 10 else "")
        said.append(f"{len(parts.missing)} of {parts.n_parts} parts have no record ({names}); "
                    "they are in no rate above")  # fmt: skip
    status = run_status(records.parent) if records is not None else None
    if status is not None and status.get("complete") is False:
        said.append(f"{records} comes from an incomplete run ({status.get('why_incomplete')})")
    return "; ".join(said) or None


__all__ = ["beside_inputs", "evaluate"]
