"""The benchmark suites: which parts are simulated, how, and with which seeds.

A :class:`Suite` is four simulated data sets of one series part (every part the
same nominal giga-underbody, as on a production line), all with the same views
and detector size:

* ``test``: the parts that are sentenced and scored (about half defective,
  defect sizes drawn around the plan's limits by the simulator);
* ``pod``: single round pores of graded diameter in graded wall thickness
  (:mod:`castsight.bench.podset`), for the probability-of-detection curves;
* ``good``: parts without rejectable defects, to teach detectors that learn from
  good parts (``reference``);
* ``train``: good and defective parts with truth, to train detectors that learn
  from labelled defects (the peer, a learned detector); simulated only when a
  configuration needs it.

The standard suite uses 4 views of 768 x 768 px per part rather than the real
cell's 28 views of 1536 x 1536 px so that the whole run (all data sets, the
``local`` and ``reference`` detectors, evaluation) stays under 30 minutes on a
2-core machine; docs/bench.md gives the measured costs behind that choice. The
speed of the real configuration is measured by ``benchmarks/inspect_speed.py``.

>>> s = get_suite("quick")
>>> s.size, s.n_views, s.test.n_parts, s.config(s.test).series
(256, 2, 8, 1)
>>> get_suite("standard").test.n_parts >= 300
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from castsight.errors import InputError
from castsight.simulate.dataset import SimulationConfig

ROLES = ("test", "pod", "good", "train")


@dataclass(frozen=True)
class DataSpec:
    """One simulated data set of a suite."""

    role: str
    n_parts: int
    defect_rate: float
    seed: int
    pores_per_part: int = 0
    """POD set only: graded pores per part."""


@dataclass(frozen=True)
class Suite:
    """A benchmark suite: part, series, views, size, and its four data sets."""

    name: str
    description: str
    test: DataSpec
    pod: DataSpec
    good: DataSpec
    train: DataSpec
    part_type: str = "giga-underbody"
    series: int = 1
    detector_seed: int = 2026_5_0
    """One flat panel for every data set of the suite, as one inspection cell has."""
    n_views: int = 4
    size: int = 768
    fixture_deg: float = SimulationConfig.fixture_deg
    """Fixturing error per view (rotation about each axis, degrees, one sigma)."""
    detectors: tuple[str, ...] = ("local", "reference", "peer")
    """Configurations run when ``--detectors`` is not given."""

    def spec(self, role: str) -> DataSpec:
        """The data set of ``role`` (one of :data:`ROLES`)."""
        if role not in ROLES:
            raise InputError("suite", f"unknown data set {role!r} (known: {', '.join(ROLES)})")
        spec: DataSpec = getattr(self, role)
        return spec

    def config(self, spec: DataSpec) -> SimulationConfig:
        """The simulator configuration of one data set."""
        return SimulationConfig(
            part_type=self.part_type,
            n_parts=spec.n_parts,
            n_views=self.n_views,
            size=self.size,
            defect_rate=spec.defect_rate,
            seed=spec.seed,
            series=self.series,
            detector_seed=self.detector_seed,
            fixture_deg=self.fixture_deg,
        )

    def stamp(self, spec: DataSpec) -> dict[str, Any]:
        """What makes a simulated data set what it is (compared before reusing one)."""
        return {
            "suite": self.name,
            "part_type": self.part_type,
            "series": self.series,
            "detector_seed": self.detector_seed,
            "n_views": self.n_views,
            "size": self.size,
            # only when changed, so data sets simulated before the option stay reusable
            **({} if self.fixture_deg == SimulationConfig.fixture_deg
               else {"fixture_deg": self.fixture_deg}),
            **dataclasses.asdict(spec),
        }  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready definition."""
        return dataclasses.asdict(self)

    def variant(
        self,
        *,
        seed: int = 0,
        series: int | None = None,
        views: int | None = None,
        fixture_deg: float | None = None,
    ) -> Suite:
        """The same suite on other seeds and/or another series part (the check that
        nothing was tuned to one set): every data set's seed moves by ``seed * 100``,
        and the name says so (``standard-seed1-series2``), so its data and summary
        never mix with the suite's own. ``views``: views per part (a real cell takes 28);
        ``fixture_deg``: the fixturing error (how POD and false calls follow it).

        >>> v = get_suite("quick").variant(seed=1, series=3)
        >>> v.name, v.series, v.test.seed, v.good.seed
        ('quick-seed1-series3', 3, 111, 113)
        >>> get_suite("quick").variant(fixture_deg=1.0).name
        'quick-fixture1.0deg'
        """
        same_fixture = fixture_deg in (None, self.fixture_deg)
        if (
            seed == 0
            and series in (None, self.series)
            and views in (None, self.n_views)
            and same_fixture
        ):
            return self

        def moved(spec: DataSpec) -> DataSpec:
            return dataclasses.replace(spec, seed=spec.seed + 100 * seed)

        name = self.name + (f"-seed{seed}" if seed else "")
        name += f"-series{series}" if series not in (None, self.series) else ""
        name += f"-views{views}" if views not in (None, self.n_views) else ""
        name += "" if same_fixture else f"-fixture{fixture_deg}deg"
        return dataclasses.replace(
            self, name=name, series=series or self.series, n_views=views or self.n_views,
            fixture_deg=self.fixture_deg if fixture_deg is None else fixture_deg,
            test=moved(self.test),
            pod=moved(self.pod), good=moved(self.good), train=moved(self.train),
        )  # fmt: skip


STANDARD = Suite(
    name="standard",
    description=(
        "300 giga-underbody parts of series 1 (about half with a rejectable defect), "
        "a POD set of 440 graded pores, 40 good parts to teach from, 120 training parts; "
        "4 views of 768 x 768 px per part"
    ),
    test=DataSpec("test", n_parts=300, defect_rate=0.5, seed=2026_5_1),
    pod=DataSpec("pod", n_parts=55, defect_rate=0.0, seed=2026_5_2, pores_per_part=8),
    good=DataSpec("good", n_parts=40, defect_rate=0.0, seed=2026_5_3),
    train=DataSpec("train", n_parts=120, defect_rate=0.6, seed=2026_5_4),
)

QUICK = Suite(
    name="quick",
    description="the standard path on a tiny set: 8 + 2 + 6 + 6 parts, 2 views of 256 x 256 px",
    test=DataSpec("test", n_parts=8, defect_rate=0.5, seed=11),
    pod=DataSpec("pod", n_parts=2, defect_rate=0.0, seed=12, pores_per_part=6),
    good=DataSpec("good", n_parts=6, defect_rate=0.0, seed=13),
    train=DataSpec("train", n_parts=6, defect_rate=0.6, seed=14),
    n_views=2,
    size=256,
)

SUITES = {s.name: s for s in (STANDARD, QUICK)}


def get_suite(name: str) -> Suite:
    """The suite called ``name``; :class:`~castsight.errors.InputError` if unknown."""
    try:
        return SUITES[name]
    except KeyError:
        raise InputError(
            "--suite", f"unknown suite {name!r} (known: {', '.join(SUITES)})"
        ) from None
