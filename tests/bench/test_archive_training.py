"""Training the display-export classifier on simulated archives (a tiny set)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from castsight.bench.archive_training import fit, labelled_features
from castsight.bench.foreign import get_foreign_suite, write_set
from castsight.detect.archive import FEATURES


def test_candidates_are_labelled_at_the_marked_pore_and_cached(tmp_path: Path) -> None:
    """The quick suite's one large pore: some candidates at it at its own scale (1), most
    elsewhere (0), the pore's other scales left out (NaN); the second call reads the cache."""
    folder = tmp_path / "test"
    write_set(get_foreign_suite("foreign-quick"), "test", folder)
    data = labelled_features(folder)
    x, y = data.x, data.y
    assert data.where.shape == (y.size, 4) and data.good.shape == y.shape
    assert x.shape == (y.size, len(FEATURES)) and np.isfinite(x).all()
    assert np.nansum(y) >= 1 and (y == 0).sum() > 10 * np.nansum(y)
    assert (folder / "archive-features.npz").is_file()
    x2, y2 = labelled_features(folder)[:2]
    assert np.array_equal(x, x2) and np.array_equal(y, y2, equal_nan=True)
    keep = ~np.isnan(y)
    net = fit(x[keep], y[keep], hidden=4, epochs=5)
    p = net.probability(x[keep])
    assert p.shape == (int(keep.sum()),) and ((p >= 0) & (p <= 1)).all()


def test_the_call_allows_the_set_false_indications_per_good_image() -> None:
    """Ten good images with one lone candidate each (log-odds 1..10) and one defective
    image: at 0.2 per good image the call lets the two highest through and no more; two
    candidates within a blob's radius of each other count once."""
    from castsight.bench.archive_training import Labelled, call_logit
    from castsight.detect.archive import BlobClassifier

    d = len(FEATURES)
    w1 = np.zeros((d, 1))
    w1[0, 0] = 1.0
    net = BlobClassifier(np.zeros(d), np.ones(d), w1, np.zeros(1), np.ones(1), 0.0)
    x = np.zeros((12, d))
    x[:10, 0] = np.arange(1.0, 11.0)
    x[10, 0], x[11, 0] = 9.5, 9.4  # the defect, and itself at another scale
    where = np.array([[k, 50.0, 50.0, 4.0] for k in range(10)] + [[10, 80.0, 80.0, 4.0]] * 2)
    good = np.arange(12) < 10
    y = np.where(good, 0.0, 1.0)
    t, figures = call_logit(net, Labelled(x, y, where, good), 0.2)
    assert 8.0 < t <= 9.0 + 1e-5
    assert figures["false_per_good_image"] == 0.2
    assert figures["images_with_a_marked_defect_called"] == 1.0


def test_the_command_trains_calibrates_and_writes_a_classifier_the_detector_reads(
    tmp_path: Path,
) -> None:
    """``python -m castsight.bench.archive_training`` on one series per seed (two training
    seeds, one to calibrate on): a JSON file the detector's reader accepts, with where it
    came from; the data sets are kept under ``--work`` and reused."""
    import json

    from castsight.bench.archive_training import main
    from castsight.detect.archive import BlobClassifier

    out = tmp_path / "blobs.json"
    args = ["--out", str(out), "--work", str(tmp_path / "work"), "--seeds", "901,902",
            "--calibration-seed", "903", "--series", "1"]  # fmt: skip
    main(args)
    net = BlobClassifier.from_json(json.loads(out.read_text(encoding="utf-8")), out)
    assert net.provenance["seeds"] == [901, 902] and net.provenance["calibration_seed"] == 903
    assert np.isfinite(net.call_logit)
    cached = sorted(
        p.parent.parent.parent.name for p in (tmp_path / "work").rglob("archive-features.npz")
    )
    assert len(cached) == 3 and all(name.endswith("-nodes50") for name in cached)
