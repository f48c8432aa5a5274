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
