"""Small file helpers shared by the format modules: hashing and atomic writes.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
>>> atomic_write_bytes(p, b"abc")
>>> sha256_hex(p.read_bytes())[:8]
'ba7816bf'
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from castsight.errors import ImageFormatError, InputError


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_bytes(path: Path) -> bytes:
    """Read a whole file, turning OS errors into one-line :class:`InputError`."""
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():
        raise InputError(path, "is a directory, not an image file")
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
