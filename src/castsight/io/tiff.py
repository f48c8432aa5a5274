"""TIFF radiographs (8/16-bit unsigned, 32-bit float) via tifffile.

castsight metadata travels as JSON in the first page's ImageDescription; a
TIFF without it reads with every metadata field ``None``.

>>> import numpy as np, tempfile, pathlib
>>> from castsight.radiograph import Radiograph, Acquisition
>>> p = pathlib.Path(tempfile.mkdtemp()) / "v.tif"
>>> write(Radiograph(np.arange(64, dtype=np.uint16).reshape(8, 8), Acquisition(kv=90.0)), p)
>>> pixels, acq, ident = read(p.read_bytes(), p)
>>> pixels.dtype.name, int(pixels[7, 7]), acq.kv
('uint16', 63, 90.0)
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import tifffile
from numpy.typing import NDArray

from castsight.errors import CastsightError, ImageFormatError
from castsight.io import metadata
from castsight.io.files import atomic_write_bytes, short_reason
from castsight.io.validate import DEFAULT_MAX_PIXELS, check_pixels, check_size
from castsight.radiograph import Acquisition, Radiograph

SUFFIXES = (".tif", ".tiff")


def read(
    data: bytes,
    source: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    to_gray: bool = False,
) -> tuple[NDArray[Any], Acquisition, metadata.Identity]:
    """Decode TIFF bytes into (pixels, acquisition, identity)."""
    try:
        with tifffile.TiffFile(io.BytesIO(data)) as tif:
            if not tif.pages:
                raise ImageFormatError(source, "TIFF has no image pages")
            page = tif.pages.first
            shape = tuple(int(s) for s in page.shape)
            if len(shape) >= 2:
                check_size(shape[0], shape[1], source, max_pixels)
            if len(tif.series) and len(tif.series[0].shape) > len(shape):
                raise ImageFormatError(
                    source,
                    f"multi-page TIFF (series shape {tif.series[0].shape}); castsight reads "
                    "one radiograph per file: split the stack into one file per view",
                )
            if len(tif.pages) > 1:  # pages of other shapes form other series: never ignored
                other = tuple(int(s) for s in tif.pages[1].shape)
                raise ImageFormatError(
                    source,
                    f"multi-page TIFF ({len(tif.pages)} pages: {shape}, then {other}); "
                    "castsight reads one radiograph per file: split it into one file per view",
                )
            pixels = page.asarray()
            description = page.description
    except CastsightError:
        raise
    except Exception as err:  # tifffile raises many types for corrupt/truncated files
        raise ImageFormatError(source, f"corrupt or truncated TIFF ({short_reason(err)})") from None
    pixels = check_pixels(pixels, source, max_pixels=max_pixels, to_gray=to_gray)
    if metadata.is_castsight(description):
        acq, ident = metadata.decode(description, source)
    else:
        acq, ident = Acquisition(), metadata.empty_identity()
    return np.ascontiguousarray(pixels), acq, ident


def write(radiograph: Radiograph, path: Path, *, compress: bool = False) -> None:
    """Write a radiograph as a single-page TIFF with its metadata (atomic).

    ``compress`` uses lossless zlib (Deflate); the default is uncompressed, which
    every TIFF reader opens and is fastest to read.
    """
    description = metadata.encode(radiograph.acquisition, radiograph.identity())
    buffer = io.BytesIO()
    kwargs: dict[str, Any] = {}
    pitch = radiograph.acquisition.pixel_pitch_mm
    if pitch:
        kwargs["resolution"] = (10.0 / pitch, 10.0 / pitch)
        kwargs["resolutionunit"] = "CENTIMETER"
    tifffile.imwrite(
        buffer,
        np.ascontiguousarray(radiograph.pixels),
        description=description,
        metadata=None,
        photometric="minisblack",
        compression="zlib" if compress else None,
        software="castsight",
        datetime=False,
        **kwargs,
    )
    atomic_write_bytes(path, buffer.getvalue())
