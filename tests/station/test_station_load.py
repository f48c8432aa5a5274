"""benchmarks/station_load.py's core at a tiny scale: a real ``castsight serve`` process,
cells posting over HTTP, MQTT on the real Mosquitto, and the checks that every
acknowledged part ends with exactly one sentence (with a kill -9 in the slow test)."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tests.station.builders import view_bytes

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "station_load.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("station_load", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["station_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


load = _script()


def tiny(tmp_path: Path, **changes: object) -> tuple[object, object]:
    """Options for 2 cells of the generic plan (local detector, no model) and a pool of
    two 2-view parts of 96 px."""
    values: dict[str, object] = {
        "workdir": tmp_path, "cells": 2, "views": 2, "size": 96, "period_s": 1.0,
        "minutes": 0.1, "part_type": "generic", "detector": "local", "workers": 1,
        "drain_s": 60.0, **changes,
    }  # fmt: skip
    options = load.LoadOptions(**values)
    parts = tuple(
        load.pool_part(f"P{k}", [(f"V0{v + 1}.tif", view_bytes(seed=10 * k + v)) for v in range(2)])
        for k in range(2)
    )
    return options, load.Prepared(parts, None, None)


def test_every_acknowledged_part_ends_with_one_sentence(tmp_path: Path) -> None:
    options, prepared = tiny(tmp_path)
    result = load.run_load(options, prepared, say=lambda _line: None)
    checks, figures = result.checks, result.figures
    assert checks.ok, load.summary(result)
    assert len(result.sent) == 12 and checks.acknowledged == 12  # 2 cells x 6 s / 1 s
    assert sorted(o.serial for o in result.held) == sorted(s.serial for s in result.sent)
    assert all(o.sentence in ("OK", "NG", "REVIEW") for o in result.held)
    assert checks.signalled == {1: 12}  # one MQTT message per part
    latency = figures["last_view_to_sentence_s"]
    assert latency["n"] == 12 and 0 < latency["p50"] <= latency["p99"] < 60
    assert figures["no_test"] == 0 and figures["backlog_at_load_end"] <= 12
    assert "-> OK" in load.summary(result)
    assert not (tmp_path / Path(result.options["run"]).name / "data").exists()


def test_the_checks_find_a_lost_an_unsentenced_and_a_twice_sentenced_part() -> None:
    sent = [load.Sent("c", s, 0.0, part_id=i) for i, s in enumerate("ABCD", start=1)]
    sent.append(load.Sent("c", "E", 0.0))  # never acknowledged
    held = [
        load.Outcome(1, "A", "c", "sentenced", 1, 0.0, 1.0, "OK", False, []),
        load.Outcome(2, "B", "c", "received", 1, 0.0, None, None, False, []),
        load.Outcome(3, "C", "c", "sentenced", 2, 0.0, 1.0, "NG", False, []),
        load.Outcome(9, "X", "c", "sentenced", 1, 0.0, 1.0, "OK", False, []),
    ]
    checks = load.check(
        sent, held, Counter({1: 1, 3: 1, 9: 1}), Counter({1: 1, 3: 2, 9: 1}), Counter({1: 1})
    )
    assert checks.lost == ["D"] and checks.unsentenced == ["B"]
    assert checks.sentenced_twice == ["C"] and checks.unknown == ["X"]
    assert checks.acknowledged == 4 and checks.unacknowledged == 1
    assert checks.signalled == {0: 3, 1: 1} and not checks.ok


@pytest.mark.slow
def test_kill_9_under_load_loses_nothing(tmp_path: Path) -> None:
    options, prepared = tiny(tmp_path, minutes=0.25, kill_after_s=4.0)
    result = load.run_load(options, prepared, say=lambda _line: None)
    assert result.checks.ok, load.summary(result)
    assert result.checks.unacknowledged == 0
    assert [f["fault"] for f in result.faults] == ["kill -9"]
    assert len(result.figures["station_start_s"]) == 2
    assert all(o.sentence is not None for o in result.held)
