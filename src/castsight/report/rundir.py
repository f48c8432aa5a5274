"""An output folder written as a whole: a run never mixes with another, never half-lands.

A run writes into a fresh hidden folder beside ``OUT`` (``.OUT.run-<id>``) and,
when complete, its ``run.json`` says ``"complete": true`` and the folder is
renamed to ``OUT`` (an old ``OUT`` is renamed away first and deleted after).
So ``OUT`` is always one whole run, or the previous one, or absent:

* an interrupted run (Ctrl-C) is kept as ``OUT.incomplete-<id>``, its
  ``run.json`` saying ``"complete": false`` and why; ``OUT`` is not touched;
* a killed run leaves only its hidden ``.OUT.run-<id>`` (``run.json``:
  ``"complete": false``), never files in ``OUT``;
* a rerun with ``--overwrite`` replaces ``OUT`` whole: no old records, report
  pictures or metrics stay beside the new ones. Only a folder castsight wrote
  (with a ``run.json``, or only castsight's output names) is ever replaced.

>>> import tempfile, pathlib
>>> out = pathlib.Path(tempfile.mkdtemp()) / "out"
>>> run = RunFolder.start(out, overwrite=False, command="inspect")
>>> _ = (run.path / "records.jsonl").write_text("{}\\n")
>>> run.finish(parts=1) == out, sorted(p.name for p in out.iterdir())
(True, ['records.jsonl', 'run.json'])
>>> RunFolder.start(out, overwrite=False, command="inspect")
Traceback (most recent call last):
castsight.errors.InputError: ...out: folder is not empty; pass --overwrite to replace it
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from castsight.errors import InputError

RUN_FILE = "run.json"
"""The run's marker: id, command, start and end, ``complete``."""

OUTPUT_NAMES = frozenset(
    {RUN_FILE, "records.jsonl", "predictions.json", "report.html", "report_files",
     "metrics.json", "pr_curve.png", "pod_size_mm.png", "pod_d_prime.png", "thumbs",
     "truth.json", "parts.json", "_calibration"}
)  # fmt: skip
"""Names castsight writes into an output folder (outputs of versions without ``run.json``)."""


def check_out(out: Path, *, overwrite: bool) -> None:
    """Raise one :class:`InputError` when ``out`` may not receive a new run."""
    if out.exists() and not out.is_dir():
        raise InputError(out, "exists and is not a folder")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not overwrite:
        raise InputError(out, "folder is not empty; pass --overwrite to replace it")
    names = {p.name for p in out.iterdir()}
    if RUN_FILE not in names and not names <= OUTPUT_NAMES:
        raise InputError(
            out, "holds files castsight did not write: refusing to replace it (choose another)"
        )


def check_writable(folder: Path) -> None:
    """Raise one :class:`InputError` unless a folder can be created inside ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        Path(tempfile.mkdtemp(prefix=".castsight-probe-", dir=folder)).rmdir()
    except OSError as err:
        raise InputError(folder, f"cannot write here ({err.strerror or err})") from None


@dataclass
class RunFolder:
    """One run's output folder while it is written; see the module docstring."""

    out: Path
    path: Path
    """Where the run writes its files until :meth:`finish`."""
    record: dict[str, Any]

    @classmethod
    def start(cls, out: Path, *, overwrite: bool, command: str) -> RunFolder:
        """Check ``out`` (:func:`check_out`) and open a fresh hidden folder beside it."""
        out = Path(os.path.abspath(out))  # "." has no name to put a sibling beside
        check_out(out, overwrite=overwrite)
        check_writable(out.parent)
        run_id = uuid.uuid4().hex[:12]
        path = out.parent / f".{out.name}.run-{run_id}"
        try:
            path.mkdir()
        except OSError as err:
            raise InputError(out.parent, f"cannot write here ({err.strerror or err})") from None
        record = {"run_id": run_id, "command": command, "started": _now(), "complete": False}
        run = cls(out, path, record)
        run._write()
        return run

    def finish(self, **summary: Any) -> Path:
        """Mark the run complete and move it into place as ``out``; return ``out``."""
        self.record.update(summary, finished=_now(), complete=True)
        self._write()
        if self.out.exists():
            check_out(self.out, overwrite=True)  # still castsight's, after the run
            old = self.out.parent / f".{self.out.name}.old-{self.record['run_id']}"
            os.rename(self.out, old)
            try:
                os.rename(self.path, self.out)
            except BaseException:
                os.rename(old, self.out)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(self.path, self.out)
        return self.out

    def keep_incomplete(self, why: str, **summary: Any) -> Path:
        """Mark the run incomplete (``why``) and keep it as ``OUT.incomplete-<id>``."""
        self.record.update(summary, stopped=_now(), complete=False, why_incomplete=why)
        self._write()
        kept = self.out.parent / f"{self.out.name}.incomplete-{self.record['run_id']}"
        os.rename(self.path, kept)
        return kept

    def discard(self) -> None:
        """Delete the run's folder (nothing of it is worth keeping)."""
        shutil.rmtree(self.path, ignore_errors=True)

    def _write(self) -> None:
        (self.path / RUN_FILE).write_text(json.dumps(self.record, indent=2) + "\n", "utf-8")


def run_status(folder: Path) -> dict[str, Any] | None:
    """The ``run.json`` of an output folder, or None when it has none (or it is unreadable)."""
    try:
        record = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
