"""A benchmark run's figures: per configuration, against the goals, as JSON and Markdown.

The figures come from :mod:`castsight.evaluate` (COCO AP, matching, part rates,
POD fits); this module only picks them out, judges them against the goals of
issue 5 and writes them: ``summary.json``, a table for the console and the
generated section of BENCHMARKS.md between ``<!-- bench:<suite>:start -->`` and
``<!-- bench:<suite>:end -->`` (the rest of the file is left as it is).

>>> text = "# B\\n\\nkept\\n"
>>> new = replace_section(text, "quick", "figures")
>>> new.startswith(text) and "<!-- bench:quick:start -->\\nfigures\\n" in new
True
>>> replace_section(new, "quick", "other") == new.replace("figures", "other")
True
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from castsight.bench.podset import WALL_BANDS_MM, band_of
from castsight.errors import InputError
from castsight.evaluate.report import json_finite
from castsight.io.files import atomic_write_bytes

Json = dict[str, Any]
KINDS = ("pore", "shrinkage", "crack", "inclusion")
GOALS = (
    ("escapes", "zero escapes (true NG sentenced OK)"),
    ("false_calls", "false calls <= 1 % of OK parts"),
    ("pod", "POD a90/95 at d' <= 5"),
    ("peer", ">= 4x faster than the peer at equal or better AP"),
)
FALSE_CALL_GOAL = 0.01
D_PRIME_GOAL = 5.0
SPEED_GOAL = 4.0


def _pod(result: Any) -> Json:
    sizes = result.sizes
    return {
        "a50": result.a50,
        "a90": result.a90,
        "a90_95": result.a90_95,
        "n": result.n,
        "n_hits": result.n_hits,
        "min_size": min(sizes) if sizes else None,
        "max_size": max(sizes) if sizes else None,
        "converged": result.converged,
        "notes": list(result.notes),
    }


def _pod_by_wall(ev: Any) -> Json:
    """a50/a90/a90_95 against size_mm for each band of wall thickness (POD set truth)."""
    from castsight.evaluate.pod import fit_pod

    found = ev.matching.hit_ids(ev.detection.score_threshold)
    groups: dict[str, tuple[list[float], list[bool]]] = {}
    for ann in ev.truth["annotations"]:
        wall, size = ann.get("wall_mm"), ann.get("size_mm")
        if not isinstance(wall, int | float) or not isinstance(size, int | float) or size <= 0:
            continue
        sizes, hits = groups.setdefault(band_of(float(wall)), ([], []))
        sizes.append(float(size))
        hits.append(ann["id"] in found)
    order = [f"{lo:g}-{hi:g}" for lo, hi in WALL_BANDS_MM]
    return {band: _pod(fit_pod(*groups[band])) for band in order if band in groups}


OVERLAP_IOU = 1e-6
"""IoU for the NDT-style POD hit: any overlap between an indication and the defect."""


def _pod_overlap(ev: Any) -> Json:
    """POD with a hit = any indication box overlapping the defect's (not IoU >= 0.5).

    Box IoU >= 0.5 also asks for a tight box, which a blurred few-pixel defect rarely
    gets; NDT counts a hit when an indication is at the flaw. With many false
    indications per image this criterion also counts chance overlaps.
    """
    from castsight.evaluate.pod import fit_pod, hit_miss

    out = {}
    for size_field in ("size_mm", "d_prime"):
        sizes, hits = hit_miss(ev.truth, ev.predictions, field=size_field,
                               iou_threshold=OVERLAP_IOU,
                               score_threshold=ev.detection.score_threshold)  # fmt: skip
        out[size_field] = _pod(fit_pod(sizes, hits))
    return out


def configuration_figures(evaluations: Mapping[str, Any], timing: Mapping[str, Json]) -> Json:
    """The summary figures of one configuration from its evaluations and timings."""
    test = evaluations["test"]
    d = test.detection
    pod_ev = evaluations.get("pod", test)
    figures: Json = {
        "speed": {
            "ms_per_view": timing["test"]["ms_per_view"],
            "s_per_part": timing["test"]["s_per_part"],
            "views": timing["test"].get("views"),
        },
        "detection": {
            "ap": d.coco.ap,
            "ap50": d.coco.ap50,
            "ap50_any_class": d.coco.ap50_any_class,
            "precision": d.precision,
            "recall": d.recall,
            "true_positives": d.true_positives,
            "n_truth": d.n_truth,
            "false_positives": d.false_positives,
            "n_images": d.n_images,
            "false_per_image": d.false_per_image,
            "recall_by_category": {k: r.to_dict() for k, r in d.recall_by_category.items()},
            "score_threshold": d.score_threshold,
            "iou_threshold": d.iou_threshold,
        },
        "parts": None if test.parts is None else {
            "truth_field": test.parts.truth_field,
            "n_parts": test.parts.n_parts,
            "confusion": test.parts.confusion,
            "escapes": test.parts.escapes.to_dict(),
            "false_calls": test.parts.false_calls.to_dict(),
            "missing": len(test.parts.missing),
        },
        "pod": {
            "set": "pod" if "pod" in evaluations else "test",
            "size_mm": _pod(pod_ev.pod["size_mm"]),
            "d_prime": _pod(pod_ev.pod["d_prime"]),
            "by_wall_size_mm": _pod_by_wall(pod_ev) if "pod" in evaluations else {},
            "any_overlap": _pod_overlap(pod_ev),
        },
    }  # fmt: skip
    if "pod" in timing:
        figures["speed"]["pod_ms_per_view"] = timing["pod"]["ms_per_view"]
    return figures


def dataset_figures(folder: Path) -> Json:
    """Parts, views, annotations by kind and true sentences of a simulated data set."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    parts = json.loads((folder / "parts.json").read_text(encoding="utf-8"))["parts"]
    names = {c["id"]: c["name"] for c in truth["categories"]}
    by_kind: dict[str, int] = {}
    for ann in truth["annotations"]:
        kind = names.get(ann["category_id"], str(ann["category_id"]))
        by_kind[kind] = by_kind.get(kind, 0) + 1
    ng = sum(p["sentence"] == "NG" for p in parts)
    ng_imaged = sum(p["sentence_imaged"] == "NG" for p in parts)
    return {
        "path": str(folder),
        "parts": len(parts),
        "views": len(truth["images"]),
        "annotations": len(truth["annotations"]),
        "annotations_by_kind": by_kind,
        "ng": ng,
        "ng_imaged": ng_imaged,
        "ng_not_imaged": sum(p["sentence"] == "NG" and p["sentence_imaged"] != "NG" for p in parts),
    }


