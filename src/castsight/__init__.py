"""castsight: X-ray inspection of aluminium die castings.

Radiographs in, a sentence per part (OK / NG / REVIEW) out, with measured,
explained indications.

>>> import castsight
>>> castsight.__version__.count(".") >= 2
True
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("castsight")
except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
