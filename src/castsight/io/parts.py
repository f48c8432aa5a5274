"""Group input files into parts: folders, loose files, or an explicit manifest.

Rules (the contract the CLI documents):

* a directory whose subdirectories hold images is a set of parts: each
  subdirectory is one part (its name the serial), its image files the views;
* a loose image file (given directly, or lying in a given directory) is one
  part of one view, its stem the serial;
* a JSON manifest groups files into parts explicitly::

      {"parts": [{"serial": "P001", "type": "giga-underbody",
                  "views": [{"view": "V01", "path": "P001/V01.tif"}, ...]}]}

  with paths relative to the manifest.

Names starting with ``.`` or ``_`` are skipped when scanning folders (hidden
files, and side data such as ``_calibration/``).

Discovery only lists files; reading happens later, view by view, so one bad
file never stops a batch.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("P1/V02.tif", "P1/V01.tif", "P2/V01.tif", "loose.png", "P1/notes.txt"):
...     (root / name).parent.mkdir(parents=True, exist_ok=True)
...     (root / name).touch()
>>> [(p.serial, [v.name for v in p.views]) for p in discover_parts([root])]
[('P1', ['V01', 'V02']), ('P2', ['V01']), ('loose', ['loose'])]
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from castsight.errors import InputError
from castsight.io import diconde, jpeg, png, tiff

SUFFIXES = (*tiff.SUFFIXES, *png.SUFFIXES, *diconde.SUFFIXES, *jpeg.SUFFIXES)


@dataclass(frozen=True)
class ViewSource:
    """One view of a part, not yet read: its name and file."""

    name: str
    path: Path


@dataclass(frozen=True)
class PartSource:
    """One part, not yet read: serial, optional type, ordered views."""

    serial: str
    part_type: str | None
    views: tuple[ViewSource, ...]


def discover_parts(
    inputs: Sequence[str | Path], manifest: str | Path | None = None
) -> list[PartSource]:
    """List the parts named by ``inputs`` (folders, files, manifests) in a stable order.

    A ``.json`` input is read as a manifest. Raises :class:`InputError` for an
    input that does not exist or a malformed manifest; files inside are not
    opened here.
    """
    parts: list[PartSource] = []
    if manifest is not None:
        parts.extend(read_manifest(Path(manifest)))
    for raw in inputs:
        path = Path(raw)
        if not path.exists():
            raise InputError(path, "no such file or directory")
        if path.is_dir():
            parts.extend(_parts_in_dir(path))
        elif path.suffix.lower() == ".json":
            parts.extend(read_manifest(path))
        else:
            parts.append(PartSource(path.stem, None, (ViewSource(path.stem, path),)))
    seen: set[str] = set()
    for part in parts:
        if part.serial in seen:
            raise InputError(part.serial, "the same part serial appears twice in the inputs")
        seen.add(part.serial)
    return parts


def _is_image(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in SUFFIXES and not _skipped(path)


def _skipped(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _natural_key(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _parts_in_dir(folder: Path) -> list[PartSource]:
    entries = sorted(folder.iterdir(), key=lambda p: _natural_key(p.name))
    parts: list[PartSource] = []
    for sub in (e for e in entries if e.is_dir() and not _skipped(e)):
        files = sorted(
            (f for f in sub.iterdir() if _is_image(f)), key=lambda p: _natural_key(p.name)
        )
        if files:
            views = tuple(ViewSource(f.stem, f) for f in files)
            parts.append(PartSource(sub.name, None, views))
    for loose in (e for e in entries if _is_image(e)):
        parts.append(PartSource(loose.stem, None, (ViewSource(loose.stem, loose),)))
    return parts


def read_manifest(path: Path) -> list[PartSource]:
    """Parse a parts manifest; every error names the manifest and the entry."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(path, "no such manifest") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(path, f"manifest is not readable JSON ({err})") from None
    if not isinstance(record, dict) or not isinstance(record.get("parts"), list):
        raise InputError(path, 'manifest needs a "parts" list')
    parts: list[PartSource] = []
    for i, entry in enumerate(record["parts"]):
        where = f"parts[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("serial"), str):
            raise InputError(path, f'{where} needs a string "serial"')
        views_raw = entry.get("views")
        if not isinstance(views_raw, list) or not views_raw:
            raise InputError(path, f'{where} needs a non-empty "views" list')
        views: list[ViewSource] = []
        for j, view in enumerate(views_raw):
            if isinstance(view, str):
                view = {"path": view}
            if not isinstance(view, dict) or not isinstance(view.get("path"), str):
                raise InputError(path, f'{where}.views[{j}] needs a string "path"')
            file = (path.parent / view["path"]).resolve()
            name = view.get("view") if isinstance(view.get("view"), str) else file.stem
            views.append(ViewSource(str(name), file))
        part_type = entry.get("type")
        parts.append(
            PartSource(
                entry["serial"], part_type if isinstance(part_type, str) else None, tuple(views)
            )
        )
    return parts