def machine() -> Json:
    """CPU model, cores, memory and Python of this machine."""
    cpu = platform.processor() or platform.machine()
    memory = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "python": platform.python_version(),
        "system": platform.system(),
    }


def _met(ok: bool | None, detail: str) -> Json:
    status = "not measured" if ok is None else ("met" if ok else "not met")
    return {"status": status, "detail": detail}


def goals(entry: Json, peer: Json | None) -> dict[str, Json]:
    """Each goal of issue 5 for one configuration: met / not met / not measured, and why."""
    if entry.get("status") != "ran":
        return {key: _met(None, entry.get("status", "")) for key, _ in GOALS}
    out: dict[str, Json] = {}
    parts = entry["parts"]
    esc, fc = parts["escapes"], parts["false_calls"]
    out["escapes"] = _met(esc["n"] > 0 and esc["k"] == 0, f"{esc['k']}/{esc['n']} NG parts OK")
    fc_ok = None if fc["rate"] is None else fc["rate"] <= FALSE_CALL_GOAL
    out["false_calls"] = _met(fc_ok, f"{fc['k']}/{fc['n']} = {_pct(fc['rate'])}")
    pod = entry["pod"]["d_prime"]
    a = pod["a90_95"]
    out["pod"] = _met(
        a is not None and a <= D_PRIME_GOAL,
        f"a90/95 = {_pod_value(pod)} (d', {entry['pod']['set']} set)",
    )
    if peer is None or peer.get("status") != "ran":
        why = "peer not run" if peer is None else f"peer {peer.get('status')}"
        out["peer"] = _met(None, why)
    else:
        ratio = peer["speed"]["ms_per_view"] / max(entry["speed"]["ms_per_view"], 1e-9)
        ap, peer_ap = entry["detection"]["ap"], peer["detection"]["ap"]
        ok = ratio >= SPEED_GOAL and ap is not None and peer_ap is not None and ap >= peer_ap
        out["peer"] = _met(ok, f"{ratio:.1f}x the peer's speed, AP {_num(ap)} vs {_num(peer_ap)}")
    return out


