"""The shipped default learned model: ranks a clear pore first, calls nothing on flat noise.

Measured shortfall (BENCHMARKS.md): the shipped model is under-trained (CPU
budget); it ranks a clear pore above everything else on the image, but its
calibrated threshold (set by structure corners on simulated views) is above
the pore's probability, so it does not yet *report* it.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from castsight.accept.plan import load_plan
from castsight.app.detectors import model_detectors
from castsight.detect.learned import CascadeDetector, LearnedDetector
from castsight.detect.normalise import normalise
from castsight.model import default_model, load_artifact
from castsight.preprocess.prepare import prepare
from castsight.radiograph import Radiograph

SHIPPED = default_model()
needs_model = pytest.mark.skipif(SHIPPED is None, reason="no default model in this checkout")


def _detector() -> LearnedDetector:
    assert SHIPPED is not None
    part = load_artifact(SHIPPED).learned()
    assert part is not None
    return LearnedDetector(part.onnx, part.settings)


def _plate(seed: int, pore: bool, bits: int = 16) -> Radiograph:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:256, :256]
    clean = np.full((256, 256), 20000.0)
    clean[:, 150:180] *= 0.6  # a rib
    if pore:  # a pore 8 px across, 6 % more signal at its centre
        r2 = ((yy - 90) ** 2 + (xx - 70) ** 2) / 16.0
        clean *= 1.0 + 0.06 * np.sqrt(np.clip(1.0 - r2, 0.0, None))
    raw = rng.poisson(clean)
    if bits == 8:
        return Radiograph(np.clip(raw / 100.0, 0, 255).astype(np.uint8))
    return Radiograph(raw.astype(np.uint16))


@needs_model
def test_shipped_model_is_small_and_verified() -> None:
    assert SHIPPED is not None
    model = load_artifact(SHIPPED)
    assert model.size_bytes < 10e6
    assert model.learned() is not None and model.manifest["learned"]["summary"]["validation"]


@needs_model
@pytest.mark.parametrize("bits", [16, 8])
def test_ranks_a_clear_pore_first(bits: int) -> None:
    detector = _detector()
    image = prepare(_plate(1, pore=True, bits=bits))
    prob = detector.probability(normalise(image.attenuation))
    near = np.zeros(prob.shape, bool)
    near[78:103, 58:83] = True
    assert float(prob[near].max()) > float(prob[~near].max())
    low = detector.with_settings(replace(detector.settings, threshold=float(prob[~near].max())))
    found = low.detect(image)
    assert len(found) == 1 and found[0].polarity == 1 and near[found[0].bbox[1], found[0].bbox[0]]
    assert found[0].detector == "learned" and found[0].score > 0.5


@needs_model
def test_nothing_on_flat_noise() -> None:
    rng = np.random.default_rng(4)
    flat = Radiograph(rng.poisson(np.full((384, 384), 20000.0)).astype(np.uint16))
    assert _detector().detect(prepare(flat)) == []


@needs_model
def test_inspect_uses_the_shipped_model() -> None:
    assert SHIPPED is not None
    plan = load_plan("generic")
    learned = model_detectors(SHIPPED, plan).detector_for("V01")
    cascade = model_detectors(SHIPPED, plan, "cascade").detector_for("V01")
    assert isinstance(learned, LearnedDetector) and isinstance(cascade, CascadeDetector)
    image = prepare(_plate(2, pore=True))
    assert all(i.detector == "cascade" for i in cascade.detect(image))
