"""``castsight demo``: the main job on the embedded default, end to end.

Until the inspection pipeline lands this is the minimal path through the
foundation: write a 16-bit radiograph with metadata in every format, read
each back, check it is bit-identical, and print what ``castsight info`` says.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from castsight.cli.common import EXIT_BAD_INPUT, report_error
from castsight.cli.io_cmds import describe, info_line
from castsight.io import read_radiograph, write_radiograph
from castsight.radiograph import Acquisition, Radiograph


def _step_wedge(rows: int = 256, cols: int = 384, seed: int = 0) -> Radiograph:
    """A noisy 16-bit image of a 6-step aluminium wedge (Beer-Lambert, mu = 0.054/mm)."""
    steps = np.repeat(np.arange(6) * 5.0, cols // 6 + 1)[:cols]  # mm of aluminium
    counts = 50000.0 * np.exp(-0.054 * steps)
    rng = np.random.default_rng(seed)
    pixels = rng.poisson(np.broadcast_to(counts, (rows, cols))).astype(np.uint16)
    acq = Acquisition(pixel_pitch_mm=0.139, sod_mm=700.0, sdd_mm=1000.0, kv=150.0, bit_depth=16)
    return Radiograph(pixels, acq, part_serial="DEMO-0001", part_type="step-wedge", view="V01")


def demo(
    out: Path = typer.Option(Path("out/demo"), help="Folder for the demo's files."),
) -> None:
    """Run the main job on the embedded default and print what it found."""
    radiograph = _step_wedge()
    ok = True
    for name in ("wedge.tif", "wedge.png", "wedge.dcm"):
        path = write_radiograph(radiograph, out / name)
        back = read_radiograph(path)
        same = back.same_as(radiograph)
        typer.echo(f"{info_line(describe(back))}  round-trip {'identical' if same else 'DIFFERS'}")
        ok = ok and (same or name.endswith(".dcm"))
    if not ok:
        report_error("a round trip changed the radiograph")
        raise typer.Exit(EXIT_BAD_INPUT)


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
    app.command()(demo)
