"""``castsight demo``: the main job on the embedded default, end to end.

A short simulated line run of the giga-underbody casting: good parts to
learn each view from (the ``reference`` detector, as in series production),
then a handful of new parts, some defective, inspected under the shipped
plan. Prints true against found sentences, the reasons and the time per
part, and writes records, COCO predictions and the HTML report. Beside the
found sentence it shows what the shipped learned model (``default_model``,
never taught this part) says of each part: how far a generic network gets
without teaching.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from castsight.cli.common import EXIT_BAD_INPUT, report_error
from castsight.errors import CastsightError

if TYPE_CHECKING:
    from castsight.accept.plan import InspectionPlan
    from castsight.preprocess.prepare import Calibration


def demo(
    out: Path = typer.Option(Path("out/demo"), help="Folder for the demo's files."),
    parts: int = typer.Option(6, min=1, help="Parts to inspect."),
    good: int = typer.Option(20, min=3, help="Good parts to learn the views from."),
    views: int = typer.Option(4, min=1, help="Views per part."),
    size: int = typer.Option(768, min=128, help="Detector side (px)."),
    seed: int = typer.Option(7, help="Random seed."),
    detector: str = typer.Option(
        "reference",
        help="reference (views learned from good parts), local (no training), "
        "learned or cascade (the shipped learned model).",
    ),
) -> None:
    """Simulate a line run, learn the views from good parts, inspect new parts."""
    from castsight.simulate.dataset import SimulationConfig, write_dataset

    console = Console()
    if detector not in ("reference", "local", "learned", "cascade"):
        report_error(f"--detector {detector!r}: expected local, reference, learned or cascade")
        raise typer.Exit(EXIT_BAD_INPUT)
    t0 = time.perf_counter()
    test_dir, train_dir = out / "parts", out / "good"
    runs = [(test_dir, parts, 0.5, seed)]
    if detector == "reference":
        runs.append((train_dir, good, 0.0, seed + 1000))
    for folder, n, rate, s in runs:
        _clear(folder)
        config = SimulationConfig(
            part_type="giga-underbody", n_parts=n, n_views=views, size=size,
            defect_rate=rate, seed=s, series=1, detector_seed=seed,
        )  # fmt: skip
        write_dataset(config, folder)
    learn = f"{good} good and " if detector == "reference" else ""
    console.print(f"simulated {learn}{parts} parts in {time.perf_counter() - t0:.1f} s")
    from castsight.accept.plan import load_plan
    from castsight.preprocess.prepare import load_calibration

    try:
        cal = load_calibration(test_dir / "_calibration")
        plan = load_plan("giga-underbody")
        records = _inspect(test_dir, train_dir, out / "inspect", detector, plan, cal)
        generic = _shipped_sentences(test_dir, plan, cal) if detector == "reference" else {}
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    _table(console, records, test_dir, generic)
    console.print(f"report: {out / 'inspect' / 'report.html'}")


def _inspect(
    test_dir: Path,
    train_dir: Path,
    out: Path,
    detector: str,
    plan: InspectionPlan,
    cal: Calibration | None,
) -> list[dict[str, Any]]:
    """Teach the good parts (``reference``), inspect the test parts into ``out``."""
    from castsight.app import InspectOptions, TeachOptions, build_inspector, inspect_parts, teach
    from castsight.io.parts import discover_parts
    from castsight.report.html import write_html_report

    model = None
    if detector == "reference":
        taught = TeachOptions((train_dir,), out.parent / "model", "giga-underbody", overwrite=True)
        model = teach(taught).model
    mode = "auto" if detector == "reference" else detector
    inspector = build_inspector(InspectOptions(model=model, detector=mode), plan=plan,
                                calibration=cal)  # fmt: skip
    _clear(out)
    parts = discover_parts([test_dir])
    records = [r.to_dict() for r in inspect_parts(parts, inspector, out=out, image_root=test_dir)]
    write_html_report(records, out)
    return records


def _shipped_sentences(
    test_dir: Path, plan: InspectionPlan, cal: Calibration | None
) -> dict[str, str]:
    """Sentence per part by the shipped learned model alone (empty when there is none)."""
    from castsight.app import InspectOptions, build_inspector, inspect_parts
    from castsight.io.parts import discover_parts
    from castsight.model import default_model

    if default_model() is None:
        return {}
    inspector = build_inspector(InspectOptions(detector="learned"), plan=plan, calibration=cal)
    return {r.serial: r.sentence for r in inspect_parts(discover_parts([test_dir]), inspector)}


def _table(
    console: Console, records: list[dict[str, Any]], test_dir: Path, generic: dict[str, str]
) -> None:
    import json

    truth = {p["serial"]: p for p in json.loads((test_dir / "parts.json").read_text())["parts"]}
    table = Table(title="castsight demo: true vs found")
    columns = ["part", "true", "found", "reasons (found)", "s/part"]
    for col in columns + (["shipped CNN, untaught"] if generic else []):
        table.add_column(col)
    colour = {"OK": "green", "NG": "red", "REVIEW": "yellow"}
    agree = agree_generic = 0
    for r in records:
        true = truth.get(r["serial"], {}).get("sentence_imaged", "?")
        found = r["sentence"]
        agree += int(true == found)
        reasons = "; ".join(f["message"] for f in r["findings"][:2])
        row = [r["serial"], true, f"[{colour.get(found, 'white')}]{found}[/]",
               reasons[:80], f"{r['timings']['total_s']:.2f}"]  # fmt: skip
        if generic:
            other = generic.get(r["serial"], "?")
            agree_generic += int(true == other)
            row.append(f"[{colour.get(other, 'white')}]{other}[/]")
        table.add_row(*row)
    console.print(table)
    console.print(f"{agree} of {len(records)} parts sentenced as the truth (imaged defects)")
    if generic:
        console.print(f"the shipped learned model alone, never taught this part: "
                      f"{agree_generic} of {len(records)}; teach it with `castsight teach "
                      f"--learned` (see BENCHMARKS.md)")  # fmt: skip


def _clear(folder: Path) -> None:
    import shutil

    if folder.exists():
        shutil.rmtree(folder)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command()(demo)
