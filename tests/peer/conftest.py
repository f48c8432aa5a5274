"""The peer's modules live in benchmarks/peer (scripts, not a package): put them on the path."""

from __future__ import annotations

import sys
from pathlib import Path

PEER_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "peer"
if str(PEER_DIR) not in sys.path:
    sys.path.insert(0, str(PEER_DIR))
