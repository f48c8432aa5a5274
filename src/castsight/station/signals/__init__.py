"""Signals to the line: a :class:`Publisher` per protocol gets each part's
:class:`SentenceMessage` as soon as it is stored (MQTT, OPC UA).

>>> import datetime as dt
>>> t = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
>>> m = SentenceMessage(part_id=1, serial="P1", cell="c1", sentence="REVIEW", no_test=True,
...                     reasons=("inspection timed out after 5 s",), received_at=t,
...                     sentenced_at=t, software="0.1.0", plan_sha256="ab", model_sha256=None)
>>> m.to_dict()["timestamps"]
{'received': '2026-12-02T10:00:00+00:00', 'sentenced': '2026-12-02T10:00:00+00:00'}
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class SentenceMessage:
    """What the line learns of a part."""

    part_id: int
    serial: str
    cell: str
    sentence: str
    """OK | NG | REVIEW"""
    no_test: bool
    """The part could not be inspected (REVIEW with the reason): NoTest."""
    reasons: tuple[str, ...]
    received_at: dt.datetime
    sentenced_at: dt.datetime
    software: str
    plan_sha256: str | None
    model_sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON payload."""
        return {
            "part_id": self.part_id,
            "serial": self.serial,
            "cell": self.cell,
            "sentence": self.sentence,
            "no_test": self.no_test,
            "reasons": list(self.reasons),
            "timestamps": {
                "received": self.received_at.isoformat(),
                "sentenced": self.sentenced_at.isoformat(),
            },
            "software": {"castsight": self.software},
            "plan": {"sha256": self.plan_sha256},
            "model": {"sha256": self.model_sha256},
        }

    def to_json(self) -> bytes:
        """The payload as UTF-8 JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":")).encode("utf-8")


class Publisher(Protocol):
    """A line signal: told each sentence once it is stored; never raises for the line
    being away (it logs, and the store keeps the sentence)."""

    name: str

    def publish(self, message: SentenceMessage) -> None:
        """Send ``message`` (blocking at most the publisher's own timeout)."""

    def close(self) -> None:
        """Release the connection."""


__all__ = ["Publisher", "SentenceMessage"]
