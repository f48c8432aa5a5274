"""The content-addressed image archive."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from castsight.errors import InputError
from castsight.station.store.archive import ImageArchive


def test_files_are_kept_once_under_their_sha256(tmp_path: Path) -> None:
    archive = ImageArchive(tmp_path / "a")
    digest = archive.put(b"view")
    assert digest == hashlib.sha256(b"view").hexdigest()
    assert archive.path(digest) == tmp_path / "a" / digest[:2] / digest
    assert archive.put(b"view") == digest
    assert [p.name for p in archive.root.rglob("*") if p.is_file()] == [digest]
    assert archive.remove([digest, "00" * 32]) == 1
    assert not archive.path(digest).exists()


def test_a_name_that_is_no_digest_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        ImageArchive(tmp_path).path("../../etc/passwd")
