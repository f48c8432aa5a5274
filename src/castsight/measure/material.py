"""What a void of a given chord does to the image, from the acquisition's physics.

A void of chord ``c`` inside the alloy lowers the attenuation by ``mu_eff c``, where
``mu_eff`` is the alloy's effective attenuation coefficient for the beam that reaches
the detector there (hardened by the alloy in front: it falls as the local
attenuation grows). An inclusion less dense than the alloy lowers it by less: sand
(quartz, 1.6 g/cm^3) by ``(mu_alloy - mu_sand) c``, 0.45-0.52 of a void's at
80-220 kV behind 5-30 mm of alloy, where both are mostly Compton scatterers and
the ratio barely moves with the spectrum. So an indication's fitted amplitude over
its fitted diameter, in units of ``mu_eff``, tells a pore (about 1) from a light
inclusion (about 0.5) of the same size (:func:`light_inclusion`). Sizes alone
cannot: a 1.8 mm sand inclusion looks like a 1.8 mm pore, under a 2 mm pore limit and
over a 1 mm inclusion limit.

``mu_eff`` comes from the tube's kV and filter (the radiograph's acquisition), a
tungsten spectrum, a CsI detector and the alloy's attenuation tables
(:mod:`castsight.physics`, the physics the simulator renders with).
Without a kV there is no such figure, and indications are typed by shape alone.

>>> per_mm = void_attenuation_per_mm(150.0, "Al 2 mm")
>>> 0.05 < per_mm(0.5) < 0.1, per_mm(3.0) < per_mm(0.5)
(True, True)
>>> void_attenuation_per_mm(None, "Al 2 mm") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

LIGHT_INCLUSION_RATIO = 0.7
"""Below this share of a void's contrast for its size, a bright indication is an inclusion
lighter than the alloy (sand), not a pore.

About the geometric mean (0.72) of sand's share (0.47, 0.45-0.52 from the attenuation
tables) and what the sphere fit gives for voids on the standard suite (median 1.10,
5th percentile 0.87, over 481 pore views matched on seed 0; lab notes
docs/notes/2026-12-03-light-inclusions-and-cut-defects.md)."""
SAND_VOID_SHARE = (0.45, 0.52)
"""Sand's contrast over a void's of the same chord, at 80-220 kV behind 5-30 mm of alloy
(the attenuation tables, the simulator's polychromatic model)."""
SHARE_STANDARD_ERRORS = 2.0
"""How many standard errors a void share is raised by before :func:`light_inclusion`
compares it (its relative error taken as one over the indication's significance)."""
_FILTER = re.compile(r"([A-Za-z]+)\s+([0-9.]+)\s*mm")


def light_inclusion(share: float, significance: float) -> bool:
    """Is a bright indication of this void share (at this significance, sigma) a light
    inclusion? Its share, raised by :data:`SHARE_STANDARD_ERRORS`, must stay under
    :data:`LIGHT_INCLUSION_RATIO` and reach sand's (:data:`SAND_VOID_SHARE`).

    On seed 0 of the standard suite two 1 mm pores at 5.5 sigma measured 0.55 and 0.68
    of a void's contrast; on seed 1 a 5.1 sigma blob measured 0.17, which no material
    a casting holds gives (lab notes 2026-12-03, third session).

    >>> light_inclusion(0.5, 8.0), light_inclusion(0.6, 5.5), light_inclusion(0.17, 5.1)
    (True, False, False)
    >>> light_inclusion(1.0, 20.0)
    False
    """
    upper = share * (1.0 + SHARE_STANDARD_ERRORS / max(significance, 1.0))
    return SAND_VOID_SHARE[0] <= upper < LIGHT_INCLUSION_RATIO


def parse_filters(text: str | None) -> dict[str, float] | None:
    """Filters from acquisition text such as ``'Al 2 mm + Cu 0.5 mm'`` (None: unreadable).

    >>> parse_filters("Al 2 mm + Cu 0.5 mm"), parse_filters(None), parse_filters("")
    ({'Al': 2.0, 'Cu': 0.5}, {}, {})
    >>> parse_filters("a thick one") is None
    True
    """
    if not text or not text.strip():
        return {}
    parts = [p.strip() for p in text.split("+")]
    found = [_FILTER.fullmatch(p) for p in parts]
    if not all(found):
        return None
    return {m.group(1): float(m.group(2)) for m in found if m}


@dataclass(frozen=True)
class VoidAttenuation:
    """``mu_eff`` (1/mm) of the alloy as a function of the local attenuation (ln units),
    for one tube kV and filter (picklable: it travels with a view's result)."""

    kv: float
    filters: tuple[tuple[str, float], ...]

    def __call__(self, local_attenuation: float) -> float:
        attenuation, mu = _table(self.kv, self.filters)
        return float(np.interp(local_attenuation, attenuation, mu))


def void_attenuation_per_mm(kv: float | None, filter_text: str | None) -> VoidAttenuation | None:
    """The :class:`VoidAttenuation` of the tube at ``kv`` behind ``filter_text``; None where
    the kV or the filter is not known (or not in the attenuation tables)."""
    filters = parse_filters(filter_text)
    if kv is None or filters is None or not 30.0 <= kv <= 225.0:
        return None
    found = VoidAttenuation(round(float(kv), 1), tuple(sorted(filters.items())))
    try:
        _table(found.kv, found.filters)
    except ValueError:  # a filter material the tables do not hold
        return None
    return found


@lru_cache(maxsize=16)
def _table(kv: float, filters: tuple[tuple[str, float], ...]) -> tuple[np.ndarray, np.ndarray]:
    """Attenuation behind 0-300 mm of alloy, and ``mu_eff`` there."""
    from castsight.physics import TransmissionModel, tube_spectrum  # numba: only when used

    model = TransmissionModel(tube_spectrum(kv, dict(filters)))
    t = np.linspace(0.0, 300.0, 601)
    return -np.log(model.signal(t)), model.effective_mu(t)
