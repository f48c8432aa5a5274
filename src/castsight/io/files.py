"""Small file helpers shared by the format modules: hashing and atomic writes.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
>>> atomic_write_bytes(p, b"abc")
>>> sha256_hex(p.read_bytes())[:8]
'ba7816bf'
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from castsight.errors import ImageFormatError, InputError


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def pixel_sha256(pixels: NDArray[np.generic]) -> str:
    """Hex sha256 of an image's pixels (dtype, shape and values), whatever file held them.

    >>> a = np.arange(6, dtype=np.uint16).reshape(2, 3)
    >>> pixel_sha256(a) == pixel_sha256(a.copy()), pixel_sha256(a) == pixel_sha256(a.T)
    (True, False)
    """
    h = hashlib.sha256(f"{pixels.dtype.str}{pixels.shape}".encode())
    h.update(np.ascontiguousarray(pixels).data)
    return h.hexdigest()


def read_bytes(path: Path) -> bytes:
    """Read a whole regular file, turning OS errors into one-line :class:`InputError`.

    A dangling symbolic link, a link loop, a folder, a FIFO or a device is refused
    without being opened (a FIFO would block the read forever).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        why = "dangling symbolic link (its target does not exist)" if path.is_symlink() else ""
        raise InputError(path, why or "no such file") from None
    except OSError as err:
        why = "symbolic link loop" if err.errno == errno.ELOOP else err.strerror or str(err)
        raise InputError(path, f"cannot read file ({why})") from None
    if stat.S_ISDIR(mode):
        raise InputError(path, "is a directory, not an image file")
    if not stat.S_ISREG(mode):
        raise InputError(path, "is not a regular file (a FIFO, socket or device)")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(path, f"cannot read file ({err.strerror or err})") from None
    if not data:
        raise ImageFormatError(path, "file is empty (0 bytes)")
    return data


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file and rename.

    A crash or Ctrl-C never leaves a half-written file under the final name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def short_reason(err: BaseException) -> str:
    """First line of an exception's text (or its type), at most 120 characters."""
    text = str(err).strip()
    return (text.splitlines()[0] if text else type(err).__name__)[:120]
