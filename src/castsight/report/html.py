"""The inspection report an operator opens: one HTML file plus PNG assets.

Reads the per-part record dicts (``castsight.record/1``, see
``docs/design/record-schema.md``) and the radiographs they point to, and writes
``report.html`` with a summary table and, per part, its findings and a
zoomable window/level viewer per view with the indications overlaid.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import castsight
from castsight.errors import CastsightError
from castsight.io import read_radiograph
from castsight.io.files import atomic_write_bytes, short_reason
from castsight.report import images
from castsight.report.jinja import environment

ASSETS_DIR = "report_files"
"""Folder, beside ``report.html``, that holds the PNG assets."""

KIND_COLOURS = {
    "pore": "#00e5ff",
    "shrinkage": "#ff9100",
    "crack": "#ff1744",
    "inclusion": "#e040fb",
    "unknown": "#ffea00",
}
"""Overlay colour per indication kind (anything else is drawn as 'unknown')."""

_SENTENCES = ("OK", "NG", "REVIEW")
_DASH = "–"


@dataclass
class _View:
    name: str
    status: str
    error: str | None
    note: str | None  # "bad" | "warn" | None when inspected
    quality: list[tuple[str, str]]
    image_error: str | None = None
    warning: str | None = None
    spec: dict[str, Any] | None = None
    aspect: str = "1 / 1"
    crops: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Part:
    anchor: str
    serial: str
    sentence: str
    badge: str
    n_indications: int
    first_message: str
    total_s: str
    inspected_at: str
    open: bool
    findings: list[dict[str, Any]]
    views: list[_View]


def write_html_report(
    records: Sequence[Mapping[str, Any]],
    out: Path,
    *,
    title: str = "castsight inspection report",
    max_side: int = 1024,
    images_for: Collection[str] = ("NG", "REVIEW"),
    max_crops: int = 24,
) -> Path:
    """Write ``out/report.html`` and its assets in ``out/report_files/``; return the HTML path.

    Views are stored as 16-bit values packed in PNGs (longer side at most
    ``max_side``), each with a ``.js`` copy for pages opened from disk, plus an
    8-bit full-resolution crop per indication. A view whose image cannot be
    read is reported as "image unavailable"; the rest goes on. Existing files
    are overwritten atomically; stale assets of an earlier report are left.

    >>> import tempfile, pathlib
    >>> rec = {"serial": "P<1>", "sentence": "REVIEW", "views": [
    ...     {"view": "V01", "path": "/nonexistent/V01.tif", "status": "unreadable",
    ...      "error": "no such file", "indications": []}]}
    >>> page = write_html_report([rec], pathlib.Path(tempfile.mkdtemp()))
    >>> page.name, "P&lt;1&gt;" in page.read_text(), "image unavailable" in page.read_text()
    ('report.html', True, True)
    """
    if max_side < 1:
        raise ValueError(f"max_side must be at least 1, got {max_side}")
    out = Path(out)
    assets = out / ASSETS_DIR
    parts = [
        _part(i, record, assets, max_side if record.get("sentence") in images_for else 0, max_crops)
        for i, record in enumerate(records, 1)
    ]
    template = environment().get_template("report.html.j2")
    html = template.render(title=title, header=_header(records), parts=parts, colours=KIND_COLOURS)
    page = out / "report.html"
    atomic_write_bytes(page, html.encode("utf-8"))
    return page


def _header(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    counts = Counter(str(r.get("sentence", "?")) for r in records)
    stamps = sorted(str(r["inspected_at"]) for r in records if r.get("inspected_at"))
    versions = _distinct(_get(r, "software", "castsight") for r in records)
    plans = _distinct(
        f"{_get(r, 'plan', 'part_type') or r.get('part_type') or '?'} "
        f"({str(_get(r, 'plan', 'sha256') or '?')[:12]})"
        for r in records
    )
    models = _distinct(
        f"{Path(str(_get(r, 'model', 'path'))).name} ({str(_get(r, 'model', 'sha256'))[:12]})"
        if isinstance(r.get("model"), Mapping)
        else "none"
        for r in records
    )
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "inspected": f"{stamps[0]} … {stamps[-1]}" if stamps else _DASH,
        "software": ", ".join(versions) or _DASH,
        "writer": castsight.__version__,
        "plan": ", ".join(plans) or _DASH,
        "model": ", ".join(models) or "none",
        "n_parts": len(records),
        "counts": [(s, counts.get(s, 0)) for s in _SENTENCES]
        + [(s, n) for s, n in sorted(counts.items()) if s not in _SENTENCES],
    }


def _part(
    index: int, record: Mapping[str, Any], assets: Path, max_side: int, max_crops: int
) -> _Part:
    serial = str(record.get("serial", f"part {index}"))
    anchor = f"part-{index}"
    stem = f"p{index:04d}-{_slug(serial)}"
    links: dict[str, str] = {}  # indication id -> anchor of its crop
    views = [
        _view(view, f"{stem}-v{k:02d}", f"{anchor}-v{k}", assets, max_side, links, max_crops)
        for k, view in enumerate(_maps(record.get("views")), 1)
    ]
    findings: list[dict[str, Any]] = [
        {
            "rule": str(f.get("rule", _DASH)),
            "zone": str(f.get("zone", _DASH)),
            "view": str(f.get("view") or _DASH),
            "sentence": str(f.get("sentence", "")),
            "message": str(f.get("message", "")),
            "indications": [(str(i), links.get(str(i))) for i in _strs(f.get("indications"))],
        }
        for f in _maps(record.get("findings"))
    ]
    sentence = str(record.get("sentence", "?"))
    return _Part(
        anchor=anchor,
        serial=serial,
        sentence=sentence,
        badge=sentence.lower() if sentence in _SENTENCES else "other",
        n_indications=sum(len(_maps(v.get("indications"))) for v in _maps(record.get("views"))),
        first_message=findings[0]["message"] if findings else _DASH,
        total_s=_num(_get(record, "timings", "total_s"), "{:.2f} s"),
        inspected_at=str(record.get("inspected_at") or _DASH),
        open=sentence != "OK",
        findings=findings,
        views=views,
    )


def _view(
    view: Mapping[str, Any],
    stem: str,
    anchor: str,
    assets: Path,
    max_side: int,
    links: dict[str, str],
    max_crops: int = 24,
) -> _View:
    status = str(view.get("status", "?"))
    quality = view.get("quality")
    model = _View(
        name=str(view.get("view", "?")),
        status=status,
        error=None if view.get("error") is None else str(view["error"]),
        note=None if status == "inspected" else ("warn" if status == "failed_quality" else "bad"),
        quality=[(str(k), _num(v, "{:.3g}")) for k, v in quality.items()]
        if isinstance(quality, Mapping)
        else [],
    )
    if view.get("judged_pct") is not None:
        model.quality.append(("judged_pct", _num(view["judged_pct"], "{:.3g}")))
    if view.get("deviating_pct") is not None:
        model.quality.append(("deviating_pct", _num(view["deviating_pct"], "{:.3g}")))
    path = view.get("path")
    if not path:
        model.image_error = "no image path in the record"
        return model
    if max_side <= 0:
        model.image_error = "images are drawn for NG and REVIEW parts only"
        return model
    try:
        radiograph = read_radiograph(str(path))
    except CastsightError as err:
        model.image_error = short_reason(err)
        return model
    recorded = view.get("sha256")
    actual = radiograph.provenance.sha256 if radiograph.provenance else None
    if isinstance(recorded, str) and len(recorded) == 64 and recorded != actual:
        model.warning = "the image file has changed since it was inspected (sha256 differs)"
    pixels = radiograph.pixels
    display, sx, sy = images.display_image(pixels, max_side)
    lo, hi = images.percentile_window(display, 1.0, 99.0)
    png = images.encode_packed16(display)
    atomic_write_bytes(assets / f"{stem}.png", png)
    atomic_write_bytes(assets / f"{stem}.js", images.data_url_script(stem, png))
    rows, cols = display.shape
    model.aspect = f"{cols} / {rows}"
    boxes: list[dict[str, Any]] = []
    for k, ind in enumerate(_maps(view.get("indications"))[:max_crops], 1):
        bbox = _bbox(ind.get("bbox"))
        if bbox is not None:
            ident = str(ind.get("id", f"{model.name}#{k}"))
            links.setdefault(ident, f"{anchor}-i{k}")
            png_path = assets / f"{stem}-i{k:03d}.png"
            crop = _crop(pixels, ind, bbox, ident, f"{anchor}-i{k}", png_path)
            boxes.append({"x": bbox[0], "y": bbox[1], "w": bbox[2], "h": bbox[3]})
            boxes[-1].update(colour=crop["colour"], label=f"{ident} {crop['size']}",
                             dashed=not _counted(ind))  # fmt: skip
            model.crops.append(crop)
    model.spec = {
        "src": f"{ASSETS_DIR}/{stem}.png",
        "data": f"{ASSETS_DIR}/{stem}.js",
        "key": stem,
        "w": cols,
        "h": rows,
        "sx": sx,
        "sy": sy,
        "auto": [lo, hi],
        "boxes": boxes,
    }
    return model


def _counted(ind: Mapping[str, Any]) -> bool:
    """Whether an indication counted towards the rules (not below its detector's call, not
    left unconfirmed by other views); the viewer dashes the others' boxes."""
    return not ind.get("extra_below_call") and ind.get("confirmed") is not False


