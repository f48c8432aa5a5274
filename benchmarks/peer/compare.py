"""castsight and the peer side by side, from two ``castsight evaluate`` folders.

    .venv/bin/python benchmarks/peer/compare.py --castsight EVAL_CS --peer EVAL_PEER
        [--castsight-records CS_OUT/records.jsonl --peer-records PEER_OUT/records.jsonl]
        [--out comparison.json]

Prints AP, AP50 (per category and any class), recall and precision at each
evaluation's score threshold, part-level escapes and false calls, and time per
view and per part (from the records' own timings, so both are timed the same
way), each with the ratio castsight / peer (for time: peer / castsight, how many
times faster castsight is).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any


def _records_timing(path: Path | None) -> dict[str, float | None]:
    if path is None or not path.exists():
        return {"ms_per_view": None, "s_per_part_median": None}
    recs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    totals = [r["timings"]["total_s"] for r in recs]
    views = sum(len(r["views"]) for r in recs)
    return {
        "ms_per_view": 1000.0 * sum(totals) / max(views, 1),
        "s_per_part_median": statistics.median(totals) if totals else None,
    }


def figures(eval_dir: Path, records: Path | None) -> dict[str, Any]:
    """The headline figures of one evaluation folder (metrics.json) and its records."""
    m = json.loads((eval_dir / "metrics.json").read_text(encoding="utf-8"))
    det, coco, parts = m["detection"], m["detection"]["coco"], m.get("parts") or {}
    out: dict[str, Any] = {
        "AP": coco["ap"],
        "AP50": coco["ap50"],
        "AP_any_class": coco["ap_any_class"],
        "AP50_any_class": coco["ap50_any_class"],
        "recall": det["recall"],
        "precision": det["precision"],
        "score_threshold": det["score_threshold"],
        "false_per_image": det["false_per_image"],
    }
    for key in ("escapes", "false_calls", "reviews"):
        rate = parts.get(key)
        out[key] = None if rate is None else f"{rate['k']}/{rate['n']}"
    out["ap50_by_category"] = coco.get("ap50_by_category")
    out.update(_records_timing(records))
    return out


def _ratio(a: Any, b: Any) -> float | None:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or not b:
        return None
    return round(a / b, 2)


def main(argv: list[str] | None = None) -> int:
    """Print the side-by-side table; optionally write it as JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--castsight", type=Path, required=True, help="castsight evaluate --out folder")
    ap.add_argument("--peer", type=Path, required=True, help="castsight evaluate --out folder")
    ap.add_argument("--castsight-records", type=Path)
    ap.add_argument("--peer-records", type=Path)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    cs = figures(args.castsight, args.castsight_records)
    peer = figures(args.peer, args.peer_records)
    rows = []
    for key in ("AP", "AP50", "AP_any_class", "AP50_any_class", "recall", "precision"):
        rows.append((key, cs[key], peer[key], _ratio(cs[key], peer[key])))
    for key in ("escapes", "false_calls", "reviews"):
        rows.append((key, cs[key], peer[key], None))
    for key in ("ms_per_view", "s_per_part_median"):
        rows.append((key + " (peer/castsight)", cs[key], peer[key], _ratio(peer[key], cs[key])))
    print(f"{'figure':34} {'castsight':>12} {'peer':>12} {'ratio':>8}")
    for name, a, b, r in rows:
        fa = f"{a:.3f}" if isinstance(a, float) else str(a)
        fb = f"{b:.3f}" if isinstance(b, float) else str(b)
        print(f"{name:34} {fa:>12} {fb:>12} {'' if r is None else r:>8}")
    if args.out:
        data = {"castsight": cs, "peer": peer, "rows": rows}
        args.out.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
