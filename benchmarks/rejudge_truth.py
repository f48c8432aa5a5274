"""Re-judge a suite's simulated truth with today's rules engine; count changed sentences.

Usage (from the repository root)::

    .venv/bin/python benchmarks/rejudge_truth.py DATA_DIR --suite standard --role test

``DATA_DIR`` is a data set the bench wrote (``BENCH_OUT/<suite>/data/<role>``,
with parts.json). Each part's defects are drawn again from the suite's seeds
(phantom and defects only, nothing rendered: seconds, not hours), judged by
:func:`castsight.simulate.truth.judge`, and compared with the ``sentence`` and
``sentence_imaged`` in parts.json (imaged: the defects parts.json lists with a
view). Prints the counts and each changed part with the new reasons.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from castsight.accept.plan import load_plan
from castsight.bench.podset import PodPartMaker
from castsight.bench.suites import get_suite
from castsight.simulate.dataset import make_part
from castsight.simulate.truth import judge, true_flaws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--suite", default="standard")
    parser.add_argument("--role", default="test", choices=("test", "pod", "good", "train"))
    args = parser.parse_args()
    suite = get_suite(args.suite)
    spec = suite.spec(args.role)
    config = suite.config(spec)
    rules = load_plan(config.part_type).rules
    maker = PodPartMaker(pores_per_part=spec.pores_per_part) if args.role == "pod" else make_part
    parts = json.loads((args.data / "parts.json").read_text(encoding="utf-8"))["parts"]
    changed: Counter[str] = Counter()
    for index, old in enumerate(parts):
        part = maker(config, index, rules)
        assert part.serial == old["serial"], (part.serial, old["serial"])
        sizes = [round(d.size_mm, 4) for d in part.defects]
        assert sizes == [d["size_mm"] for d in old["defects"]], f"{part.serial}: other defects"
        imaged = {f"defect {d['defect_id']}" for d in old["defects"] if d["views"]}
        flaws = true_flaws(part.defects)
        seen = [f for f in flaws if f.ident in imaged]
        new = {"sentence": judge(flaws, rules), "sentence_imaged": judge(seen, rules)}
        for key, (sentence, reasons) in new.items():
            if sentence != old[key]:
                changed[f"{key} {old[key]} -> {sentence}"] += 1
                print(f"{part.serial} {key}: {old[key]} -> {sentence}: {'; '.join(reasons)}")
    print(f"{len(parts)} parts; changed: {dict(changed) or 'none'}")


if __name__ == "__main__":
    main()
