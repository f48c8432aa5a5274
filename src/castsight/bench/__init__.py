"""The standard benchmark: castsight measuring itself on seeded simulated line runs.

* :mod:`~castsight.bench.suites`: what is simulated (``standard``, ``quick``);
* :mod:`~castsight.bench.podset`: the POD set of graded pores in graded walls;
* :mod:`~castsight.bench.configs`: the detector configurations (one entry each);
* :mod:`~castsight.bench.run`: simulate, teach, inspect, evaluate;
* :mod:`~castsight.bench.summary`: figures, goals, summary.json, BENCHMARKS.md.

``castsight bench --suite standard`` (``make bench``) runs it; docs/bench.md
describes the suites and the method.
"""

from castsight.bench.configs import CONFIGURATIONS, Context, External, InProcess
from castsight.bench.run import BenchRun, check_detectors, run_suite
from castsight.bench.suites import QUICK, STANDARD, SUITES, DataSpec, Suite, get_suite
from castsight.bench.summary import markdown, replace_section, rewrite_section

__all__ = [
    "CONFIGURATIONS",
    "QUICK",
    "STANDARD",
    "SUITES",
    "BenchRun",
    "Context",
    "DataSpec",
    "External",
    "InProcess",
    "Suite",
    "check_detectors",
    "get_suite",
    "markdown",
    "replace_section",
    "rewrite_section",
    "run_suite",
]
