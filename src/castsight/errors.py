"""One exception family for everything castsight refuses.

Every error castsight raises on purpose derives from :class:`CastsightError`, so
a caller (or the CLI) can catch one type, print one line and move on.

>>> try:
...     raise ImageFormatError("view.tif", "not a TIFF, PNG or DICONDE file")
... except CastsightError as err:
...     print(err)
view.tif: not a TIFF, PNG or DICONDE file
"""

from __future__ import annotations

from pathlib import Path


def printable(text: str) -> str:
    r"""``text`` (a file or folder name) with bytes that are not UTF-8 written as ``\xNN``.

    Names read from disk may hold undecodable bytes (as lone surrogates); records,
    reports and the terminal need valid UTF-8.

    >>> printable("P1"), printable("V" + chr(0xDCFF) + "1")
    ('P1', 'V\\xff1')
    """
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class CastsightError(Exception):
    """Base class: something castsight could not do, with a one-line reason.

    ``source`` names the file (or other input) the problem belongs to, if any.
    """

    def __init__(self, source: str | Path | None, reason: str) -> None:
        self.source = None if source is None else printable(str(source))
        self.reason = reason
        super().__init__(reason if self.source is None else f"{self.source}: {reason}")


class InputError(CastsightError):
    """An input is missing, unreadable, or not what the call needs."""


class ImageFormatError(InputError):
    """A file is not a readable radiograph: corrupt, truncated, unknown format."""


class ImageContentError(InputError):
    """The pixels are unusable: wrong shape, bit depth, non-finite, too small or too big."""


class MetadataError(InputError):
    """Metadata is present but malformed."""


class ConversionError(CastsightError):
    """A conversion was refused, e.g. because it would lose information."""


__all__ = [
    "CastsightError",
    "ConversionError",
    "ImageContentError",
    "ImageFormatError",
    "InputError",
    "MetadataError",
    "printable",
]