def _crop(
    pixels: Any, ind: Mapping[str, Any], bbox: list[float], ident: str, anchor: str, path: Path
) -> dict[str, Any]:
    """Write the full-resolution crop around one indication; its template fields."""
    kind = str(ind.get("kind", "unknown"))
    size = _measure(ind, "eq_diameter", "⌀{:.2f} mm", "⌀{:.1f} px")
    png, (x0, y0, x1, y1) = images.encode_crop(pixels, bbox)
    atomic_write_bytes(path, png)
    return {
        "anchor": anchor,
        "src": f"{ASSETS_DIR}/{path.name}",
        "width": 2 * (x1 - x0),
        "height": 2 * (y1 - y0),
        "box": [2 * (bbox[0] - x0), 2 * (bbox[1] - y0), 2 * bbox[2], 2 * bbox[3]],
        "colour": KIND_COLOURS.get(kind, KIND_COLOURS["unknown"]),
        "id": ident,
        "size": size,
        "lines": [
            f"{kind} · {size}",
            f"length {_measure(ind, 'max_length', '{:.2f} mm', '{:.1f} px')}",
            f"contrast {_num(ind.get('contrast'), '{:.3f}')}{_share_note(ind)}",
            f"score {_num(ind.get('score'), '{:.2f}')}"
            f" · signif. {_num(ind.get('significance'), '{:.1f}')}",
            f"zone {ind.get('zone') or _DASH} · at ({bbox[0]:g}, {bbox[1]:g})",
            _seen_line(ind),
        ],
    }


