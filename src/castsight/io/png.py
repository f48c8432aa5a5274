"""PNG radiographs (8/16-bit greyscale) with an optional sidecar ``NAME.json``.

The sidecar sits beside the image with the same stem (``view.png`` ->
``view.json``) and holds the castsight metadata record.

>>> import numpy as np, tempfile, pathlib
>>> from castsight.radiograph import Radiograph, Acquisition
>>> p = pathlib.Path(tempfile.mkdtemp()) / "v.png"
>>> write(Radiograph(np.full((8, 8), 40000, np.uint16), Acquisition(kv=60.0)), p)
>>> sorted(f.name for f in p.parent.iterdir())
['v.json', 'v.png']
>>> pixels, acq, ident = read(p.read_bytes(), p)
>>> int(pixels.max()), acq.kv
(40000, 60.0)
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from castsight.errors import ImageFormatError, InputError
from castsight.io import metadata
from castsight.io.files import atomic_write_bytes
from castsight.io.validate import DEFAULT_MAX_PIXELS, check_pixels, check_size
from castsight.radiograph import Acquisition, Radiograph

SUFFIXES = (".png",)
SIGNATURE = b"\x89PNG\r\n\x1a\n"


def sidecar_path(path: Path) -> Path:
    """Where the metadata sidecar of ``path`` lives."""
    return path.with_suffix(".json")


def read(
    data: bytes,
    source: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    to_gray: bool = False,
) -> tuple[NDArray[Any], Acquisition, metadata.Identity]:
    """Decode PNG bytes (and the sidecar next to ``source``, if any)."""
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ImageFormatError(source, "corrupt PNG (no IHDR header)")
    cols, rows = struct.unpack(">II", data[16:24])
    check_size(rows, cols, source, max_pixels)
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise ImageFormatError(source, "corrupt or truncated PNG (decoder refused it)")
    if pixels.ndim == 3 and pixels.shape[-1] in (3, 4):  # OpenCV decodes colour as BGR(A)
        pixels = pixels[..., [2, 1, 0, *range(3, pixels.shape[-1])]]
    pixels = check_pixels(pixels, source, max_pixels=max_pixels, to_gray=to_gray)
    acq, ident = Acquisition(), metadata.empty_identity()
    side = sidecar_path(source)
    if side.is_file():
        try:
            text = side.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(side, f"cannot read metadata sidecar ({err})") from None
        acq, ident = metadata.decode(text, side)
    return np.ascontiguousarray(pixels), acq, ident


def write(radiograph: Radiograph, path: Path) -> None:
    """Write an 8/16-bit greyscale PNG and its metadata sidecar (both atomic)."""
    if radiograph.dtype.kind != "u":
        raise ValueError("PNG holds 8/16-bit unsigned pixels only")
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(radiograph.pixels))
    if not ok:  # pragma: no cover - cv2 only fails on unsupported arrays, excluded above
        raise ImageFormatError(path, "PNG encoder failed")
    atomic_write_bytes(path, encoded.tobytes())
    text = metadata.encode(radiograph.acquisition, radiograph.identity())
    atomic_write_bytes(sidecar_path(path), text.encode("utf-8"))
