"""Learning per-view references from good parts, registration, and ``castsight teach``."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from castsight.detect.reference import ReferenceView, register
from castsight.errors import InputError
from castsight.io import PartSource, ViewSource, discover_parts, read_radiograph
from castsight.model import load_artifact
from castsight.preprocess.prepare import PreparedImage, load_calibration, prepare
from castsight.teach import learn_reference, reference_summary
from tests.teach import series_dataset, teach_app

N_TRAIN = 8


@pytest.fixture(scope="module")
def good_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return series_dataset(tmp_path_factory.mktemp("series"), n_parts=N_TRAIN)


@pytest.fixture(scope="module")
def refs(good_dir: Path) -> dict[str, ReferenceView]:
    return learn_reference(discover_parts([good_dir]), load_calibration(good_dir / "_calibration"))


def _some(good_dir: Path, n: int) -> list[PartSource]:
    return discover_parts([good_dir])[:n]


def _prepared(good_dir: Path, part: str, view: str) -> PreparedImage:
    calibration = load_calibration(good_dir / "_calibration")
    return prepare(read_radiograph(good_dir / part / f"{view}.tif"), calibration)


def test_learns_every_view_from_every_good_image(refs: dict[str, ReferenceView]) -> None:
    assert set(refs) == {"V01", "V02"}
    for ref in refs.values():
        assert ref.n_images == N_TRAIN and not ref.notes
        assert ref.mean.dtype == np.float32 and ref.shape == (256, 256)
        assert ref.mask.mean() > 0.7
        spread = float(np.median(ref.std[ref.mask]))
        assert 0.0 < spread < 0.03  # noise and fixturing, not a different part
    summary = reference_summary(refs)
    assert summary["images_per_view"] == {"V01": N_TRAIN, "V02": N_TRAIN}
    assert any("fewer than 10" in w for w in summary["warnings"])


@pytest.mark.parametrize(("angle", "shift"), [(0.8, (3.4, -2.7)), (-1.5, (-5.2, 4.1))])
def test_registration_recovers_a_known_shift_and_rotation(
    good_dir: Path, angle: float, shift: tuple[float, float]
) -> None:
    a = _prepared(good_dir, "P0003", "V01").attenuation
    rows, cols = a.shape
    known = np.asarray(cv2.getRotationMatrix2D((cols / 2, rows / 2), angle, 1.0), np.float64)
    known[:, 2] += np.asarray(shift)
    moved = np.asarray(cv2.warpAffine(a, known, (cols, rows), flags=cv2.INTER_LINEAR,
                                      borderMode=cv2.BORDER_REFLECT), np.float32)  # fmt: skip
    reg = register(a, moved)
    assert reg.refined
    assert abs(reg.angle_deg - angle) < 0.1
    corners = np.array([[0, 0, 1], [cols, 0, 1], [0, rows, 1], [cols, rows, 1]], float).T
    assert np.abs(reg.matrix @ corners - known @ corners).max() < 0.3


def test_fewer_than_three_good_images_is_refused(good_dir: Path) -> None:
    notes: list[str] = []
    with pytest.raises(InputError, match="no view has 3 usable good images"):
        learn_reference(_some(good_dir, 2), None, notes=notes)
    assert len(notes) == 2 and all("not taught" in n for n in notes)  # one per pose of 2


def _loose(good_dir: Path, folder: Path, parts: int, views: tuple[str, ...]) -> Path:
    """Copies of the series' good views as loose files with no view names."""
    folder.mkdir()
    for k, part in enumerate(discover_parts([good_dir])[:parts]):
        for view in part.views:
            if view.name in views:
                (folder / f"img{k:02d}{view.name[-1]}.tif").write_bytes(view.path.read_bytes())
    return folder


def test_loose_images_are_grouped_into_views_by_registration(
    good_dir: Path, tmp_path: Path
) -> None:
    loose = _loose(good_dir, tmp_path / "loose", 5, ("V01", "V02"))
    notes: list[str] = []
    seen: list[int] = []
    refs = learn_reference(discover_parts([loose]), None, notes=notes, progress=seen.append)
    assert {name: ref.n_images for name, ref in refs.items()} == {"pose01": 5, "pose02": 5}
    assert notes == [] and sum(seen) == 10
    v01 = learn_reference(_some(good_dir, 5), None)["V01"]
    assert np.abs(refs["pose01"].mean - v01.mean)[v01.mask].max() < 1e-3  # the same view


def test_a_loose_image_of_another_view_is_noted_not_taught(good_dir: Path, tmp_path: Path) -> None:
    loose = _loose(good_dir, tmp_path / "loose", 4, ("V01",))
    other = next(v.path for v in discover_parts([good_dir])[5].views if v.name == "V02")
    (loose / "odd.tif").write_bytes(other.read_bytes())
    notes: list[str] = []
    refs = learn_reference(discover_parts([loose]), None, notes=notes)
    assert list(refs) == ["pose01"] and refs["pose01"].n_images == 4
    assert len(notes) == 1 and notes[0].startswith("loose/odd") and "not taught" in notes[0]


def test_an_unreadable_good_image_is_left_out_and_noted(good_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "P0099" / "V01.tif"
    bad.parent.mkdir()
    bad.write_bytes(b"not a tiff")
    parts = [*_some(good_dir, 3), PartSource("P0099", None, (ViewSource("V01", bad),))]
    refs = learn_reference(parts, None)
    assert refs["V01"].n_images == 3 and refs["V02"].n_images == 3
    assert len(refs["V01"].notes) == 1 and "P0099/V01" in refs["V01"].notes[0]


def test_progress_counts_every_image(good_dir: Path) -> None:
    seen: list[int] = []
    learn_reference(_some(good_dir, 3), None, progress=seen.append)
    assert sum(seen) == 6


_app = teach_app


def test_teach_cli_writes_a_loadable_model(good_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    result = CliRunner().invoke(_app(), ["teach", "--good", str(good_dir), "--out", str(out),
                                         "--plan", "giga-underbody", "--no-learned"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 views, 8 good images per view" in result.stdout and str(out) in result.stdout
    model = load_artifact(out)
    assert model.part_type == "giga-underbody" and model.views == ("V01", "V02")
    assert model.reference()["V02"].n_images == N_TRAIN
    assert model.training["parts"] == N_TRAIN
    again = CliRunner().invoke(_app(), ["teach", "--good", str(good_dir), "--out", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.stderr


def test_teach_cli_on_unaligned_images_writes_a_model_for_the_local_detector(
    good_dir: Path, tmp_path: Path
) -> None:
    loose = _loose(good_dir, tmp_path / "loose", 2, ("V01", "V02"))  # two of each view
    out = tmp_path / "model"
    result = CliRunner().invoke(_app(), ["teach", "--good", str(loose), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "no reference statistics" in result.stderr and "local detector" in result.stdout
    model = load_artifact(out)
    assert model.views == () and model.learned() is None


def test_teach_cli_missing_good_folder_is_one_line_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _app(), ["teach", "--good", str(tmp_path / "nope"), "--out", str(tmp_path / "m")]
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nope" in lines[0] and "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_registration_angle_convention_matches_opencv() -> None:
    m = cv2.getRotationMatrix2D((10.0, 10.0), 1.0, 1.0)
    a = np.zeros((64, 64), np.float32)
    a[20:40, 10:50] = 1.0
    a[30:34, 25:60] = 2.0
    moved = np.asarray(cv2.warpAffine(a, m, (64, 64)), np.float32)
    assert math.isclose(register(a, moved).angle_deg, 1.0, abs_tol=0.1)
