"""Plans load, validate and name the bad field."""

from __future__ import annotations

from pathlib import Path

import pytest

from castsight.accept import load_plan
from castsight.accept.plan import SHIPPED_PLANS, parse_plan
from castsight.errors import InputError


@pytest.mark.parametrize("name", SHIPPED_PLANS)
def test_shipped_plans_load(name: str) -> None:
    plan = load_plan(name)
    assert plan.part_type == name and len(plan.sha256) == 64


def test_hash_changes_with_text() -> None:
    a = parse_plan("part_type: x\n")
    b = parse_plan("part_type: x\nunits: px\n")
    assert a.sha256 != b.sha256


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("part_type: x\nrules:\n  max_pore: -1\n", "rules.max_pore"),
        ("part_type: x\nrules:\n  max_pores: 3\n", "rules.max_pores"),
        ("part_type: x\non_uninspectable: MAYBE\n", "on_uninspectable"),
        ("rules: {}\n", "part_type"),
        ("part_type: x\nrules:\n  severity_thresholds_pct: [1, 1, 2, 3]\n", "rules"),
    ],
)
def test_bad_plan_names_the_field(text: str, field: str) -> None:
    with pytest.raises(InputError, match=f"'{field}"):
        parse_plan(text, "p.yaml")


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such plan"):
        load_plan(tmp_path / "none.yaml")
    (tmp_path / "bad.yaml").write_text("part_type: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_plan(tmp_path / "bad.yaml")
