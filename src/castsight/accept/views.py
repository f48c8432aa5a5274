"""Is the part's set of views the one to sentence? Missing, doubled and copied views.

A part is OK only when every view it should have is there once, as an image of
its own. These findings carry the plan's ``on_uninspectable`` sentence:

* a part with no view at all (an empty folder, or one with no image file);
* a view the plan (``expected_views``) or the model (its taught views) expects
  that the part does not have;
* a view name given twice (a manifest listing ``V01`` twice);
* two views with identical pixels (the same file twice, or one re-encoded):
  two radiographs never share their noise, so one of them stands in for a view
  that was not taken; the same holds for a view identical to another part's.

>>> names = ["V01", "V01"]
>>> [f.message for f in view_set_findings(names, ["V01", "V02"], "REVIEW")]
['view V01 is given 2 times', 'view V02 is missing']
>>> [f.rule for f in same_image_findings([("V01", "ab"), ("V02", "ab")], "REVIEW")]
['duplicate_image']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from castsight.accept.judge import Finding


def view_set_findings(
    names: Sequence[str], expected: Sequence[str] | None, on_fail: str
) -> list[Finding]:
    """Findings for a part with no views, views named twice, and expected views missing."""
    if not names:
        return [Finding("views", "part", None, on_fail, "part has no views (no image file)")]
    counts = Counter(names)
    out = [
        Finding("duplicate_view", "part", name, on_fail, f"view {name} is given {n} times")
        for name, n in counts.items()
        if n > 1
    ]
    out += [
        Finding("expected_views", "part", name, on_fail, f"view {name} is missing")
        for name in expected or []
        if name not in counts
    ]
    return out


def same_image_findings(digests: Sequence[tuple[str, str | None]], on_fail: str) -> list[Finding]:
    """A finding for each view whose pixels (``digests``: view, pixel sha256) an earlier
    view of the part already has."""
    first: dict[str, str] = {}
    out = []
    for view, digest in digests:
        if digest is None:
            continue
        if digest in first:
            msg = f"view {view} holds the same image as view {first[digest]} (identical pixels)"
            out.append(Finding("duplicate_image", "part", view, on_fail, msg))
        else:
            first[digest] = view
    return out
