"""Every format round-trips pixels and metadata bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
import tifffile

from castsight.io import detect_format, read_radiograph, write_radiograph
from castsight.radiograph import Acquisition, Radiograph
from tests.conftest import make_radiograph

CASES = [
    ("v.tif", "uint8"),
    ("v.tif", "uint16"),
    ("v.tif", "float32"),
    ("v.tiff", "uint16"),
    ("v.png", "uint8"),
    ("v.png", "uint16"),
    ("v.dcm", "uint8"),
    ("v.dcm", "uint16"),
]


@pytest.mark.parametrize(("name", "dtype"), CASES)
def test_round_trip_is_bit_exact(tmp_path: Path, name: str, dtype: str) -> None:
    original = make_radiograph(dtype)
    path = write_radiograph(original, tmp_path / name)
    back = read_radiograph(path)
    assert back.dtype == original.dtype
    assert np.array_equal(back.pixels, original.pixels)
    assert back.metadata() == original.metadata()
    assert back.same_as(original)


@pytest.mark.parametrize("name", ["v.tif", "v.png", "v.dcm"])
def test_unknown_metadata_stays_none(tmp_path: Path, name: str) -> None:
    bare = Radiograph(make_radiograph("uint16").pixels)
    back = read_radiograph(write_radiograph(bare, tmp_path / name))
    expected = Acquisition(bit_depth=16) if name.endswith(".dcm") else Acquisition()
    assert back.acquisition == expected  # DICONDE always knows BitsStored
    assert back.identity() == {"part_serial": None, "part_type": None, "view": None}


def test_provenance_is_path_and_sha256_of_the_bytes(tmp_path: Path) -> None:
    import hashlib

    path = write_radiograph(make_radiograph(), tmp_path / "v.tif")
    back = read_radiograph(path)
    assert back.provenance is not None
    assert back.provenance.path == str(path)
    assert back.provenance.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_plain_tiff_without_metadata_reads(tmp_path: Path) -> None:
    pixels = np.arange(16 * 16, dtype=np.uint16).reshape(16, 16)
    tifffile.imwrite(tmp_path / "plain.tif", pixels)
    back = read_radiograph(tmp_path / "plain.tif")
    assert np.array_equal(back.pixels, pixels)
    assert back.acquisition == Acquisition()


def test_diconde_opens_in_plain_pydicom(tmp_path: Path) -> None:
    original = make_radiograph("uint16", shape=(20, 30))
    path = write_radiograph(original, tmp_path / "v.dcm")
    ds = pydicom.dcmread(path)
    acq = original.acquisition
    assert (int(ds.Rows), int(ds.Columns)) == (20, 30)
    assert int(ds.BitsStored) == 16 and int(ds.BitsAllocated) == 16
    assert np.array_equal(ds.pixel_array, original.pixels)
    assert float(ds.ImagerPixelSpacing[0]) == acq.pixel_pitch_mm
    magnification = acq.sdd_mm / acq.sod_mm  # type: ignore[operator]
    assert float(ds.PixelSpacing[0]) == pytest.approx(acq.pixel_pitch_mm / magnification, rel=1e-12)  # type: ignore[operator]
    assert float(ds.KVP) == acq.kv
    assert float(ds.ExposureTimeInms) == acq.exposure_ms
    assert ds.PatientID == original.part_serial
    assert ds.SeriesDescription == original.view
    assert ds.Modality == "DX"


def test_diconde_bit_depth_below_container(tmp_path: Path) -> None:
    original = make_radiograph("uint16")
    pixels = (original.pixels >> 2).astype(np.uint16)  # 14-bit data
    fourteen = Radiograph(pixels, Acquisition(bit_depth=14))
    ds = pydicom.dcmread(write_radiograph(fourteen, tmp_path / "v.dcm"))
    assert int(ds.BitsStored) == 14 and int(ds.HighBit) == 13
    assert read_radiograph(tmp_path / "v.dcm").same_as(fourteen)


def test_long_strings_survive_diconde_via_record(tmp_path: Path) -> None:
    acq = Acquisition(filter="0.5 mm Cu + 2 mm Al pre-filter", detector_id="x" * 40)
    original = Radiograph(make_radiograph().pixels, acq, view="front-left-tower-oblique-30deg")
    back = read_radiograph(write_radiograph(original, tmp_path / "v.dcm"))
    assert back.acquisition.filter == acq.filter
    assert back.acquisition.detector_id == acq.detector_id
    assert back.view == original.view


def test_same_radiograph_same_bytes(tmp_path: Path) -> None:
    r = make_radiograph()
    for name in ("a.tif", "a.png", "a.dcm"):
        first = write_radiograph(r, tmp_path / "1" / name).read_bytes()
        second = write_radiograph(r, tmp_path / "2" / name).read_bytes()
        assert first == second


def test_format_detected_from_bytes_not_name(tmp_path: Path) -> None:
    path = write_radiograph(make_radiograph(), tmp_path / "v.png")
    disguised = tmp_path / "really_png.tif"
    disguised.write_bytes(path.read_bytes())
    assert detect_format(disguised.read_bytes()) == "png"
    assert np.array_equal(read_radiograph(disguised).pixels, make_radiograph().pixels)


def test_compressed_tiff_is_lossless(tmp_path: Path) -> None:
    r = make_radiograph()
    path = write_radiograph(r, tmp_path / "z.tif", compress=True)
    assert read_radiograph(path).same_as(r)


def test_diconde_monochrome1_is_read_as_monochrome2(tmp_path: Path) -> None:
    original = make_radiograph("uint16")
    path = write_radiograph(original, tmp_path / "v.dcm")
    ds = pydicom.dcmread(path)
    top = 2 ** int(ds.BitsStored) - 1
    ds.PhotometricInterpretation = "MONOCHROME1"  # the same image, stored inverted
    ds.PixelData = (top - ds.pixel_array.astype(np.int64)).astype(np.uint16).tobytes()
    ds.save_as(tmp_path / "m1.dcm")
    assert np.array_equal(read_radiograph(tmp_path / "m1.dcm").pixels, original.pixels)


def _uids(path: Path) -> tuple[str, str, str]:
    ds = pydicom.dcmread(path)
    return str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID)


def test_diconde_views_of_one_part_share_one_series(tmp_path: Path) -> None:
    """The station's C-STORE intake takes one series as one part: castsight's writer
    puts every view of a part (its serial) in one series and study, written apart."""
    base = make_radiograph(seed=1)
    views = [
        Radiograph(
            make_radiograph(seed=k).pixels,
            base.acquisition,
            part_serial="P-7",
            part_type="wheel",
            view=f"V0{k}",
        )
        for k in (1, 2, 3)
    ]
    uids = [_uids(write_radiograph(v, tmp_path / f"{v.view}.dcm")) for v in views]
    assert len({u[0] for u in uids}) == 1 and len({u[1] for u in uids}) == 1
    assert len({u[2] for u in uids}) == 3 and uids[0][0] != uids[0][1]
    again = write_radiograph(views[0], tmp_path / "again.dcm")
    assert again.read_bytes() == (tmp_path / "V01.dcm").read_bytes()  # still byte-stable
    other = Radiograph(views[0].pixels, base.acquisition, part_serial="P-8",
                       part_type="wheel", view="V01")  # fmt: skip
    assert _uids(write_radiograph(other, tmp_path / "other.dcm"))[1] != uids[0][1]
    no_serial = [Radiograph(v.pixels, base.acquisition, view=v.view) for v in views[:2]]
    loose = [_uids(write_radiograph(v, tmp_path / f"loose{v.view}.dcm")) for v in no_serial]
    assert loose[0][1] != loose[1][1]  # no part to group by: each its own


def test_diconde_series_can_be_given(tmp_path: Path) -> None:
    original = make_radiograph()
    path = write_radiograph(original, tmp_path / "v.dcm", series_uid="1.2.3.4", study_uid="1.2.3")
    assert _uids(path)[:2] == ("1.2.3", "1.2.3.4")
    assert read_radiograph(path).same_as(original)
    with pytest.raises(ValueError, match="not a valid DICOM UID"):
        write_radiograph(original, tmp_path / "w.dcm", series_uid="not-a-uid")
    with pytest.raises(ValueError, match="DICONDE"):
        write_radiograph(original, tmp_path / "w.tif", series_uid="1.2.3.4")
