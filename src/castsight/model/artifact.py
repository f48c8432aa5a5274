"""The model artifact: one folder that holds everything ``castsight teach`` learned.

Layout::

    MODEL/castsight-model.json     manifest (schema castsight.model/1)
    MODEL/reference/<view>.npz     per view: mean_u16 + mean_offset + mean_step (the mean
                                   in fixed point, step (max - min) / 65535, about 1e-4
                                   ln units), std (float16), mask (bool); compressed
    MODEL/learned/model.onnx       the learned detector's network (optional)
    MODEL/learned/weights.pt       its PyTorch weights, which a later teach fine-tunes
                                   from (optional; read only by castsight.learn)
    MODEL/learned/report/*         its validation report: validation.json, pod.png, ...
    MODEL/guided/...               the guided detector's network, weights and report, laid
                                   out as learned/ (optional; with a reference only)

The manifest records the schema, castsight version, creation time (UTC), part
type, the ``reference`` section (per view: file, shape, number of images,
training noise level, notes), ``learned`` (null, or: ``file``, ``settings``
for :class:`~castsight.detect.learned.LearnedSettings` (normalisation,
calibrated threshold, tiling), ``summary`` (training, calibration and
validation figures) and the ``report`` files), ``guided`` (the same, for the
network of :mod:`castsight.detect.guided`) and a ``training`` summary.
``content_sha256`` is the sha256 over the whole model: every payload file (all
files but the manifest and dot-files), in sorted order of their relative paths,
each fed as ``path NUL size(8 bytes, big endian) bytes``, then the manifest
itself less this one field (``NUL manifest NUL`` and its canonical JSON: sorted
keys, no spaces); :func:`load_artifact` recomputes it, so a corrupt, partly
copied or edited model (a payload file or a manifest entry) is refused with one
clear message, and the hash a record carries names everything that judged it.

:func:`save_artifact` writes into a hidden temporary sibling folder and renames
it into place at the end, so an interrupted save leaves no ``MODEL``.

The mean is kept at full resolution: halving it moves learned edges by more
than their spread (1.2 % of part pixels off by over one std at 1536 px). In
fixed point a 1536 x 1536 view takes about 7 MB (float32 would take 11.5 MB
and load three times slower).

>>> import tempfile, pathlib
>>> from castsight.detect.reference import ReferenceView
>>> ref = ReferenceView("V01", np.ones((8, 8), np.float32), np.full((8, 8), 0.01, np.float32),
...                     np.ones((8, 8), bool), n_images=12, noise_var=1e-4)
>>> out = pathlib.Path(tempfile.mkdtemp()) / "model"
>>> _ = save_artifact(out, reference={"V01": ref}, part_type="wheel")
>>> model = load_artifact(out)
>>> model.part_type, model.views, model.reference()["V01"].n_images
('wheel', ('V01',), 12)
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from castsight.detect.learned import LearnedSettings
from castsight.detect.reference import ReferenceView
from castsight.errors import InputError

SCHEMA = "castsight.model/1"
MANIFEST = "castsight-model.json"


NETWORKS = ("learned", "guided")
"""Manifest sections (and folders) that hold a network: :class:`LearnedPart` each."""


@dataclass(frozen=True)
class LearnedPart:
    """The learned detector's share of a model: network, settings, figures, report files."""

    onnx: bytes
    settings: LearnedSettings
    summary: dict[str, Any]
    report: Mapping[str, bytes] | None = None
    """File name -> bytes, written under ``learned/report/``."""
    weights: bytes | None = None
    """PyTorch weights (:func:`castsight.learn.train.save_checkpoint`), ``learned/weights.pt``."""


@dataclass(frozen=True)
class ModelArtifact:
    """A verified model folder: its manifest, and loaders for what it holds."""

    path: Path
    manifest: dict[str, Any]
    content_sha256: str

    @property
    def part_type(self) -> str | None:
        """Part type the model was taught for (from the plan), if recorded."""
        value = self.manifest.get("part_type")
        return value if isinstance(value, str) else None

    @property
    def views(self) -> tuple[str, ...]:
        """View names with a reference."""
        ref = self.manifest.get("reference") or {}
        return tuple(ref.get("views", {}))

    @property
    def training(self) -> dict[str, Any]:
        """The training summary written by ``castsight teach``."""
        return dict(self.manifest.get("training") or {})

    @property
    def size_bytes(self) -> int:
        """Total size of the model's files."""
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())

    def learned(self) -> LearnedPart | None:
        """The learned detector's network and settings, or None when the model has none."""
        return self._network("learned")

    def guided(self) -> LearnedPart | None:
        """The guided detector's network and settings, or None when the model has none."""
        return self._network("guided")

    def _network(self, key: str) -> LearnedPart | None:
        section = self.manifest.get(key)
        if not isinstance(section, dict):
            return None
        where = self.path / str(section.get("file"))
        try:
            onnx = where.read_bytes()
            settings = LearnedSettings.from_dict(dict(section.get("settings") or {}))
        except (OSError, TypeError, ValueError) as err:
            raise InputError(where, f"{key} model is unreadable ({err})") from None
        return LearnedPart(onnx, settings, dict(section.get("summary") or {}))

    @property
    def weights_path(self) -> Path | None:
        """Path of the learned network's PyTorch weights (to fine-tune from), if any."""
        return self.weights_of("learned")

    def weights_of(self, key: str) -> Path | None:
        """Path of the PyTorch weights of network ``key`` (``learned``, ``guided``), if any."""
        section = self.manifest.get(key)
        name = section.get("weights") if isinstance(section, dict) else None
        return self.path / str(name) if name else None

    def reference(self) -> dict[str, ReferenceView]:
        """Read every view's reference statistics (empty when the model has none)."""
        section = self.manifest.get("reference") or {}
        return {name: _read_view(self.path, name, entry)
                for name, entry in section.get("views", {}).items()}  # fmt: skip


DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "data" / "default-model"
"""The learned model shipped with castsight (``tools/build_default_model.py``)."""


def default_model() -> Path | None:
    """Folder of the shipped default model, or None when this installation has none."""
    return DEFAULT_MODEL if (DEFAULT_MODEL / MANIFEST).is_file() else None


def save_artifact(
    path: str | Path,
    *,
    reference: Mapping[str, ReferenceView] | None,
    learned: LearnedPart | None = None,
    guided: LearnedPart | None = None,
    part_type: str | None = None,
    training: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> ModelArtifact:
    """Write a model folder at ``path`` atomically and return it, verified.

    An existing ``path`` is refused unless ``overwrite``; even then only a model
    folder (or an empty folder) is replaced, never other data.
    """
    from castsight import __version__

    dest = Path(path)
    if dest.exists():
        if not overwrite:
            raise InputError(dest, "already exists; pass --overwrite to replace it")
        if not dest.is_dir() or (any(dest.iterdir()) and not (dest / MANIFEST).is_file()):
            raise InputError(dest, "exists and is not a castsight model; refusing to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        views: dict[str, Any] = {}
        for name, ref in (reference or {}).items():
            views[name] = _write_view(tmp, name, ref, taken={v["file"] for v in views.values()})
        learned_entry = _write_learned(tmp, learned, "learned") if learned is not None else None
        guided_entry = _write_learned(tmp, guided, "guided") if guided is not None else None
        manifest = {
            "schema": SCHEMA,
            "castsight_version": __version__,
            "created": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "part_type": part_type,
            "content_sha256": "",  # set below, over the payload and the rest of the manifest
            "reference": {"views": views, "scale": 1} if reference is not None else None,
            "learned": learned_entry,
            "guided": guided_entry,
            "training": dict(training or {}),
        }
        manifest["content_sha256"] = content_sha256(tmp, manifest)
        text = json.dumps(manifest, indent=2, allow_nan=False)  # views keep teaching order
        (tmp / MANIFEST).write_text(text + "\n", encoding="utf-8")
        _swap_in(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_artifact(dest)


def _swap_in(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest``; an old ``dest`` is renamed away first, then deleted."""
    if not dest.exists():
        os.rename(tmp, dest)
        return
    old = dest.parent / f".{dest.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    except BaseException:
        os.rename(old, dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


def load_artifact(path: str | Path) -> ModelArtifact:
    """Open and verify a model folder; any problem is one :class:`InputError`."""
    root = Path(path)
    if not root.exists():
        raise InputError(root, "no such model folder")
    manifest_path = root / MANIFEST
    if not root.is_dir() or not manifest_path.is_file():
        raise InputError(root, f"not a castsight model (no {MANIFEST}); run castsight teach")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(root, f"model manifest is not readable JSON ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("schema") != SCHEMA:
        found = manifest.get("schema") if isinstance(manifest, dict) else None
        raise InputError(root, f"model schema {found!r} is not {SCHEMA!r}")
    _check_sections(root, manifest)
    for name, entry in ((manifest.get("reference") or {}).get("views") or {}).items():
        if not isinstance(entry, dict) or not (root / str(entry.get("file"))).is_file():
            raise InputError(root, f"model is incomplete: reference of view {name!r} is missing")
    for key in NETWORKS:
        section = manifest.get(key)
        if isinstance(section, dict) and not (root / str(section.get("file"))).is_file():
            raise InputError(root, f"model is incomplete: the {key} network is missing")
    digest = content_sha256(root, manifest)
    if digest != manifest.get("content_sha256"):
        raise InputError(
            root, "model files do not match their manifest (sha256 differs): corrupt or edited"
        )
    return ModelArtifact(root, manifest, digest)


def learned_weights(path: str | Path, key: str = "learned") -> Path:
    """The PyTorch weights of network ``key`` of the model folder at ``path``, to fine-tune
    from; one :class:`InputError` when it is no model or has none."""
    weights = load_artifact(path).weights_of(key)
    if weights is None or not weights.is_file():
        raise InputError(Path(path), f"has no {key} weights to fine-tune ({key}/weights.pt)")
    return weights


def content_sha256(root: Path, manifest: Mapping[str, Any]) -> str:
    """sha256 over the payload files of a model folder and its ``manifest`` less the
    ``content_sha256`` field (see the module docstring)."""
    h = hashlib.sha256()
    files = [f for f in root.rglob("*") if f.is_file() and f.name != MANIFEST]
    for rel in sorted(f.relative_to(root).as_posix() for f in files):
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        data = (root / rel).read_bytes()
        h.update(rel.encode("utf-8") + b"\0" + len(data).to_bytes(8, "big"))
        h.update(data)
    rest = {k: v for k, v in manifest.items() if k != "content_sha256"}
    h.update(b"\0manifest\0" + json.dumps(rest, sort_keys=True, separators=(",", ":")).encode())
    return h.hexdigest()


def _check_sections(root: Path, manifest: Mapping[str, Any]) -> None:
    """One :class:`InputError` for a manifest section of the wrong type."""
    ref = manifest.get("reference")
    views = ref.get("views") if isinstance(ref, dict) else None
    wrong = (
        "reference" if ref is not None and not isinstance(ref, dict)
        else "reference.views" if ref is not None and not isinstance(views, dict)
        else next((k for k in (*NETWORKS, "training")
                   if manifest.get(k) is not None and not isinstance(manifest[k], dict)), None)
    )  # fmt: skip
    if wrong is not None:
        raise InputError(root, f"model manifest: {wrong!r} is not a JSON object: corrupt or edited")


def _write_view(root: Path, name: str, ref: ReferenceView, taken: set[str]) -> dict[str, Any]:
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", name) or "view"
    file = f"reference/{stem}.npz"
    while file in taken:
        stem += "_"
        file = f"reference/{stem}.npz"
    lo, hi = float(ref.mean.min()), float(ref.mean.max())
    step = max((hi - lo) / 65535.0, 1e-9)
    quantised = np.round((ref.mean.astype(np.float64) - lo) / step).astype(np.uint16)
    buf = io.BytesIO()
    arrays: dict[str, Any] = {"mean_u16": quantised, "mean_offset": np.float64(lo),
                              "mean_step": np.float64(step), "std": ref.std.astype(np.float16),
                              "mask": ref.mask.astype(bool)}  # fmt: skip
    if ref.modes is not None:
        arrays["modes"] = ref.modes.astype(np.float16)
    np.savez_compressed(buf, **arrays)
    (root / "reference").mkdir(exist_ok=True)
    (root / file).write_bytes(buf.getvalue())
    return {"file": file, "shape": list(ref.shape), "n_images": ref.n_images,
            "noise_var": ref.noise_var, "notes": list(ref.notes)}  # fmt: skip


def _write_learned(root: Path, learned: LearnedPart, folder: str) -> dict[str, Any]:
    """Write a network's files under ``folder`` (``learned`` or ``guided``); its manifest entry."""
    onnx, weights, report = (f"{folder}/{name}" for name in ("model.onnx", "weights.pt", "report"))
    (root / folder).mkdir()
    (root / onnx).write_bytes(learned.onnx)
    names = []
    if learned.report:
        (root / report).mkdir()
        for name, data in sorted(learned.report.items()):
            if "/" in name or name.startswith(".") or not name:
                raise ValueError(f"bad report file name {name!r}")
            (root / report / name).write_bytes(data)
            names.append(f"{report}/{name}")
    if learned.weights is not None:
        (root / weights).write_bytes(learned.weights)
    return {"file": onnx, "settings": learned.settings.to_dict(),
            "summary": dict(learned.summary), "report": names,
            "weights": weights if learned.weights is not None else None}  # fmt: skip


def _read_view(root: Path, name: str, entry: dict[str, Any]) -> ReferenceView:
    where = root / str(entry.get("file"))
    try:
        with np.load(where, allow_pickle=False) as npz:
            q, lo, step, std, mask = (
                np.asarray(npz[k]) for k in ("mean_u16", "mean_offset", "mean_step", "std", "mask")
            )
            modes = np.asarray(npz["modes"], np.float32) if "modes" in npz.files else None
        return ReferenceView(
            view=name,
            mean=(float(lo) + q.astype(np.float64) * float(step)).astype(np.float32),
            std=std.astype(np.float32),
            mask=mask.astype(bool),
            n_images=int(entry["n_images"]),
            noise_var=float(entry["noise_var"]),
            notes=tuple(str(n) for n in entry.get("notes", [])),
            modes=modes,
        )
    except (OSError, KeyError, ValueError, TypeError) as err:
        raise InputError(where, f"reference of view {name!r} is unreadable ({err})") from None
