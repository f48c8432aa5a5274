"""The castsight metadata record: the view geometry it carries."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_a_projection_travels_through_tiff_and_diconde(tmp_path: Path) -> None:
    """The view's nominal geometry (a 3x4 projection) is kept by every format that
    carries the castsight record."""
    import numpy as np

    from castsight.io import read_radiograph, write_radiograph
    from castsight.radiograph import Acquisition, Radiograph

    matrix = tuple(tuple(float(4 * r + c) + 0.5 for c in range(4)) for r in range(3))
    rad = Radiograph(np.full((8, 8), 100, np.uint16), Acquisition(projection=matrix), view="V01")
    for name in ("v.tif", "v.dcm"):
        write_radiograph(rad, tmp_path / name)
        assert read_radiograph(tmp_path / name).acquisition.projection == matrix


@pytest.mark.parametrize("bad", [[[1, 2, 3]], [[1, 2, 3, 4]] * 2, [[1, 2, 3, "x"]] * 3,
                                 [[1, 2, 3, float("nan")]] * 3, "P"])  # fmt: skip
def test_a_malformed_projection_is_refused(bad: object) -> None:
    import json

    from castsight.errors import MetadataError
    from castsight.io.metadata import SCHEMA, decode

    text = json.dumps({"schema": SCHEMA, "acquisition": {"projection": bad}, "identity": {}})
    with pytest.raises(MetadataError, match="projection"):
        decode(text, "x.tif")
