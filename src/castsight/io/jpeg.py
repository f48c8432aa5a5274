"""JPEG and BMP radiographs: read only (8-bit; JPEG is lossy).

Public image sets often come as JPEG or BMP. castsight reads them (grey, or
grey stored as three equal channels) so that they can be taught from and
inspected, but never writes them: JPEG's 8 x 8 block artefacts are noise
that was not in the radiograph. Keep what castsight writes in TIFF, PNG or
DICONDE. There is no metadata: the pixel size at the part is unknown, so a
plan in millimetres sends such views to REVIEW (use a plan in pixels).

>>> import cv2, numpy as np
>>> ok, data = cv2.imencode(".bmp", np.full((16, 16), 120, np.uint8))
>>> pixels, acq, ident = read(data.tobytes(), "v.bmp")
>>> pixels.dtype.name, int(pixels[0, 0]), acq.bit_depth
('uint8', 120, None)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.errors import ImageFormatError
from castsight.io import metadata
from castsight.io.validate import DEFAULT_MAX_PIXELS, check_pixels
from castsight.radiograph import Acquisition

SUFFIXES = (".jpg", ".jpeg", ".bmp")
JPEG_MAGIC = b"\xff\xd8\xff"
BMP_MAGIC = b"BM"


def is_jpeg_or_bmp(data: bytes) -> bool:
    """Whether ``data`` starts like a JPEG or a BMP file."""
    return data[:3] == JPEG_MAGIC or (data[:2] == BMP_MAGIC and len(data) > 26)


def read(
    data: bytes,
    source: str | Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    to_gray: bool = False,
) -> tuple[NDArray[Any], Acquisition, metadata.Identity]:
    """Decode JPEG or BMP bytes (no metadata)."""
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        kind = "JPEG" if data[:3] == JPEG_MAGIC else "BMP"
        raise ImageFormatError(source, f"corrupt or truncated {kind} (decoder refused it)")
    if pixels.ndim == 3 and pixels.shape[-1] in (3, 4):  # OpenCV decodes colour as BGR(A)
        pixels = pixels[..., [2, 1, 0, *range(3, pixels.shape[-1])]]
    pixels = check_pixels(pixels, source, max_pixels=max_pixels, to_gray=to_gray)
    return np.ascontiguousarray(pixels), Acquisition(), metadata.empty_identity()
