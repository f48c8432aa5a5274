"""The core never imports a training framework, web framework or database."""

from __future__ import annotations

import subprocess
import sys

CORE = ["castsight.io", "castsight.radiograph", "castsight.errors", "castsight.cli"]
FORBIDDEN = ["torch", "fastapi", "sqlalchemy", "onnxruntime"]


def test_core_imports_stay_light() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + f"print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_import_cycle_between_castsight_packages() -> None:
    """The layers contract (pyproject.toml) orders the layers; this catches a cycle among
    any of castsight's packages and modules, listed or not (a TYPE_CHECKING import too)."""
    import graphlib

    import grimp

    graph = grimp.build_graph("castsight")

    def package(module: str) -> str:
        return ".".join(module.split(".")[:2])

    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if package(imported) != package(module):
                edges.setdefault(package(module), set()).add(package(imported))
    graphlib.TopologicalSorter(edges).prepare()  # raises CycleError on a cycle