def add_goals(summary: Json) -> Json:
    """``summary`` with ``goals`` filled in for each castsight configuration."""
    entries = summary["configurations"]
    peer = next((e for e in entries if e["name"] == "peer"), None)
    summary["goals"] = {e["name"]: goals(e, peer) for e in entries if e["name"] != "peer"}
    return summary


def write_summary(summary: Json, path: Path) -> None:
    """``summary.json`` (goals added), NaN written as null."""
    add_goals(summary)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(json_finite(summary), indent=1, allow_nan=False)
    atomic_write_bytes(path, (text + "\n").encode("utf-8"))


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _rate(rate: Json) -> str:
    """``k/n = x % [lo-hi %]`` with the Clopper-Pearson 95 % interval."""
    if not rate["n"]:
        return "0/0"
    lo, hi = rate["clopper_pearson"]
    return f"{rate['k']}/{rate['n']} = {_pct(rate['rate'])} [{100 * lo:.1f}-{100 * hi:.1f} %]"


def _pod_value(pod: Json, key: str = "a90_95") -> str:
    """A POD size, or '> max' where the fit puts it beyond the largest size tested."""
    value, top = pod.get(key), pod.get("max_size")
    if value is None:
        return "n/a"
    if top is not None and value > top:
        return f"> {top:.3g}"
    return f"{value:.3g}"


def _pod_triple(pod: Json) -> str:
    return " / ".join(_pod_value(pod, k) for k in ("a50", "a90", "a90_95"))


def _pod_pair(overlap: Json | None) -> str:
    if not overlap:
        return "-"
    size, dp = overlap["size_mm"], overlap["d_prime"]
    return (f"{_pod_value(size, 'a50')} / {_pod_value(size, 'a90')}; "
            f"{_pod_value(dp, 'a50')} / {_pod_value(dp, 'a90')}")  # fmt: skip


def table_rows(summary: Json) -> tuple[list[str], list[list[str]]]:
    """Header and one row per configuration (shared by the console and Markdown)."""
    header = ["detector", "AP / AP50", "recall by type (found/truth)", "false ind./image",
              "escapes (95 % CP)", "false calls (95 % CP)", "POD size mm a50/a90/a90_95",
              "POD d' a50/a90/a90_95", "POD any overlap: mm; d' (a50/a90)", "ms/view",
              "teach s"]  # fmt: skip
    rows = []
    for e in summary["configurations"]:
        if e.get("status") != "ran":
            rows.append([e["name"], f"{e.get('status')}: {e.get('reason', '')}"] + [""] * 9)
            continue
        d, p = e["detection"], e["parts"]
        by_cat = d["recall_by_category"]
        recall = ", ".join(f"{k} {by_cat[k]['k']}/{by_cat[k]['n']}" for k in KINDS if k in by_cat)
        rows.append([
            e["name"], f"{_num(d['ap'])} / {_num(d['ap50'])}", recall,
            _num(d["false_per_image"], 2), _rate(p["escapes"]), _rate(p["false_calls"]),
            _pod_triple(e["pod"]["size_mm"]), _pod_triple(e["pod"]["d_prime"]),
            _pod_pair(e["pod"].get("any_overlap")), f"{e['speed']['ms_per_view']:.0f}",
            "-" if e.get("teach_s") is None else f"{e['teach_s']:.0f}",
        ])  # fmt: skip
    return header, rows


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    return lines


