"""The display-export candidates, their features and the shipped classifier."""

from __future__ import annotations

import json

import numpy as np
import pytest

from castsight.detect.archive import (
    FEATURES,
    BlobClassifier,
    blob_candidates_of,
    default_classifier,
)
from castsight.errors import InputError
from castsight.preprocess.prepare import prepare
from tests.detect.test_local import LOOKS, _archive, _pore, _thickness


def test_the_shipped_classifier_reads_back_what_it_wrote() -> None:
    net = default_classifier()
    again = BlobClassifier.from_json(json.loads(json.dumps(net.to_json())))
    x = np.random.default_rng(0).normal(size=(5, len(FEATURES)))
    assert np.allclose(again.probability(x), net.probability(x))
    assert net.provenance["seeds"] and net.provenance["on_defects"] > 100


def test_a_classifier_of_other_features_is_refused() -> None:
    data = default_classifier().to_json()
    data["features"] = data["features"][:-1]
    with pytest.raises(InputError, match="not a castsight archive-blob classifier"):
        BlobClassifier.from_json(data, "old.json")


@pytest.mark.parametrize("filt", sorted(LOOKS))
def test_the_pore_is_the_most_probable_candidate_and_its_features_are_finite(filt: str) -> None:
    """A 16 px pore in a casting with a wall step, a rib, a cored hole and a boss with a
    blind hole: of the up to 250 candidates, the highest scoring is on the pore, brighter,
    and called (score 0.5 at the classifier's call)."""
    image = prepare(_archive(_pore(_thickness(), 120.0, 70.0, 8.0), LOOKS[filt]))
    found = blob_candidates_of(image)
    assert found.features.shape == (found.x.size, len(FEATURES)) and found.x.size > 20
    assert np.isfinite(found.features).all()
    p = default_classifier().score(found.features)
    best = int(np.argmax(p))
    assert abs(int(found.x[best]) - 70) <= 8 and abs(int(found.y[best]) - 120) <= 8
    assert found.candidates.polarity[best] == 1 and p[best] >= 0.5


def test_features_do_not_depend_on_the_grey_scale_of_the_export() -> None:
    """The same view exported with another window and gamma: the same candidates score
    about alike (the features are relative to the image's own levels and noise)."""
    t = _pore(_thickness(), 120.0, 70.0, 8.0)
    base = LOOKS["smooth"]
    other = type(base)(white=1.0, black=0.3, gamma=1.0, filter="smooth", strength=0.8)
    net = default_classifier()
    p = [float(net.score(blob_candidates_of(prepare(_archive(t, look))).features).max())
         for look in (base, other)]  # fmt: skip
    assert abs(p[0] - p[1]) < 0.25, p
