"""The peer detector (benchmarks/peer): its image, its ONNX decoding, its castsight Detector.

The pure parts run everywhere; the ONNX run needs onnxruntime (a tiny fixed-output model,
tests/peer/data/fixed_boxes.onnx, stands in for a trained YOLO) and the training smoke
test needs ultralytics (the .venv-peer of ``make peer-env``), so both skip cleanly in
castsight's own venv and in CI.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from onnx_detector import PeerBox, decode, footprint, polarity_depth, score_to_significance
from peer_image import window_u8
from yolo_data import convert, tile_offsets

from castsight.accept.plan import load_plan
from castsight.detect.base import Indication, significance_to_score
from castsight.io import read_radiograph, write_radiograph
from castsight.io.parts import discover_parts
from castsight.measure import measure_indications
from castsight.pipeline import Inspector
from castsight.preprocess.prepare import prepare
from castsight.radiograph import Radiograph
from castsight.simulate.dataset import SimulationConfig, write_dataset

FIXTURE = Path(__file__).parent / "data" / "fixed_boxes.onnx"


def test_window_spans_the_part_and_clips_the_rest() -> None:
    att = np.linspace(0.0, 2.0, 400, dtype=np.float32).reshape(20, 20)
    mask = np.zeros((20, 20), bool)
    mask[5:15] = True
    u8 = window_u8(att, mask)
    assert u8.dtype == np.uint8
    assert u8[:3].max() == 0 and u8[-3:].min() == 255
    part = u8[mask]
    assert part.min() <= 2 and part.max() >= 253


@pytest.mark.parametrize("score", [0.01, 0.25, 0.5, 0.9, 0.999])
def test_score_round_trips_through_significance(score: float) -> None:
    assert significance_to_score(score_to_significance(score)) == pytest.approx(score, abs=1e-9)


def test_decode_scales_filters_and_suppresses() -> None:
    out = np.zeros((1, 8, 4), np.float32)
    out[0, :, 0] = [40, 60, 20, 12, 0.9, 0.05, 0.0, 0.0]
    out[0, :, 1] = [41, 60, 20, 12, 0.1, 0.7, 0.0, 0.0]  # same object, lower score
    out[0, :, 2] = [200, 200, 10, 10, 0.0, 0.0, 0.3, 0.0]
    out[0, :, 3] = [300, 300, 10, 10, 0.0, 0.0, 0.0, 0.005]  # below conf
    boxes = decode(out, scale=2.0, conf=0.01)
    assert [(b.class_id, round(b.score, 2)) for b in boxes] == [(0, 0.9), (2, 0.3)]
    assert (boxes[0].x, boxes[0].y, boxes[0].w, boxes[0].h) == (15.0, 27.0, 10.0, 6.0)
    assert boxes[0].int_box(64, 64) == (15, 27, 10, 6)
    assert PeerBox(60.5, -2.0, 9.0, 4.0, 0.5, 0).int_box(64, 64) == (60, 0, 4, 2)


def test_footprints_measure_as_their_class() -> None:
    att = np.ones((64, 64), np.float32)
    rr, cc = np.mgrid[0:24, 0:24]
    att[10:34, 10:34][np.abs(rr - cc) <= 1] -= 0.05  # a diagonal crack, less material
    crack = footprint((10, 10, 24, 24), 2, att)
    pore = footprint((40, 40, 8, 8), 0, att)
    assert crack.sum() < 0.2 * crack.size and pore.sum() > 0.6 * pore.size
    assert crack[0, 0] and crack[-1, -1] and not crack[0, -1]  # the darker diagonal
    inds = [
        Indication((10, 10, 24, 24), crack, 1, 0.05, 9.0, "peer"),
        Indication((40, 40, 8, 8), pore, 1, 0.05, 9.0, "peer"),
    ]
    kinds = [m.kind for m in measure_indications(inds, pixel_size_mm=0.1)]
    assert kinds == ["crack", "pore"]


def test_polarity_and_depth_from_the_attenuation() -> None:
    att = np.full((40, 40), 1.0, np.float32)
    att[18:22, 18:22] = 0.9  # a void: less material
    att[5:8, 5:8] = 1.2  # a dense inclusion
    box = (18, 18, 4, 4)
    pol, depth = polarity_depth(box, footprint(box, 0, att), att)
    assert pol == 1 and depth == pytest.approx(0.1, abs=1e-5)
    box = (5, 5, 3, 3)
    pol, depth = polarity_depth(box, footprint(box, 3, att), att)
    assert pol == -1 and depth == pytest.approx(0.2, abs=1e-5)


def test_tiles_cover_the_view() -> None:
    assert tile_offsets(768, 160, overlap=0.0) == [0, 152, 304, 456, 608]
    assert tile_offsets(100, 160) == [0]


def test_convert_writes_a_yolo_dataset(tmp_path: Path) -> None:
    sim = tmp_path / "sim"
    write_dataset(SimulationConfig(n_parts=2, n_views=2, size=128, defect_rate=1.0, seed=3), sim)
    truth = json.loads((sim / "truth.json").read_text())
    counts = convert(sim, tmp_path / "yolo", tile=64, upscale=2.0, negatives=1.0)
    assert counts["views"] == 4 and counts["imgsz"] == 128
    assert counts["positive_tiles"] >= 1
    assert counts["boxes"] >= len({a["id"] for a in truth["annotations"]}) * 0.5
    yaml_text = (tmp_path / "yolo" / "data.yaml").read_text()
    assert "0: pore" in yaml_text and "3: inclusion" in yaml_text
    labels = list((tmp_path / "yolo" / "labels").rglob("*.txt"))
    images = list((tmp_path / "yolo" / "images").rglob("*.png"))
    assert len(labels) == len(images) == counts["positive_tiles"] + counts["negative_tiles"]
    for path in labels:
        for line in path.read_text().splitlines():
            cls, *xywh = line.split()
            assert 0 <= int(cls) <= 3
            assert all(0.0 <= float(v) <= 1.0 for v in xywh)
    import cv2

    assert cv2.imread(str(images[0]), cv2.IMREAD_UNCHANGED).shape == (128, 128, 3)


def _part_folder(root: Path) -> Path:
    folder = root / "P1"
    folder.mkdir(parents=True)
    px = np.random.default_rng(0).poisson(np.full((96, 96), 20000.0)).astype(np.uint16)
    write_radiograph(Radiograph(px), folder / "V01.tif")
    return folder


def test_onnx_detector_gives_indications_and_keeps_low_scores(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from onnx_detector import OnnxPeerDetector

    folder = _part_folder(tmp_path)
    peer = OnnxPeerDetector(FIXTURE, upscale=2.0, conf=0.25, keep_conf=0.01)
    prep = prepare(read_radiograph(folder / "V01.tif"))
    inds = peer.detect(prep)
    assert len(inds) == 1
    (ind,) = inds
    assert ind.bbox == (15, 27, 10, 6) and ind.detector == "peer-yolo11n"
    assert ind.score == pytest.approx(0.9, abs=1e-6)
    assert ind.mask.shape == (6, 10) and ind.extras["peer_class"] == 1.0
    kept = peer.boxes[str(folder / "V01.tif")]
    assert [(b.class_id, round(b.score, 2)) for b in kept] == [(0, 0.9), (2, 0.15)]

    record = Inspector(load_plan("generic"), detector_for=lambda _v: peer).inspect(
        discover_parts([tmp_path])[0]
    )
    view = record.to_dict()["views"][0]
    assert view["detector"] == "peer-yolo11n" and len(view["indications"]) == 1
    assert view["indications"][0]["score"] == pytest.approx(0.9, abs=1e-6)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")  # torch/ultralytics deprecations are not ours to fix
def test_smoke_train_export_and_inspect(tmp_path: Path) -> None:
    """One tiny epoch from yolo11n.yaml, ONNX export, the test set inspected (peer venv only)."""
    pytest.importorskip("ultralytics")
    pytest.importorskip("onnxruntime")
    import run_peer

    sim = tmp_path / "sim"
    write_dataset(SimulationConfig(n_parts=2, n_views=2, size=128, defect_rate=1.0, seed=3), sim)
    out = tmp_path / "out"
    args = ["--train", str(sim), "--test", str(sim), "--out", str(out), "--epochs", "1"]
    args += ["--budget-min", "0", "--imgsz", "64", "--tile", "32", "--batch", "2"]
    assert run_peer.main(args) == 0
    assert (out / "peer-yolo11n.onnx").is_file()
    timing = json.loads((out / "timing.json").read_text())
    assert timing["epochs"] == 1 and timing["imgsz"] == 64 and timing["ms_per_view"] > 0
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert len(records) == 2 and all(r["sentence"] in ("OK", "NG", "REVIEW") for r in records)
    assert isinstance(json.loads((out / "predictions.json").read_text()), list)
    assert run_peer.main(args) == 0  # a rerun reuses the model
