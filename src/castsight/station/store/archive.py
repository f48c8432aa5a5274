"""The image archive: each file kept once under its sha256 (content-addressed), written
whole and synced before the part that names it is acknowledged.

>>> import tempfile
>>> archive = ImageArchive(Path(tempfile.mkdtemp()))
>>> digest = archive.put(b"radiograph bytes")
>>> digest[:12], archive.path(digest).read_bytes()
('e0a61a55da4d', b'radiograph bytes')
>>> archive.put(b"radiograph bytes") == digest  # stored once
True
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from castsight.errors import InputError


class ImageArchive:
    """Files by sha256 under ``root/ab/abcdef...`` (two hex digits fan out the folder)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        """Where the file of sha256 ``digest`` lies (whether it is there or not)."""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InputError(None, f"not a sha256 digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Store ``data`` (once), synced to disk; returns its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        target.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return digest

    def remove(self, digests: Iterable[str]) -> int:
        """Remove the files of ``digests`` (retention); returns how many were there."""
        gone = 0
        for digest in digests:
            target = self.path(digest)
            if target.exists():
                target.unlink()
                gone += 1
        return gone


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["ImageArchive"]
