"""Tests of learning from good parts; :func:`series_dataset` is shared with the detector tests.

A series (``SimulationConfig.series``): one nominal part, rendered once per
part with that part's seeded fixturing error and noise, no defects.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer

from castsight.accept.plan import load_plan
from castsight.io import write_radiograph
from castsight.simulate.dataset import (
    SimulationConfig,
    _write_calibration,
    make_part,
    render_part,
)


def series_dataset(
    root: Path, n_parts: int = 10, n_views: int = 2, size: int = 256, seed: int = 7
) -> Path:
    """Write ``root/P0001/V01.tif`` ... and ``root/_calibration``: good parts of one series."""
    config = SimulationConfig(n_parts=n_parts, n_views=n_views, size=size, defect_rate=0.0,
                              seed=seed, series=1)  # fmt: skip
    rules = load_plan(config.part_type).rules
    for index in range(n_parts):
        part = dataclasses.replace(make_part(config, index, rules), defects=())
        for view in render_part(config, part, index).views:
            write_radiograph(view.radiograph, root / part.serial / f"{view.name}.tif")
    _write_calibration(config, root)  # the dark and flat frames castsight simulate writes
    return root


def teach_app() -> typer.Typer:
    """A Typer app with only ``castsight teach`` (kept a subcommand by a root callback)."""
    from castsight.cli import teach_cmd

    app = typer.Typer()
    teach_cmd.register(app)

    @app.callback()
    def _root() -> None:
        """Root, so that ``teach`` stays a subcommand."""

    return app
