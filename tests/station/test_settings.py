"""Settings from YAML and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from castsight.errors import InputError
from castsight.station.settings import load_settings

YAML = """
cells:
  - name: cell-1
    part_type: giga-underbody
    plan: giga-underbody
    model: models/gu
    expected_views: [V01, V02]
    watch: {path: incoming/cell-1, settle_s: 3}
storage:
  data_dir: data
  retention_days: 30
signals:
  mqtt: {enabled: true, topic_prefix: plant/xray}
  opcua: {enabled: true, port: 4841}
"""


def test_yaml_file_with_relative_paths(tmp_path: Path) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(YAML)
    s = load_settings(path)
    cell = s.cell("cell-1")
    assert (cell.part_type, cell.model, cell.expected_views) == (
        "giga-underbody", tmp_path / "models" / "gu", ["V01", "V02"])  # fmt: skip
    assert s.storage.database() == f"sqlite:///{(tmp_path / 'data' / 'castsight.db')}"
    assert s.storage.archive() == tmp_path / "data" / "archive"
    assert s.signals.mqtt.enabled and s.signals.mqtt.port == 1883
    assert s.signals.opcua.endpoint() == "opc.tcp://127.0.0.1:4841/castsight/"
    assert cell.watch is not None and cell.watch.path == tmp_path / "incoming" / "cell-1"
    assert (cell.watch.settle_s, cell.watch.poll_s) == (3.0, 1.0)


def test_environment_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(YAML)
    monkeypatch.setenv("CASTSIGHT_STORAGE__DATABASE_URL", "postgresql+psycopg://x@h/db")
    monkeypatch.setenv("CASTSIGHT_WORKERS", "3")
    s = load_settings(path)
    assert (s.storage.database(), s.workers) == ("postgresql+psycopg://x@h/db", 3)


@pytest.mark.parametrize(
    "text",
    ["cells: []", "cells: [{name: 'a b', part_type: x}]", "- not a mapping", "cells: [{}]",
     "cells: [{name: a, part_type: x}, {name: a, part_type: y}]", "bogus: 1\ncells: []"],
)  # fmt: skip
def test_bad_settings_are_one_input_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "station.yaml"
    path.write_text(text)
    with pytest.raises(InputError):
        load_settings(path)
    with pytest.raises(InputError, match="cannot read"):
        load_settings(tmp_path / "missing.yaml")
