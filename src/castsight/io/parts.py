"""Group input files into parts: folders, loose files, or an explicit manifest.

Rules (the contract the CLI documents):

* a directory with subdirectories is a set of parts: each subdirectory is one
  part (its name the serial), its image files the views; a subdirectory with
  no image is still a part (with no views: never OK, never lost);
* a directory without subdirectories is one part (its name the serial), its
  image files the views: ``castsight inspect P001/`` inspects part P001;
* a loose image file (given directly, or lying beside part folders) is one
  part of one view, its stem the serial;
* a JSON manifest groups files into parts explicitly::

      {"parts": [{"serial": "P001", "type": "giga-underbody",
                  "views": [{"view": "V01", "path": "P001/V01.tif"}, ...]}]}

  with paths relative to the manifest.

Names starting with ``.`` or ``_`` are skipped when scanning folders (hidden
files, and side data such as ``_calibration/``). Anything named like an image
(``V03.tif``) is a view, whatever it is: a dangling link, a folder or a FIFO is
listed here and refused when read, so its part is never sentenced without it.
Names that are not valid UTF-8 are kept readable (``\\xNN``) in serials and
view names; paths stay what the file system holds.

Discovery only lists files; reading happens later, view by view, so one bad
file never stops a batch.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("P1/V02.tif", "P1/V01.tif", "P2/V01.tif", "loose.png", "P1/notes.txt"):
...     (root / name).parent.mkdir(parents=True, exist_ok=True)
...     (root / name).touch()
>>> [(p.serial, [v.name for v in p.views]) for p in discover_parts([root])]
[('P1', ['V01', 'V02']), ('P2', ['V01']), ('loose', ['loose'])]
>>> [(p.serial, [v.name for v in p.views]) for p in discover_parts([root / "P1"])]
[('P1', ['V01', 'V02'])]
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from castsight.errors import InputError, printable
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
            parts.append(_loose(path))
    seen: set[str] = set()
    for part in parts:
        if part.serial in seen:
            raise InputError(part.serial, "the same part serial appears twice in the inputs")
        seen.add(part.serial)
    return parts


def _is_view(path: Path) -> bool:
    """Named like an image: a view, whether or not it can be read (see the module doc)."""
    return path.suffix.lower() in SUFFIXES and not _skipped(path)


def _is_subfolder(path: Path) -> bool:
    return path.is_dir() and not _is_view(path) and not _skipped(path)


def _skipped(path: Path) -> bool:
    return path.name.startswith((".", "_"))


def _natural_key(text: str) -> list[Any]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def _sorted_entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir(), key=lambda p: _natural_key(p.name))
    except OSError as err:
        raise InputError(folder, f"cannot list folder ({err.strerror or err})") from None


def _loose(path: Path) -> PartSource:
    name = printable(path.stem)
    return PartSource(name, None, (ViewSource(name, path),))


def _part_of(folder: Path) -> PartSource:
    """One part: the folder's name is the serial, its image entries the views."""
    views = tuple(ViewSource(printable(f.stem), f) for f in _sorted_entries(folder) if _is_view(f))
    return PartSource(printable(Path(os.path.abspath(folder)).name), None, views)


def is_part_folder(folder: Path) -> bool:
    """Whether ``folder`` is one part (a folder without subfolders), not a set of parts."""
    return folder.is_dir() and not any(_is_subfolder(e) for e in _sorted_entries(folder))


def _parts_in_dir(folder: Path) -> list[PartSource]:
    entries = _sorted_entries(folder)
    subfolders = [e for e in entries if _is_subfolder(e)]
    if not subfolders:
        return [_part_of(folder)]
    parts = [_part_of(sub) for sub in subfolders]
    parts += [_loose(e) for e in entries if _is_view(e)]
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
