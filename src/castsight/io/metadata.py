"""The castsight metadata record: acquisition + identity, as JSON.

TIFF keeps it in the image description, PNG in a sidecar ``NAME.json``,
DICONDE in standard attributes (with this record as a fallback). One schema,
validated here, so a malformed record gets one clear error.

>>> from castsight.radiograph import Acquisition
>>> text = encode(Acquisition(kv=150.0), {"part_serial": "P1", "part_type": None, "view": "V01"})
>>> acq, ident = decode(text, "x.tif")
>>> acq.kv, ident["view"]
(150.0, 'V01')
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

from castsight.errors import MetadataError
from castsight.radiograph import Acquisition

SCHEMA = "castsight.radiograph/1"
IDENTITY_KEYS = ("part_serial", "part_type", "view")
_FLOAT_FIELDS = {"pixel_pitch_mm", "sod_mm", "sdd_mm", "kv", "ma", "exposure_ms"}
_STR_FIELDS = {"filter", "detector_id"}
_INT_FIELDS = {"bit_depth"}

Identity = dict[str, str | None]


def empty_identity() -> Identity:
    """An identity with every field unknown."""
    return {k: None for k in IDENTITY_KEYS}


def encode(acquisition: Acquisition, identity: Identity) -> str:
    """Serialise metadata to a compact, key-sorted JSON string (byte-stable)."""
    record = {
        "schema": SCHEMA,
        "acquisition": acquisition.to_dict(),
        "identity": {k: identity.get(k) for k in IDENTITY_KEYS},
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"))


def is_castsight(text: str | None) -> bool:
    """True when ``text`` looks like a castsight metadata record."""
    return bool(text) and f'"schema":"{SCHEMA}"' in (text or "")


def decode(text: str, source: str | Path) -> tuple[Acquisition, Identity]:
    """Parse and validate a record; raise :class:`MetadataError` naming the bad field."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        raise MetadataError(source, f"metadata is not valid JSON ({err.msg})") from None
    if not isinstance(record, dict) or record.get("schema") != SCHEMA:
        raise MetadataError(source, f"metadata is not a {SCHEMA} record")
    acq_raw = record.get("acquisition") or {}
    ident_raw = record.get("identity") or {}
    if not isinstance(acq_raw, dict) or not isinstance(ident_raw, dict):
        raise MetadataError(source, "metadata 'acquisition' and 'identity' must be objects")
    known = {f.name for f in dataclasses.fields(Acquisition)}
    unknown = sorted(set(acq_raw) - known)
    if unknown:
        raise MetadataError(source, f"unknown acquisition field(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in acq_raw.items():
        values[name] = _check_field(name, value, source)
    identity: Identity = {}
    for key in IDENTITY_KEYS:
        value = ident_raw.get(key)
        if value is not None and not isinstance(value, str):
            raise MetadataError(source, f"identity field '{key}' must be a string or null")
        identity[key] = value
    return Acquisition(**values), identity


def _check_field(name: str, value: Any, source: str | Path) -> Any:
    if value is None:
        return None
    if name in _FLOAT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise MetadataError(source, f"acquisition field '{name}' must be a number")
        if not value == value or value in (float("inf"), float("-inf")):
            raise MetadataError(source, f"acquisition field '{name}' is not finite")
        return float(value)
    if name in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 32:
            raise MetadataError(source, f"acquisition field '{name}' must be an integer 1-32")
        return value
    if name in _STR_FIELDS and not isinstance(value, str):
        raise MetadataError(source, f"acquisition field '{name}' must be a string")
    if name == "projection":
        return _projection(value, source)
    return value


def _projection(value: Any, source: str | Path) -> tuple[tuple[float, ...], ...]:
    """A 3x4 matrix of finite numbers, as nested lists."""
    bad = MetadataError(source, "acquisition field 'projection' must be 3 rows of 4 numbers")
    if not isinstance(value, list) or len(value) != 3:
        raise bad
    rows = []
    for row in value:
        if not isinstance(row, list) or len(row) != 4:
            raise bad
        if any(isinstance(x, bool) or not isinstance(x, int | float) for x in row):
            raise bad
        if not all(math.isfinite(x) for x in row):
            raise bad
        rows.append(tuple(float(x) for x in row))
    return tuple(rows)