def markdown(summary: Json, command: str) -> str:
    """The generated BENCHMARKS.md section for a run."""
    suite, m, steps = summary["suite"], summary["machine"], summary["steps_s"]
    lines = [
        f"## Standard benchmark: `castsight bench --suite {suite['name']}` (issue 5)",
        "",
        "Generated by the bench itself; do not edit by hand (it is rewritten between the",
        "markers on every standard run). Definition and method: docs/bench.md.",
        "",
        f"Command: `{command}`. Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['memory_gib']} GiB, Python {m['python']}. Date: {summary['started']}. "
        f"Whole run: {steps['total_s'] / 60:.1f} min wall, {summary.get('cpu_s', 0) / 60:.1f} min "
        f"CPU; 1-minute load average {_loads(summary)} (the machine is shared: times are "
        "inflated when the load exceeds the cores).",
        "",
        f"Suite: {suite['description']}. Part sentences are scored against "
        "`sentence_imaged` (a rejectable defect that shows in at least one of the views); "
        "indications by box IoU >= 0.5 at score >= 0.5; POD per view on the POD set "
        "(logit on log size, likelihood-ratio 95 % bound); the any-overlap column counts "
        "a hit when an indication box overlaps the pore at all (NDT's hit, which also "
        "counts chance overlaps where false indications are many).",
        "",
        "| data set | parts | views | defect annotations | NG parts (all / imaged) |",
        "|---|---|---|---|---|",
    ]
    for role, ds in summary["datasets"].items():
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(ds["annotations_by_kind"].items()))
        lines.append(f"| {role} | {ds['parts']} | {ds['views']} | {ds['annotations']}"
                     f" ({kinds}) | {ds['ng']} / {ds['ng_imaged']} |")  # fmt: skip
    header, rows = table_rows(summary)
    lines += ["", *_md_table(header, rows), ""]
    walls = [e for e in summary["configurations"] if e.get("pod", {}).get("by_wall_size_mm")]
    if walls:
        bands = [f"{lo:g}-{hi:g}" for lo, hi in WALL_BANDS_MM]
        lines += ["POD against pore diameter by local wall thickness (a90 / a90_95 in mm, "
                  "hits/pores):", ""]  # fmt: skip
        wall_rows = []
        for e in walls:
            row = [e["name"]]
            for band in bands:
                pod = e["pod"]["by_wall_size_mm"].get(band)
                row.append("-" if pod is None else f"{_pod_value(pod, 'a90')} / "
                           f"{_pod_value(pod)} ({pod['n_hits']}/{pod['n']})")  # fmt: skip
            wall_rows.append(row)
        lines += [*_md_table(["detector", *[f"wall {b} mm" for b in bands]], wall_rows), ""]
    lines += ["Goals of issue 5, as measured:", ""]
    names = list(summary.get("goals", {}))
    goal_rows = []
    for key, text in GOALS:
        row = [text]
        for name in names:
            g = summary["goals"][name][key]
            row.append(f"**{g['status']}** ({g['detail']})")
        goal_rows.append(row)
    lines += [*_md_table(["goal", *names], goal_rows), ""]
    for e in summary["configurations"]:
        if e.get("status") in ("skipped", "failed"):
            lines.append(f"{e['name']}: {e['status']} ({e.get('reason', '')}).")
    lines.append("")
    lines.append("Step times (s): " + ", ".join(f"{k[:-2]} {v:.0f}" for k, v in steps.items()))
    return "\n".join(lines).rstrip() + "\n"


def _loads(summary: Json) -> str:
    load = summary.get("load_average") or {}
    values = [load.get("start"), load.get("end")]
    return " -> ".join("?" if v is None else f"{v:.1f}" for v in values)


def _markers(suite: str) -> tuple[str, str]:
    return f"<!-- bench:{suite}:start -->", f"<!-- bench:{suite}:end -->"


def replace_section(text: str, suite: str, body: str) -> str:
    """``text`` with the section between the suite's markers replaced by ``body``.

    Without markers the section is appended at the end; a file with only one of
    the two markers, or with them out of order, is refused.
    """
    start, end = _markers(suite)
    block = f"{start}\n{body.rstrip()}\n{end}"
    i, j = text.find(start), text.find(end)
    if i < 0 and j < 0:
        return text.rstrip("\n") + "\n\n" + block + "\n"
    if i < 0 or j < i:
        raise InputError("BENCHMARKS.md", f"markers {start} ... {end} missing or out of order")
    return text[:i] + block + text[j + len(end) :]


def rewrite_section(path: Path, suite: str, body: str) -> None:
    """Rewrite the suite's generated section of ``path`` (see :func:`replace_section`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError(path, f"cannot read ({err.strerror or err})") from None
    atomic_write_bytes(path, replace_section(text, suite, body).encode("utf-8"))