def _share_note(ind: Mapping[str, Any]) -> str:
    """What a bright indication's contrast for its size says of its material
    (:mod:`castsight.measure.material`), or nothing where it is not known."""
    share = ind.get("void_share")
    if not isinstance(share, int | float):
        return ""
    light = " (lighter than the alloy: sand)" if ind.get("kind") == "inclusion" else ""
    return f" · {share:.2f} of a void's{light}"


def _looked(looked: object, views: object) -> str:
    """``, and N of the M views that looked where it lies saw it`` (empty without those).

    >>> _looked(["V02", "V03", "V04"], ["V01", "V02"])
    ', and 2 of the 4 views that looked where it lies saw it'
    """
    if not isinstance(looked, list) or not looked or not isinstance(views, list):
        return ""
    n = len(set(views) | set(looked))
    return f", and {len(views)} of the {n} views that looked where it lies saw it"


def _seen_line(ind: Mapping[str, Any]) -> str:
    """Which views saw the indication, where it lies in the part, whether it counted."""
    views = ind.get("views")
    seen = ", ".join(str(v) for v in views) if isinstance(views, list) and views else _DASH
    where = ind.get("part_mm")
    at = (f" · part ({', '.join(f'{float(v):.1f}' for v in where)}) mm"
          if isinstance(where, list) and len(where) == 3 else "")  # fmt: skip
    note = ""
    if ind.get("confirmed") is False:
        why = (
            "a line along the edge of the frame (structure moved into the field)"
            if ind.get("extra_frame_line")
            else "a displaced edge of the good part explains it" + _looked(ind.get("looked"), views)
            if ind.get("extra_edge_explained")
            else "the views that looked did not see it"
        )
        note = f" · not confirmed by another view, {why}: not judged"
    if ind.get("extra_weak"):
        note += " · below the threshold in this view, counted because another view confirms it"
    if ind.get("extra_below_call"):
        note += " · below the detector's call: shown, not judged"
    return f"seen by {seen}{at}{note}"


def _measure(ind: Mapping[str, Any], name: str, mm: str, px: str) -> str:
    """``name_mm`` formatted with ``mm`` if known, else ``name_px`` with ``px``."""
    if isinstance(ind.get(f"{name}_mm"), int | float):
        return _num(ind[f"{name}_mm"], mm)
    return _num(ind.get(f"{name}_px"), px)


def _num(value: Any, fmt: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _DASH if value is None else str(value)
    return fmt.format(value)


def _get(record: Mapping[str, Any], key: str, sub: str) -> Any:
    inner = record.get(key)
    return inner.get(sub) if isinstance(inner, Mapping) else None


def _strs(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _maps(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _bbox(value: Any) -> list[float] | None:
    """``[x, y, w, h]`` if ``value`` is a usable COCO box, else None."""
    if not (isinstance(value, list | tuple) and len(value) == 4):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    return list(value) if value[2] >= 0 and value[3] >= 0 else None


def _distinct(values: Any) -> list[str]:
    return sorted({str(v) for v in values if v is not None})


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:40] or "_"
