"""``castsight info`` and ``castsight convert``: the everyday file tools."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import typer

from castsight.cli.common import EXIT_BAD_INPUT, report_error
from castsight.errors import CastsightError
from castsight.io import DEFAULT_MAX_PIXELS, read_radiograph, write_radiograph
from castsight.io.convert import DTYPE_NAMES, convert_dtype
from castsight.io.convert import invert as invert_pixels
from castsight.radiograph import Radiograph

MAX_PIXELS_HELP = "Refuse images with more pixels than this (decompression-bomb guard)."


def describe(radiograph: Radiograph) -> dict[str, Any]:
    """Facts ``castsight info`` prints about one radiograph."""
    px = radiograph.pixels
    acq = {k: v for k, v in radiograph.acquisition.to_dict().items() if v is not None}
    ident = {k: v for k, v in radiograph.identity().items() if v is not None}
    prov = radiograph.provenance
    return {
        "path": prov.path if prov else None,
        "rows": radiograph.shape[0],
        "cols": radiograph.shape[1],
        "dtype": radiograph.dtype.name,
        "min": float(px.min()),
        "max": float(px.max()),
        "mean": float(px.mean(dtype=np.float64)),
        "acquisition": acq,
        "identity": ident,
        "sha256": prov.sha256 if prov else None,
    }


def info_line(facts: dict[str, Any]) -> str:
    """The one-line summary ``castsight info`` prints for ``describe()`` facts."""
    meta = []
    if facts["acquisition"]:
        meta.append("acq:" + ",".join(sorted(facts["acquisition"])))
    if facts["identity"]:
        meta.append("id:" + "/".join(str(v) for v in facts["identity"].values()))
    return (
        f"{facts['path']}  {facts['rows']}x{facts['cols']} {facts['dtype']}  "
        f"min {facts['min']:g} max {facts['max']:g} mean {facts['mean']:.6g}  "
        f"{' '.join(meta) or 'no metadata'}  sha256 {facts['sha256'][:12]}"
    )


def info(
    files: list[Path] = typer.Argument(..., help="Radiograph files (TIFF, PNG, DICONDE)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, help=MAX_PIXELS_HELP),
) -> None:
    """One line per file: size, pixel type, min/max/mean, metadata, sha256 prefix.

    A file that cannot be read gets one line on stderr; the others are still
    reported, and the exit code is 2.
    """
    failed = False
    for path in files:
        try:
            facts = describe(read_radiograph(path, max_pixels=max_pixels))
        except CastsightError as err:
            report_error(err)
            failed = True
            continue
        typer.echo(json.dumps(facts, sort_keys=True) if as_json else info_line(facts))
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


def convert(
    source: Path = typer.Argument(..., help="Input radiograph."),
    target: Path = typer.Argument(..., help="Output file; its suffix picks the format."),
    dtype: str | None = typer.Option(
        None, help=f"Output pixel type ({', '.join(DTYPE_NAMES)}); default: keep."
    ),
    allow_lossy: bool = typer.Option(
        False, "--allow-lossy", help="Allow a conversion that loses information (needs --window)."
    ),
    window: tuple[float, float] | None = typer.Option(
        None, help="Intensity window LO HI mapped onto the output's full range (lossy)."
    ),
    gray: bool = typer.Option(False, "--gray", help="Convert a colour image to grey (luma)."),
    invert: bool = typer.Option(
        False,
        "--invert",
        help="Full scale - value: a film-convention image (air dark) to the transmission "
        "convention castsight reads (air bright). Lossless.",
    ),
    compress: bool = typer.Option(False, help="Lossless zlib compression (TIFF only)."),
    series_uid: str | None = typer.Option(
        None,
        "--series-uid",
        help="DICONDE only: the SeriesInstanceUID. Default: derived from the part type and "
        "serial, so every view of one part shares one series (a part X-rayed again needs "
        "a series of its own).",
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, help=MAX_PIXELS_HELP),
) -> None:
    """Convert between TIFF, PNG and DICONDE, keeping pixels and metadata.

    A lossy conversion (e.g. 16 to 8-bit) is refused unless --allow-lossy is
    given with an explicit --window LO HI.
    """
    try:
        if target.exists() and not overwrite:
            raise CastsightError(target, "exists; pass --overwrite to replace it")
        radiograph = read_radiograph(source, max_pixels=max_pixels, to_gray=gray)
        if invert:
            radiograph = invert_pixels(radiograph)
        wanted = dtype or radiograph.dtype.name
        if (
            dtype is None
            and radiograph.dtype.kind == "f"
            and target.suffix.lower() not in (".tif", ".tiff")
        ):
            wanted = "uint16"
        if window is not None and not allow_lossy:
            raise CastsightError(source, "--window rescales pixels: pass --allow-lossy as well")
        if allow_lossy and window is None and wanted != radiograph.dtype.name:
            raise CastsightError(source, "--allow-lossy needs an explicit --window LO HI")
        converted = convert_dtype(radiograph, wanted, allow_lossy=allow_lossy, window=window)
        try:
            write_radiograph(converted, target, compress=compress, series_uid=series_uid)
        except ValueError as err:  # a --series-uid that is no UID, or not for DICONDE
            raise CastsightError(target, str(err)) from None
    except CastsightError as err:
        report_error(err)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    typer.echo(
        f"{source} -> {target} ({converted.dtype.name}, {converted.shape[0]}x{converted.shape[1]})"
    )


def register(app: typer.Typer) -> None:
    """Add the file commands to ``app``."""
    app.command()(info)
    app.command()(convert)
