"""The part's view set: no views, a name twice, expected views missing, same pixels."""

from __future__ import annotations

from castsight.accept.views import same_image_findings, view_set_findings


def test_view_set_findings_carry_the_uninspectable_sentence() -> None:
    assert [f.sentence for f in view_set_findings([], ["V01"], "NG")] == ["NG"]
    assert view_set_findings(["V01", "V02"], ["V01", "V02"], "REVIEW") == []
    assert view_set_findings(["V01", "V02"], None, "REVIEW") == []
    found = view_set_findings(["V02", "V02"], ["V01", "V02"], "REVIEW")
    assert [(f.rule, f.view) for f in found] == [
        ("duplicate_view", "V02"),
        ("expected_views", "V01"),
    ]


def test_same_image_names_the_first_holder() -> None:
    found = same_image_findings([("V01", "a"), ("V02", None), ("V03", "a"), ("V04", "b")], "REVIEW")
    assert [(f.view, f.message) for f in found] == [
        ("V03", "view V03 holds the same image as view V01 (identical pixels)")
    ]
