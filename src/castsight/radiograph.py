"""The data model: a radiograph, its acquisition metadata, and a part.

Small frozen dataclasses over numpy arrays. Pixels keep the dtype they were
read with (uint8, uint16 or float32); nothing converts them silently. Metadata
that is not known is ``None``, never a guessed default.

>>> import numpy as np
>>> acq = Acquisition(pixel_pitch_mm=0.139, sod_mm=600.0, sdd_mm=1200.0, kv=150.0)
>>> acq.magnification
2.0
>>> round(acq.pixel_size_at_object_mm, 4)
0.0695
>>> r = Radiograph(np.zeros((4, 6), np.uint16), acq, part_serial="P001", view="V01")
>>> r.shape, r.dtype.name
((4, 6), 'uint16')
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

SUPPORTED_DTYPES: tuple[np.dtype[Any], ...] = (
    np.dtype(np.uint8),
    np.dtype(np.uint16),
    np.dtype(np.float32),
)
"""Pixel types a :class:`Radiograph` may hold."""


@dataclass(frozen=True)
class Acquisition:
    """How a radiograph was taken. Every field is optional: ``None`` = unknown.

    Distances are in millimetres; ``sod_mm`` is source-to-object (the part's
    reference point), ``sdd_mm`` source-to-detector.
    """

    pixel_pitch_mm: float | None = None
    sod_mm: float | None = None
    sdd_mm: float | None = None
    kv: float | None = None
    ma: float | None = None
    exposure_ms: float | None = None
    filter: str | None = None
    bit_depth: int | None = None
    detector_id: str | None = None
    projection: tuple[tuple[float, ...], ...] | None = None
    """The view's nominal 3x4 projection matrix: part coordinates (mm, homogeneous) to
    detector ``(col, row, 1)`` up to scale, as the cell's robot program fixes it
    (:mod:`castsight.measure.multiview`). The part's actual pose differs from it by
    its fixturing error."""

    @property
    def magnification(self) -> float | None:
        """Geometric magnification M = SDD / SOD, or None if either is unknown."""
        if self.sod_mm is None or self.sdd_mm is None or self.sod_mm <= 0:
            return None
        return self.sdd_mm / self.sod_mm

    @property
    def pixel_size_at_object_mm(self) -> float | None:
        """Detector pixel pitch projected back onto the part: pitch / M."""
        m = self.magnification
        if self.pixel_pitch_mm is None:
            return None
        return self.pixel_pitch_mm / m if m is not None else None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field (``None`` kept), for JSON."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Acquisition:
        """Inverse of :meth:`to_dict`; unknown keys are rejected by the caller."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if values.get("projection") is not None:
            values["projection"] = tuple(tuple(map(float, row)) for row in values["projection"])
        return cls(**values)


@dataclass(frozen=True)
class Provenance:
    """Where pixels came from: the file path and the sha256 of its bytes."""

    path: str
    sha256: str


@dataclass(frozen=True, eq=False)
class Radiograph:
    """A 2-D radiograph with its acquisition metadata, identity and provenance.

    The pixel array is made read-only, so a frozen Radiograph stays frozen.
    Compare radiographs with :meth:`same_as` (pixels, dtype and metadata).
    """

    pixels: NDArray[Any]
    acquisition: Acquisition = field(default_factory=Acquisition)
    part_serial: str | None = None
    part_type: str | None = None
    view: str | None = None
    provenance: Provenance | None = None

    def __post_init__(self) -> None:
        if self.pixels.ndim != 2:
            raise ValueError(f"a radiograph is 2-D, got shape {self.pixels.shape}")
        if self.pixels.dtype not in SUPPORTED_DTYPES:
            raise ValueError(f"unsupported pixel type {self.pixels.dtype}")
        if self.pixels.flags.writeable:
            frozen = self.pixels.view()
            frozen.flags.writeable = False
            object.__setattr__(self, "pixels", frozen)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        rows, cols = self.pixels.shape
        return int(rows), int(cols)

    @property
    def dtype(self) -> np.dtype[Any]:
        """Pixel dtype, as read."""
        return self.pixels.dtype

    def identity(self) -> dict[str, str | None]:
        """Part serial, part type and view name as a dict (for JSON)."""
        return {"part_serial": self.part_serial, "part_type": self.part_type, "view": self.view}

    def metadata(self) -> dict[str, Any]:
        """Everything but the pixels and provenance, as stored in files."""
        return {"acquisition": self.acquisition.to_dict(), "identity": self.identity()}

    def replace(self, **changes: Any) -> Radiograph:
        """A copy with some fields changed (see :func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def same_as(self, other: Radiograph) -> bool:
        """True when dtype, pixels (bit for bit) and metadata are identical."""
        return (
            self.dtype == other.dtype
            and self.shape == other.shape
            and bool(np.array_equal(self.pixels, other.pixels, equal_nan=False))
            and self.metadata() == other.metadata()
        )


@dataclass(frozen=True)
class Part:
    """One cast part: its serial, its type and its views in inspection order."""

    serial: str
    part_type: str | None
    views: tuple[Radiograph, ...]


__all__ = ["SUPPORTED_DTYPES", "Acquisition", "Part", "Provenance", "Radiograph"]
