"""Files <-> :class:`~castsight.radiograph.Radiograph`: TIFF, PNG, DICONDE, part folders.

The format of a file is found from its first bytes, not its name; the name's
suffix only chooses the format when writing.

>>> import numpy as np, tempfile, pathlib
>>> from castsight.radiograph import Radiograph, Acquisition
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> r = Radiograph(np.arange(100, dtype=np.uint16).reshape(10, 10), Acquisition(kv=150.0))
>>> for name in ("v.tif", "v.png", "v.dcm"):
...     _ = write_radiograph(r, d / name)
...     back = read_radiograph(d / name)
...     print(name, detect_format((d / name).read_bytes()), back.same_as(r), back.acquisition.kv)
v.tif tiff True 150.0
v.png png True 150.0
v.dcm diconde False 150.0

DICONDE differs only in ``bit_depth``, which DICOM always records (BitsStored = 16).
"""

from __future__ import annotations

from pathlib import Path

from castsight.errors import ConversionError, ImageFormatError
from castsight.io import diconde, jpeg, png, tiff
from castsight.io.files import read_bytes, sha256_hex
from castsight.io.parts import PartSource, ViewSource, discover_parts
from castsight.io.validate import DEFAULT_MAX_PIXELS
from castsight.radiograph import Provenance, Radiograph

FORMATS = ("tiff", "png", "diconde")
_SUFFIX_FORMAT = {
    **{s: "tiff" for s in tiff.SUFFIXES},
    **{s: "png" for s in png.SUFFIXES},
    **{s: "diconde" for s in diconde.SUFFIXES},
}
IMAGE_SUFFIXES = (*_SUFFIX_FORMAT, *jpeg.SUFFIXES)
"""File name suffixes castsight treats as radiographs when scanning folders (JPEG and
BMP are read, never written)."""


def detect_format(data: bytes) -> str | None:
    """Name of the format of ``data`` from its magic bytes, or None."""
    if data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if data[:8] == png.SIGNATURE:
        return "png"
    if diconde.is_dicom(data):
        return "diconde"
    if jpeg.is_jpeg_or_bmp(data):
        return "jpeg"
    return None


def format_for_suffix(path: Path) -> str:
    """Format chosen by a file name's suffix when writing."""
    fmt = _SUFFIX_FORMAT.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(IMAGE_SUFFIXES)
        raise ConversionError(path, f"unknown output suffix '{path.suffix}' (use one of {known})")
    return fmt


def read_radiograph(
    path: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    to_gray: bool = False,
) -> Radiograph:
    """Read one radiograph file (TIFF, PNG, DICONDE; JPEG and BMP read only) with its metadata.

    Raises a :class:`~castsight.errors.CastsightError` subclass with a one-line
    reason for anything it cannot read; never returns partial data.
    """
    path = Path(path)
    data = read_bytes(path)
    fmt = detect_format(data)
    if fmt == "tiff":
        pixels, acq, ident = tiff.read(data, path, max_pixels=max_pixels, to_gray=to_gray)
    elif fmt == "png":
        pixels, acq, ident = png.read(data, path, max_pixels=max_pixels, to_gray=to_gray)
    elif fmt == "diconde":
        pixels, acq, ident = diconde.read(data, path, max_pixels=max_pixels, to_gray=to_gray)
    elif fmt == "jpeg":
        pixels, acq, ident = jpeg.read(data, path, max_pixels=max_pixels, to_gray=to_gray)
    else:
        raise ImageFormatError(path, "not a TIFF, PNG, DICONDE, JPEG or BMP file (unknown format)")
    return Radiograph(
        pixels=pixels,
        acquisition=acq,
        part_serial=ident["part_serial"],
        part_type=ident["part_type"],
        view=ident["view"],
        provenance=Provenance(path=str(path), sha256=sha256_hex(data)),
    )


def write_radiograph(
    radiograph: Radiograph,
    path: str | Path,
    *,
    compress: bool = False,
    series_uid: str | None = None,
    study_uid: str | None = None,
) -> Path:
    """Write a radiograph in the format its suffix names (.tif/.tiff, .png, .dcm).

    PNG and DICONDE hold 8/16-bit unsigned pixels; a float32 radiograph must be
    converted explicitly first (:func:`castsight.io.convert.convert_dtype`).
    ``compress`` applies to TIFF only (lossless zlib). ``series_uid`` and
    ``study_uid`` apply to DICONDE only (else a ValueError): by default every view of
    one part (its serial) shares one series and study (:func:`diconde.write`).
    """
    path = Path(path)
    fmt = format_for_suffix(path)
    if fmt != "diconde" and (series_uid is not None or study_uid is not None):
        raise ValueError(f"series_uid and study_uid are DICONDE's, not {fmt.upper()}'s")
    if fmt != "tiff" and radiograph.dtype.kind != "u":
        raise ConversionError(
            path,
            f"{fmt.upper()} holds 8/16-bit unsigned pixels, this radiograph is "
            f"{radiograph.dtype}: convert it to uint16 first (or write TIFF)",
        )
    if fmt == "tiff":
        tiff.write(radiograph, path, compress=compress)
    elif fmt == "png":
        png.write(radiograph, path)
    else:
        diconde.write(radiograph, path, series_uid=series_uid, study_uid=study_uid)
    return path


__all__ = [
    "DEFAULT_MAX_PIXELS",
    "FORMATS",
    "IMAGE_SUFFIXES",
    "PartSource",
    "ViewSource",
    "detect_format",
    "discover_parts",
    "format_for_suffix",
    "read_radiograph",
    "write_radiograph",
]
