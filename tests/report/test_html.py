"""The HTML report: content, escaping, PNG assets and the 16-bit packing."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from castsight.io import write_radiograph
from castsight.radiograph import Radiograph
from castsight.report import images
from castsight.report.html import ASSETS_DIR, write_html_report

MESSAGE = 'pore 2.61 mm > max_pore <b>2.00</b> mm & "more"'


def _pixels(seed: int) -> np.ndarray[Any, np.dtype[np.uint16]]:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(8000, 50000, 128)[None, :] + np.linspace(0, 4000, 128)[:, None]
    pixels = ramp + rng.normal(0, 300, (128, 128))
    pixels[40:46, 30:36] += 6000  # a pore: brighter in transmission
    return np.clip(pixels, 0, 65535).astype(np.uint16)


def _indication(ident: str, bbox: list[int], kind: str) -> dict[str, Any]:
    return {
        "id": ident,
        "bbox": bbox,
        "score": 0.98,
        "significance": 9.1,
        "kind": kind,
        "zone": "whole",
        "eq_diameter_px": 6.8,
        "eq_diameter_mm": 0.86,
        "contrast": 0.064,
    }


@pytest.fixture
def records(tmp_path: Path) -> list[dict[str, Any]]:
    paths = []
    for k in (1, 2):
        path = tmp_path / "data" / f"V0{k}.tif"
        path.parent.mkdir(exist_ok=True)
        paths.append(str(write_radiograph(Radiograph(_pixels(k)), path)))
    ng = {
        "serial": "P-NG-1",
        "sentence": "NG",
        "findings": [
            {"rule": "max_pore", "zone": "whole", "view": "V01", "sentence": "NG",
             "message": MESSAGE, "indications": ["V01#1"]},
        ],
        "views": [
            {"view": "V01", "path": paths[0], "status": "inspected", "error": None,
             "quality": {"snr": 50.0, "saturated_pct": 0.0},
             "indications": [_indication("V01#1", [30, 40, 6, 6], "pore"),
                             _indication("V01#2", [100, 2, 20, 4], "crack")]},
            {"view": "V02", "path": paths[1], "status": "inspected", "indications": []},
        ],
        "timings": {"total_s": 0.8},
        "software": {"castsight": "0.1.0"},
        "plan": {"part_type": "giga-underbody", "sha256": "0123456789abcdef" * 4},
        "model": None,
    }  # fmt: skip
    review = {
        "serial": "P-REVIEW-2",
        "sentence": "REVIEW",
        "findings": [],
        "views": [
            {"view": "V01", "path": str(tmp_path / "nowhere" / "V01.tif"),
             "status": "unreadable", "error": "no such file", "indications": []},
        ],
    }  # fmt: skip
    ok = {"serial": "P-OK-3", "sentence": "OK", "views": [{"view": "V02", "path": paths[1]}]}
    return [ng, review, ok]


def _specs(html: str) -> list[dict[str, Any]]:
    return [json.loads(s) for s in re.findall(r"data-spec='([^']*)'", html)]


def test_report_content(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    page = write_html_report(records, tmp_path / "out", max_side=64)
    assert page == tmp_path / "out" / "report.html"
    html = page.read_text(encoding="utf-8")
    expected = [("P-NG-1", "NG"), ("P-REVIEW-2", "REVIEW"), ("P-OK-3", "OK")]
    for i, (serial, sentence) in enumerate(expected, 1):
        assert f'<a href="#part-{i}">{serial}</a>' in html
        assert f'<span class="badge {sentence.lower()}">{sentence}</span>' in html
    assert MESSAGE.split(" &")[0].replace(">", "&gt;").replace("<", "&lt;") in html
    assert "0123456789ab" in html  # short plan hash
    assert "<details>" in html and html.index("<details>") > html.index('id="part-3"')
    assert "http://" not in html and "https://" not in html  # self-contained


def test_escaping(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    html = write_html_report(records, tmp_path / "out").read_text(encoding="utf-8")
    escaped = "pore 2.61 mm &gt; max_pore &lt;b&gt;2.00&lt;/b&gt; mm &amp; &#34;more&#34;"
    assert escaped in html
    assert "<b>2.00</b>" not in html


def test_unreadable_view_is_reported(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    html = write_html_report(records, tmp_path / "out").read_text(encoding="utf-8")
    section = html[html.index('id="part-2"') : html.index('id="part-3"')]
    assert "image unavailable" in section and "no such file" in section
    assert 'class="note bad"' in section and "unreadable" in section
    assert "data-spec" not in section


def test_view_assets_round_trip(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    out = tmp_path / "out"
    default = write_html_report(records, tmp_path / "light", max_side=64)
    assert len(_specs(default.read_text(encoding="utf-8"))) == 2  # OK parts: no images
    every = ("OK", "NG", "REVIEW")
    html = write_html_report(records, out, max_side=64, images_for=every).read_text("utf-8")
    specs = _specs(html)
    assert len(specs) == 3  # NG V01, NG V02, OK V02 (collapsed but written)
    for spec, k in zip(specs, (1, 2, 2), strict=True):
        bgr = cv2.imread(str(out / spec["src"]), cv2.IMREAD_UNCHANGED)
        assert bgr is not None and bgr.shape == (64, 64, 3) and bgr.dtype == np.uint8
        assert (spec["w"], spec["h"], spec["sx"], spec["sy"]) == (64, 64, 0.5, 0.5)
        source = cv2.resize(_pixels(k).astype(np.float32), (64, 64), interpolation=cv2.INTER_AREA)
        decoded = bgr[..., 2].astype(np.int64) * 256 + bgr[..., 1]
        assert np.abs(decoded - source).max() <= 1
        assert not bgr[..., 0].any()
        sidecar = (out / spec["data"]).read_text()
        url = json.loads(sidecar[sidecar.index(", ") + 2 : sidecar.rindex(")")])
        assert base64.b64decode(url.split(",", 1)[1]) == (out / spec["src"]).read_bytes()
    boxes = specs[0]["boxes"]
    assert [(b["x"], b["y"], b["w"], b["h"]) for b in boxes] == [(30, 40, 6, 6), (100, 2, 20, 4)]
    assert "V01#1 ⌀0.86 mm" in boxes[0]["label"]


def test_crop_assets(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    out = tmp_path / "out"
    html = write_html_report(records, out, max_side=64).read_text(encoding="utf-8")
    crops = re.findall(r'<img src="(report_files/[^"]+)"', html)
    assert len(crops) == 2 and all(c.startswith(f"{ASSETS_DIR}/") for c in crops)
    for src in crops:
        grey = cv2.imread(str(out / src), cv2.IMREAD_UNCHANGED)
        assert grey is not None and grey.shape == (64, 64) and grey.dtype == np.uint8
        assert grey.min() == 0 and grey.max() == 255
    assert 'href="#part-1-v1-i1"' in html and 'id="part-1-v1-i1"' in html
    assert "contrast 0.064" in html and "score 0.98" in html


def test_no_records(tmp_path: Path) -> None:
    html = write_html_report([], tmp_path).read_text(encoding="utf-8")
    assert "No parts." in html


def test_display_image_dtypes() -> None:
    u8 = np.array([[0, 255]], np.uint8)
    assert images.display_image(u8, 8)[0].tolist() == [[0, 65535]]
    f32 = np.array([[-1.5, 0.5, np.nan]], np.float32)
    assert images.display_image(f32, 8)[0].tolist() == [[0, 65535, 0]]
    u16 = np.arange(12, dtype=np.uint16).reshape(3, 4)
    view, sx, sy = images.display_image(u16, 4)
    assert np.array_equal(view, u16) and (sx, sy) == (1.0, 1.0)
    with pytest.raises(ValueError, match="max_side"):
        images.display_image(u16, 0)


def test_crop_window_stays_inside() -> None:
    assert images.crop_window((128, 128), [0, 0, 3, 3]) == (0, 0, 64, 64)
    assert images.crop_window((128, 128), [120, 125, 3, 3]) == (64, 64, 128, 128)
    assert images.crop_window((128, 128), [60, 60, 8, 8]) == (32, 32, 96, 96)
    assert images.crop_window((20, 30), [5, 5, 2, 2]) == (0, 0, 30, 20)


def test_each_indication_says_which_views_saw_it_and_where_in_the_part(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    seen, alone = records[0]["views"][0]["indications"]
    seen.update(views=["V01", "V03"], part_mm=[12.5, -3.25, 4.0], confirmed=True,
                extra_weak=1.0)  # fmt: skip
    alone.update(views=["V01"], part_mm=None, confirmed=False)
    html = write_html_report(records, tmp_path / "out", max_side=64).read_text(encoding="utf-8")
    assert ("seen by V01, V03 · part (12.5, -3.2, 4.0) mm · below the threshold in this view, "
            "counted because another view confirms it") in html  # fmt: skip
    assert ("seen by V01 · not confirmed by another view, the views that looked did not see "
            "it: not judged<") in html  # fmt: skip
    alone.update(extra_frame_line=1.0)
    html = write_html_report(records, tmp_path / "out", max_side=64).read_text(encoding="utf-8")
    assert ("not confirmed by another view, a line along the edge of the frame (structure "
            "moved into the field): not judged<") in html  # fmt: skip


def test_a_light_inclusion_says_what_its_contrast_for_its_size_says(
    tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    sand, pore = records[0]["views"][0]["indications"]
    sand.update(kind="inclusion", void_share=0.48)
    pore.update(kind="pore", void_share=1.07)
    html = write_html_report(records, tmp_path / "out", max_side=64).read_text(encoding="utf-8")
    assert "· 0.48 of a void&#39;s (lighter than the alloy: sand)" in html
    assert "· 1.07 of a void&#39;s<" in html
