"""The model artifact: round trip, verification, refusal to overwrite, interrupted saves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from castsight.detect.reference import ReferenceView
from castsight.errors import InputError
from castsight.model import MANIFEST, SCHEMA, content_sha256, load_artifact, save_artifact
from castsight.model import artifact as artifact_module


def _ref(view: str = "V01", seed: int = 0, shape: tuple[int, int] = (48, 64)) -> ReferenceView:
    rng = np.random.default_rng(seed)
    mean = rng.uniform(0.0, 4.0, shape).astype(np.float32)
    std = rng.uniform(1e-4, 0.05, shape).astype(np.float32)
    return ReferenceView(view, mean, std, rng.random(shape) > 0.1, 17, 2.5e-4, ("P3/V01: why",))


def _save(path: Path, **kwargs: Any) -> Any:
    refs = {"V01": _ref("V01"), "V 02/odd": _ref("V 02/odd", seed=1)}
    return save_artifact(path, reference=refs, part_type="wheel", training={"parts": 17}, **kwargs)


def test_round_trip(tmp_path: Path) -> None:
    model = _save(tmp_path / "model")
    assert model.path == tmp_path / "model"
    again = load_artifact(tmp_path / "model")
    manifest = again.manifest
    assert manifest["schema"] == SCHEMA and manifest["learned"] is None
    assert manifest["created"].endswith("Z") and manifest["castsight_version"]
    assert again.part_type == "wheel" and again.training == {"parts": 17}
    assert again.views == ("V01", "V 02/odd")
    assert (
        again.content_sha256 == manifest["content_sha256"] == content_sha256(again.path, manifest)
    )
    entry = manifest["reference"]["views"]["V 02/odd"]
    assert entry["file"].startswith("reference/") and "/" not in entry["file"][10:]
    assert entry["shape"] == [48, 64] and entry["n_images"] == 17
    for name, seed in (("V01", 0), ("V 02/odd", 1)):
        want, got = _ref(name, seed), again.reference()[name]
        step = (want.mean.max() - want.mean.min()) / 65535
        assert np.abs(got.mean - want.mean).max() <= step
        np.testing.assert_allclose(got.std, want.std, rtol=1e-3)
        assert np.array_equal(got.mask, want.mask) and got.mean.dtype == np.float32
        assert (got.n_images, got.noise_var, got.notes) == (17, 2.5e-4, ("P3/V01: why",))
    assert again.size_bytes > 0


def test_a_model_without_reference_is_allowed(tmp_path: Path) -> None:
    model = save_artifact(tmp_path / "m", reference=None)
    assert model.manifest["reference"] is None and model.views == () and model.reference() == {}


def test_a_changed_byte_is_refused(tmp_path: Path) -> None:
    model = _save(tmp_path / "model")
    payload = model.path / "reference" / "V01.npz"
    data = bytearray(payload.read_bytes())
    data[len(data) // 2] ^= 0xFF
    payload.write_bytes(bytes(data))
    with pytest.raises(InputError, match="sha256"):
        load_artifact(model.path)


def test_an_added_file_or_edited_manifest_is_refused(tmp_path: Path) -> None:
    model = _save(tmp_path / "model")
    (model.path / "reference" / "extra.npz").write_bytes(b"x")
    with pytest.raises(InputError, match="sha256"):
        load_artifact(model.path)
    (model.path / "reference" / "extra.npz").unlink()
    manifest = json.loads((model.path / MANIFEST).read_text())
    manifest["content_sha256"] = "0" * 64
    (model.path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="sha256"):
        load_artifact(model.path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m["reference"]["views"].pop("V 02/odd"),  # that view would go to the fallback
        lambda m: m.update(part_type="giga-underbody"),
        lambda m: m["reference"]["views"]["V01"].update(noise_var=1.0),
        lambda m: m["training"].update(parts=1),
    ],
)
def test_any_edit_of_the_manifest_is_refused(tmp_path: Path, edit: Any) -> None:
    model = _save(tmp_path / "model")
    manifest = json.loads((model.path / MANIFEST).read_text())
    edit(manifest)
    (model.path / MANIFEST).write_text(json.dumps(manifest, indent=2))
    with pytest.raises(InputError, match="sha256"):
        load_artifact(model.path)


@pytest.mark.parametrize(
    ("section", "value"),
    [("reference", {"views": ["V01"]}), ("reference", [1]), ("learned", "x"), ("training", 3)],
)
def test_a_section_of_the_wrong_type_is_one_clear_error(
    tmp_path: Path, section: str, value: Any
) -> None:
    model = _save(tmp_path / "model")
    manifest = json.loads((model.path / MANIFEST).read_text())
    manifest[section] = value
    (model.path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="is not a JSON object"):
        load_artifact(model.path)


def test_the_model_s_named_views_are_every_part_s_expected_views(tmp_path: Path) -> None:
    from castsight.accept.plan import load_plan
    from castsight.app.detectors import model_detectors

    refs = {"V01": _ref("V01"), "V02": _ref("V02", seed=1)}
    save_artifact(tmp_path / "model", reference=refs)
    kwargs = model_detectors(tmp_path / "model", load_plan("generic"))
    assert kwargs.expected_views == ("V01", "V02")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", "no such model"),
        ("no-manifest", "not a castsight model"),
        ("bad-json", "not readable JSON"),
        ("schema", "schema"),
        ("lost-view", "incomplete"),
    ],
)
def test_a_broken_model_is_one_clear_input_error(tmp_path: Path, damage: str, message: str) -> None:
    path = tmp_path / "model"
    if damage != "missing":
        _save(path)
    manifest = path / MANIFEST
    if damage == "no-manifest":
        manifest.unlink()
    elif damage == "bad-json":
        manifest.write_text("{not json")
    elif damage == "schema":
        manifest.write_text(json.dumps({"schema": "castsight.model/99"}))
    elif damage == "lost-view":
        (path / "reference" / "V01.npz").unlink()
    with pytest.raises(InputError, match=message) as err:
        load_artifact(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_an_existing_model_is_kept_unless_overwrite(tmp_path: Path) -> None:
    first = _save(tmp_path / "model")
    with pytest.raises(InputError, match="overwrite"):
        _save(tmp_path / "model")
    assert load_artifact(tmp_path / "model").content_sha256 == first.content_sha256
    refs = {"V09": _ref("V09", seed=5)}
    second = save_artifact(tmp_path / "model", reference=refs, overwrite=True)
    assert second.views == ("V09",) and load_artifact(tmp_path / "model").views == ("V09",)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # nothing left behind


def test_overwrite_never_deletes_a_folder_that_is_not_a_model(tmp_path: Path) -> None:
    data = tmp_path / "parts"
    data.mkdir()
    (data / "P0001.tif").write_bytes(b"precious")
    with pytest.raises(InputError, match="not a castsight model"):
        _save(data, overwrite=True)
    assert (data / "P0001.tif").read_bytes() == b"precious"


def test_an_interrupted_save_leaves_no_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = artifact_module._write_view
    calls: list[str] = []

    def interrupted(root: Path, name: str, ref: ReferenceView, taken: set[str]) -> Any:
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(root, name, ref, taken)

    monkeypatch.setattr(artifact_module, "_write_view", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(artifact_module, "_write_view", real)
    old = _save(tmp_path / "model")
    monkeypatch.setattr(artifact_module, "_write_view", interrupted)
    calls.clear()
    with pytest.raises(KeyboardInterrupt):
        _save(tmp_path / "model", overwrite=True)
    assert load_artifact(tmp_path / "model").content_sha256 == old.content_sha256
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_model_and_reference_code_import_no_training_framework() -> None:
    code = (
        "import sys\n"
        "import castsight.model, castsight.teach, castsight.detect.reference\n"
        "import castsight.cli.teach_cmd\n"
        "print(sorted(m for m in ('torch', 'onnxruntime') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
