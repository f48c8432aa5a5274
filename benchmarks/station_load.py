"""Load and faults on ``castsight serve`` (issue 17, item 6): simulated cells posting
parts over HTTP to a real station process, the time from each part's last view to its
sentence, and whether every acknowledged part ends with exactly one sentence.

    .venv/bin/python benchmarks/station_load.py [--cells 10] [--views 28] [--size 1536]
        [--period 76] [--minutes 10] [--store sqlite | --store postgresql://USER@HOST/DB]
        [--kill-after S] [--drop-connections-after S] [--restart-postgres-after S]
        [--workers 2] [--no-mqtt]

What it does:

1. Prepares once (kept in ``--workdir``, reused by later runs of the same scale): good
   giga-underbody parts simulated and taught (the cells' model), and a pool of
   ``--pool`` parts (about half with a defect) whose views are read into memory as
   ready multipart bodies. Parts are resent from the pool under new serials, so the
   simulator's cost is not in the measurement.
2. Starts ``castsight serve --settings`` as a subprocess (uvicorn) with ``--cells``
   cells of the giga-underbody, all with the taught model; the embedded SQLite store in
   the run folder, or with ``--store`` a fresh database made on that PostgreSQL server
   (dropped after). MQTT on the machine's Mosquitto under a topic prefix of its own.
3. Each cell (a thread) posts a part of ``--views`` views every ``--period`` seconds,
   the cells staggered over the period, for ``--minutes`` (``POST /api/parts?wait=false``,
   answered 202 once the part is stored). A refused or failed post (the station down)
   is sent again, same serial, every second until acknowledged.
4. Faults: ``--kill-after S`` kills the station with SIGKILL S seconds into the load and
   starts it again at once; ``--drop-connections-after S`` (PostgreSQL) terminates every
   connection of the station's database from a separate connection;
   ``--restart-postgres-after S`` restarts the PostgreSQL server itself
   (``--restart-command``, default ``pg_ctlcluster 15 main restart``: root or the
   server's owner) and waits until it answers again.
5. After the load it waits (``--drain``) until every acknowledged part is sentenced,
   then reads every part (``GET /api/parts``) and counts from the database the sentence
   rows and the ``part_sentenced`` audit rows of each part, and from MQTT the messages of
   each part.

Latency: from the end of the part's request body (the client's clock when the last
byte of the last view was handed to the loopback socket, i.e. the last view received)
to ``sentenced_at`` (the station's clock when the sentence was stored; one machine,
one clock), and to the MQTT message's arrival. Printed: p50/p99, throughput, the
machine's CPU use (``/proc/stat``) and load average over the load window, and the
checks. ``--json FILE`` writes every figure and every part.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PART_TYPE = "giga-underbody"


@dataclass(frozen=True)
class LoadOptions:
    """One load run: the cells, the parts, the faults, where it runs."""

    workdir: Path
    """Prepared models and pools (reused), and a folder per run."""
    cells: int = 10
    views: int = 28
    size: int = 1536
    period_s: float = 76.0
    """Seconds between two parts of one cell."""
    minutes: float = 10.0
    """How long the cells send."""
    store: str = "sqlite"
    """``sqlite`` (the embedded default) or a PostgreSQL URL of the server to use."""
    workers: int = 2
    """The station's worker processes."""
    inspection_timeout_s: float = 120.0
    """The station's ``inspection_timeout_s`` (its default)."""
    kill_after_s: float | None = None
    drop_connections_after_s: float | None = None
    drop_repeat: int = 1
    """Times the connections are terminated, :attr:`drop_interval_s` apart (many times
    hit transactions in flight, not only idle pooled connections)."""
    drop_interval_s: float = 0.2
    restart_postgres_after_s: float | None = None
    restart_command: str = "pg_ctlcluster 15 main restart"
    """How the PostgreSQL server is restarted (it must come back by itself: the
    machine's server, shared with the tests; run as root or its owner)."""
    mqtt: bool = True
    drain_s: float | None = None
    """Seconds to wait after the load for the last sentences (None: 2 periods + 120 s)."""
    part_type: str = PART_TYPE
    """The cells' part type (and plan)."""
    detector: str = "auto"


@dataclass(frozen=True)
class PoolPart:
    """A pre-rendered part, ready to send: each view as its multipart chunk."""

    name: str
    chunks: tuple[bytes, ...]
    """Per view: its multipart header, file bytes and CRLF."""


@dataclass(frozen=True)
class Prepared:
    """What the cells send and the station inspects with."""

    parts: tuple[PoolPart, ...]
    model: Path | None
    calibration: Path | None


@dataclass
class Sent:
    """One part a cell sent: when, its answer."""

    cell: str
    serial: str
    scheduled: float
    """When the cell meant to send it (``time.time()``)."""
    body_sent: float | None = None
    """When the last byte of its last view was sent (the acknowledged attempt)."""
    acked: float | None = None
    part_id: int | None = None
    attempts: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    """A part as the station holds it after the run."""

    part_id: int
    serial: str
    cell: str
    state: str
    attempts: int
    received_at: float
    sentenced_at: float | None
    sentence: str | None
    no_test: bool
    reasons: list[str]


# -- preparing ----------------------------------------------------------------------


def view_chunk(boundary: str, filename: str, data: bytes) -> bytes:
    """One ``views`` file of a multipart body (header, bytes, CRLF).

    >>> view_chunk("b", "V01.tif", b"xy")[-8:]
    b'\\r\\n\\r\\nxy\\r\\n'
    """
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="views"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    )
    return head.encode() + data + b"\r\n"


def fields_chunk(boundary: str, fields: dict[str, str]) -> bytes:
    """The form fields of a multipart body.

    >>> fields_chunk("b", {"serial": "P1"})
    b'--b\\r\\nContent-Disposition: form-data; name="serial"\\r\\n\\r\\nP1\\r\\n'
    """
    out = b""
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    return out


BOUNDARY = "castsight-load-" + "5" * 16
"""The one boundary of every body (it appears in no image's bytes the cells send)."""


def pool_part(name: str, views: Sequence[tuple[str, bytes]]) -> PoolPart:
    """A part to send from its views' file names and bytes."""
    return PoolPart(name, tuple(view_chunk(BOUNDARY, f, data) for f, data in views))


def prepare(
    options: LoadOptions, *, good: int = 6, pool: int = 4, seed: int = 17, say: Any = print
) -> Prepared:
    """Simulate and teach the cells' model and the pool of parts, once per scale (kept in
    ``WORKDIR/prepared-V-S``); read the pool's views into memory."""
    from castsight.app import TeachOptions, teach
    from castsight.io.parts import discover_parts
    from castsight.simulate.dataset import SimulationConfig, write_dataset

    root = options.workdir / f"prepared-{options.part_type}-{options.views}v-{options.size}px"
    model, parts = root / "model", root / "pool"
    if not (root / "done").exists():
        shutil.rmtree(root, ignore_errors=True)
        config = SimulationConfig(part_type=options.part_type, n_parts=good, n_views=options.views,
                                  size=options.size, defect_rate=0.0, seed=seed + 1000, series=1,
                                  detector_seed=seed)  # fmt: skip
        t0 = time.monotonic()
        write_dataset(config, root / "good")
        say(f"prepare: {good} good parts simulated in {time.monotonic() - t0:.0f} s")
        t0 = time.monotonic()
        teach(TeachOptions((root / "good",), model, options.part_type, overwrite=True))
        say(f"prepare: taught in {time.monotonic() - t0:.0f} s")
        t0 = time.monotonic()
        write_dataset(dataclasses.replace(config, n_parts=pool, defect_rate=0.5, seed=seed), parts)
        say(f"prepare: {pool} pool parts simulated in {time.monotonic() - t0:.0f} s")
        shutil.rmtree(root / "good")
        (root / "done").write_text("ok\n")
    loaded = tuple(
        pool_part(p.serial, [(v.path.name, v.path.read_bytes()) for v in p.views])
        for p in discover_parts([parts])
    )
    return Prepared(loaded, model, parts / "_calibration")


# -- the station ----------------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def token_of(cell: str) -> str:
    """A cell's upload token (at least 16 characters).

    >>> token_of("cell-01")
    'load-token-cell-01-0123456789'
    """
    return f"load-token-{cell}-0123456789"


@dataclass
class StationProcess:
    """``castsight serve --settings`` as a subprocess, started again after a kill."""

    settings: Path
    url: str
    log: Path
    process: subprocess.Popen[bytes] | None = None
    starts: list[tuple[float, float]] = field(default_factory=list)
    """Per start: when it was started and when it answered ``/api/health``."""

    def start(self, timeout_s: float = 600.0) -> None:
        """Start the station and wait until it answers."""
        cmd = [sys.executable, "-c", "from castsight.cli import main; main()", "serve",
               "--settings", str(self.settings)]  # fmt: skip
        t0 = time.time()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"the station exited ({self.process.returncode}): {self.log}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=5):
                    self.starts.append((t0, time.time()))
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the station did not answer within {timeout_s:g} s: {self.log}")

    def kill(self) -> None:
        """SIGKILL the station's process (its workers end themselves)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """An orderly stop (SIGTERM), SIGKILL after 60 s."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def write_settings(
    options: LoadOptions, prepared: Prepared, run: Path, *, database_url: str | None, port: int,
    topic_prefix: str,
) -> Path:  # fmt: skip
    """The station's YAML (JSON is YAML): the cells, the store, MQTT; its path."""
    cells = [
        {
            "name": cell_name(k),
            "part_type": options.part_type,
            "plan": options.part_type,
            "model": str(prepared.model) if prepared.model is not None else None,
            "calibration": str(prepared.calibration) if prepared.calibration else None,
            "detector": options.detector,
            "token": token_of(cell_name(k)),
        }
        for k in range(options.cells)
    ]
    data = {
        "cells": cells,
        "storage": {"data_dir": str(run / "data"), "database_url": database_url},
        "workers": options.workers,
        "port": port,
        "inspection_timeout_s": options.inspection_timeout_s,
        "signals": {"mqtt": {"enabled": options.mqtt, "topic_prefix": topic_prefix}},
    }
    path = run / "station.yaml"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def cell_name(k: int) -> str:
    """The k-th cell's name.

    >>> cell_name(0)
    'cell-01'
    """
    return f"cell-{k + 1:02d}"


@contextlib.contextmanager
def postgres_database(server: str) -> Iterator[tuple[str, str]]:
    """A fresh database on the PostgreSQL server of URL ``server`` (dropped after): its
    SQLAlchemy URL and name."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    # pre-ping: the pooled connection does not outlive a server restart (a fault here)
    admin = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    name = f"castsight_load_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False), name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def drop_connections(server: str, database: str) -> int:
    """Terminate every connection to ``database`` from a connection of its own; how many."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            done = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :db AND pid <> pg_backend_pid()"
                ),
                {"db": database},
            ).all()
        return sum(1 for (ok,) in done if ok)
    finally:
        admin.dispose()


def restart_postgres(command: str, server: str, timeout_s: float = 120.0) -> float:
    """Restart the PostgreSQL server by ``command`` and wait until ``server`` accepts a
    query again; the seconds from the restart's start to that.

    Raises
    ------
    RuntimeError
        The command failed, or the server did not come back within ``timeout_s``.
    """
    import shlex

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    t0 = time.monotonic()
    done = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command!r} failed ({done.returncode}): {done.stderr.strip()}")
    url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
    while True:
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return time.monotonic() - t0
        except Exception as err:  # not up yet, whatever the driver says
            if time.monotonic() - t0 > timeout_s:
                raise RuntimeError(
                    f"PostgreSQL not back {timeout_s:.0f} s after {command!r}"
                ) from err
            time.sleep(0.2)
        finally:
            engine.dispose()


# -- the cells -------------------------------------------------------------------------


def post_part(url: str, cell: str, serial: str, part: PoolPart) -> tuple[float, int, Any]:
    """POST one part (``wait=false``): when its body was sent, the status, the answer."""
    head = fields_chunk(BOUNDARY, {"serial": serial, "cell": cell})
    tail = f"--{BOUNDARY}--\r\n".encode()
    length = len(head) + sum(len(c) for c in part.chunks) + len(tail)
    host = url.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=300)
    try:
        conn.putrequest("POST", "/api/parts?wait=false")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
        conn.putheader("Content-Length", str(length))
        conn.putheader("Authorization", f"Bearer {token_of(cell)}")
        conn.endheaders()
        for chunk in (head, *part.chunks, tail):
            conn.send(chunk)
        sent = time.time()
        answer = conn.getresponse()
        body = answer.read()
        try:
            data = json.loads(body)
        except ValueError:
            data = body[:200].decode(errors="replace")
        return sent, answer.status, data
    finally:
        conn.close()


def run_cell(
    url: str, index: int, options: LoadOptions, prepared: Prepared, start: float,
    stop_at: float, sent: list[Sent], give_up_at: float,
) -> None:  # fmt: skip
    """One cell: a part every period (staggered by its index) until ``stop_at``; a failed
    post sent again each second, same serial, until acknowledged or ``give_up_at``."""
    cell = cell_name(index)
    k = 0
    while True:
        due = start + (index / options.cells + k) * options.period_s
        if due >= stop_at:
            return
        time.sleep(max(0.0, due - time.time()))
        part = prepared.parts[(index + k) % len(prepared.parts)]
        item = Sent(cell, f"{cell}-{k + 1:04d}-{part.name}", due)
        sent.append(item)
        while item.part_id is None and time.time() < give_up_at:
            item.attempts += 1
            try:
                body_sent, status, answer = post_part(url, cell, item.serial, part)
            except (OSError, http.client.HTTPException) as err:
                item.errors.append(f"{type(err).__name__}: {err}")
                time.sleep(1.0)
                continue
            if status in (201, 202) and isinstance(answer, dict):
                item.body_sent, item.acked, item.part_id = body_sent, time.time(), answer["id"]
            else:
                item.errors.append(f"{status}: {answer}")
                time.sleep(1.0)
        k += 1


# -- watching --------------------------------------------------------------------------


class CpuSampler:
    """The machine's CPU use (``/proc/stat``) and load average, sampled every few
    seconds in a thread."""

    def __init__(self, every_s: float = 5.0) -> None:
        self.every_s = every_s
        self.samples: list[tuple[float, float, float, float]] = []
        """(time, busy jiffies, total jiffies, 1-minute load average)."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def read() -> tuple[float, float, float, float]:
        """Now: (time, busy jiffies, total jiffies, 1-minute load average)."""
        with open("/proc/stat", encoding="ascii") as f:
            values = [float(v) for v in f.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0.0)
        with open("/proc/loadavg", encoding="ascii") as f:
            load = float(f.read().split()[0])
        return time.time(), sum(values) - idle, sum(values), load

    def start(self) -> None:
        self.samples.append(self.read())
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.samples.append(self.read())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(self.read())

    def busy_pct(self, t0: float, t1: float) -> float | None:
        """Mean CPU use (% of all cores) between the samples nearest ``t0`` and ``t1``."""
        inside = [s for s in self.samples if t0 - self.every_s <= s[0] <= t1 + self.every_s]
        if len(inside) < 2 or inside[-1][2] == inside[0][2]:
            return None
        return 100.0 * (inside[-1][1] - inside[0][1]) / (inside[-1][2] - inside[0][2])

    def load(self, t0: float, t1: float) -> tuple[float, float] | None:
        """Mean and highest 1-minute load average between ``t0`` and ``t1``."""
        inside = [s[3] for s in self.samples if t0 <= s[0] <= t1]
        return (sum(inside) / len(inside), max(inside)) if inside else None


def process_tree_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of process ``pid`` since its start and of its live
    descendants (the inspection workers), from ``/proc``: where the station's time goes.

    >>> sorted(process_tree_cpu(os.getpid()))
    ['children', 'process']
    """
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        parent[int(entry)] = int(fields[1])
        used[int(entry)] = (float(fields[11]) + float(fields[12])) / tick
    below, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in below]
        below.update(kids)
        todo.extend(kids)
    return {"process": used.get(pid, 0.0), "children": sum(used[c] for c in below)}


class MqttWatch:
    """Every sentence message under ``PREFIX/#`` and when it came (the line's view)."""

    def __init__(self, prefix: str, host: str = "127.0.0.1", port: int = 1883) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.prefix = prefix
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.topics: set[str] = set()
        self._lock = threading.Lock()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self._client.on_message = self._on_message
        self._client.connect(host, port)
        self._client.subscribe(f"{prefix}/#", qos=1)
        self._client.loop_start()

    def _on_message(self, _client: Any, _data: Any, message: Any) -> None:
        if not message.payload:
            return
        with self._lock:
            self.topics.add(message.topic)
            self.messages.append((time.time(), json.loads(message.payload)))

    def close(self) -> None:
        """Stop, and clear the retained messages this run left on the broker."""
        for topic in sorted(self.topics):
            self._client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        self._client.loop_stop()
        self._client.disconnect()


def api_parts(url: str) -> list[dict[str, Any]]:
    """Every part the station holds (``GET /api/parts``, page by page)."""
    out: list[dict[str, Any]] = []
    while True:
        with urllib.request.urlopen(
            f"{url}/api/parts?limit=1000&offset={len(out)}", timeout=60
        ) as answer:
            page: list[dict[str, Any]] = json.loads(answer.read())
        out += page
        if len(page) < 1000:
            return out


def stamp(value: str | None) -> float | None:
    """An API time as seconds since the epoch (a naive time is UTC).

    >>> stamp("1970-01-01T00:01:00Z"), stamp(None)
    (60.0, None)
    """
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def outcome_of(part: dict[str, Any]) -> Outcome:
    """A part of ``GET /api/parts`` as an :class:`Outcome`."""
    sentence = part.get("sentence") or {}
    received = stamp(part["received_at"])
    assert received is not None
    return Outcome(
        part_id=int(part["id"]),
        serial=str(part["serial"]),
        cell=str(part["cell"]),
        state=str(part["state"]),
        attempts=int(part["attempts"]),
        received_at=received,
        sentenced_at=stamp(part.get("sentenced_at")),
        sentence=sentence.get("sentence"),
        no_test=bool(sentence.get("no_test", False)),
        reasons=list(sentence.get("reasons") or []),
    )


def store_counts(database_url: str) -> tuple[Counter[int], Counter[int]]:
    """Per part id: its sentence rows and its ``part_sentenced`` audit rows."""
    from sqlalchemy import func, select

    from castsight.station.store.engine import make_engine
    from castsight.station.store.tables import AuditRow, SentenceRow

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            sentences = Counter(
                {int(p): int(n) for p, n in conn.execute(
                    select(SentenceRow.part_id, func.count()).group_by(SentenceRow.part_id))}
            )  # fmt: skip
            audits = Counter(
                {int(p or 0): int(n) for p, n in conn.execute(
                    select(AuditRow.part_id, func.count())
                    .where(AuditRow.action == "part_sentenced", AuditRow.part_id.is_not(None))
                    .group_by(AuditRow.part_id))}
            )  # fmt: skip
        return sentences, audits
    finally:
        engine.dispose()


# -- the checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checks:
    """Every acknowledged part ends with exactly one sentence: what was found."""

    acknowledged: int
    unacknowledged: int
    """Parts a cell never got acknowledged (given up)."""
    lost: list[str]
    """Acknowledged serials the station does not hold."""
    unsentenced: list[str]
    """Acknowledged parts held but without a sentence."""
    sentenced_twice: list[str]
    """Parts with more than one sentence row or ``part_sentenced`` audit row."""
    stored_twice: list[str]
    """Serials the station holds more than once (a retry after a lost acknowledgement)."""
    unknown: list[str]
    """Parts the station holds that no cell sent."""
    signalled: dict[int, int]
    """MQTT: how many parts had 0, 1, 2, ... messages (empty without MQTT)."""

    @property
    def ok(self) -> bool:
        """No acknowledged part lost, unsentenced or sentenced twice; nothing unknown."""
        return not (self.lost or self.unsentenced or self.sentenced_twice or self.unknown)


def check(
    sent: Sequence[Sent],
    held: Sequence[Outcome],
    sentences: Counter[int],
    audits: Counter[int],
    signals: Counter[int] | None = None,
) -> Checks:
    """Compare what the cells had acknowledged with what the station holds.

    >>> s = [Sent("c", "A", 0.0, part_id=1), Sent("c", "B", 0.0, part_id=2)]
    >>> h = [Outcome(1, "A", "c", "sentenced", 1, 0.0, 1.0, "OK", False, [])]
    >>> c = check(s, h, Counter({1: 1}), Counter({1: 1}))
    >>> c.lost, c.ok
    (['B'], False)
    """
    acked = [s for s in sent if s.part_id is not None]
    by_id = {o.part_id: o for o in held}
    serials = Counter(o.serial for o in held)
    sent_serials = {s.serial for s in sent}
    lost = [s.serial for s in acked if s.part_id not in by_id]
    unsentenced = [
        s.serial
        for s in acked
        if s.part_id in by_id and (by_id[s.part_id].sentence is None or sentences[s.part_id] == 0)
    ]
    twice = sorted({o.serial for o in held if sentences[o.part_id] > 1 or audits[o.part_id] > 1})
    signalled: dict[int, int] = {}
    if signals is not None:
        signalled = dict(sorted(Counter(signals[o.part_id] for o in held).items()))
    return Checks(
        acknowledged=len(acked),
        unacknowledged=len(sent) - len(acked),
        lost=lost,
        unsentenced=unsentenced,
        sentenced_twice=twice,
        stored_twice=sorted(s for s, n in serials.items() if n > 1),
        unknown=sorted(o.serial for o in held if o.serial not in sent_serials),
        signalled=signalled,
    )


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (linear between ranks); None without values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([], 99)
    (2.5, None)
    """
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# -- the run ---------------------------------------------------------------------------


@dataclass
class LoadResult:
    """Everything a run measured."""

    options: dict[str, Any]
    started: str
    sent: list[Sent]
    held: list[Outcome]
    checks: Checks
    figures: dict[str, Any]
    faults: list[dict[str, Any]]


def run_load(options: LoadOptions, prepared: Prepared, *, say: Any = print) -> LoadResult:
    """Start the station, load it with the cells (and the faults), drain, check; the run's
    folder ``WORKDIR/run-*`` keeps the settings and the station's log (its data is
    removed after)."""
    run = options.workdir / f"run-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:4]}"
    run.mkdir(parents=True)
    faults: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, run / "data", True)
        database: str | None = None
        db_name = ""
        if options.store != "sqlite":
            database, db_name = stack.enter_context(postgres_database(options.store))
        elif (
            options.drop_connections_after_s is not None
            or options.restart_postgres_after_s is not None
        ):
            raise ValueError("PostgreSQL faults need --store postgresql://...")
        prefix = f"castsight-load-{uuid.uuid4().hex[:8]}"
        mqtt = MqttWatch(prefix) if options.mqtt else None
        if mqtt is not None:
            stack.callback(mqtt.close)
        port = free_port()
        settings = write_settings(options, prepared, run, database_url=database, port=port,
                                  topic_prefix=prefix)  # fmt: skip
        station = StationProcess(settings, f"http://127.0.0.1:{port}", run / "station.log")
        stack.callback(station.stop)
        store = "SQLite" if database is None else f"PostgreSQL (database {db_name})"
        say(f"station: starting ({options.cells} cells, {options.workers} workers, {store})")
        station.start()
        say(f"station: up in {station.starts[-1][1] - station.starts[-1][0]:.1f} s at "
            f"{station.url}; the cells send for {options.minutes:g} min")  # fmt: skip
        cpu = CpuSampler()
        cpu.start()
        client_cpu = time.process_time()
        start = time.time() + 1.0
        stop_at = start + options.minutes * 60.0
        drain = options.drain_s if options.drain_s is not None else 2 * options.period_s + 120
        give_up_at = stop_at + drain
        sent: list[Sent] = []
        cells = [
            threading.Thread(
                target=run_cell,
                daemon=True,
                name=cell_name(k),
                args=(station.url, k, options, prepared, start, stop_at, sent, give_up_at),
            )
            for k in range(options.cells)
        ]
        for thread in cells:
            thread.start()
        planned = [(start + s, "kill") for s in [options.kill_after_s] if s is not None]
        planned += [
            (start + s, "drop") for s in [options.drop_connections_after_s] if s is not None
        ]
        planned += [
            (start + s, "restart") for s in [options.restart_postgres_after_s] if s is not None
        ]
        for when, kind in sorted(planned):
            time.sleep(max(0.0, when - time.time()))
            t0 = time.time()
            if kind == "kill":
                station.kill()
                say(f"fault: station killed (SIGKILL) at {t0 - start:.0f} s; starting it again")
                station.start()
                up = station.starts[-1][1]
                faults.append({"fault": "kill -9", "at": t0, "at_s": t0 - start,
                               "down_s": up - t0})  # fmt: skip
                say(f"fault: station up again after {up - t0:.1f} s")
            elif kind == "restart":
                took = restart_postgres(options.restart_command, options.store)
                faults.append({"fault": "PostgreSQL restarted", "at": t0, "at_s": t0 - start,
                               "command": options.restart_command, "down_s": took})  # fmt: skip
                say(f"fault: PostgreSQL restarted at {t0 - start:.0f} s, accepting again "
                    f"after {took:.1f} s")  # fmt: skip
            else:
                n = 0
                for k in range(options.drop_repeat):
                    time.sleep(max(0.0, t0 + k * options.drop_interval_s - time.time()))
                    n += drop_connections(options.store, db_name)
                faults.append({"fault": "connections terminated", "at": t0, "at_s": t0 - start,
                               "times": options.drop_repeat, "terminated": n,
                               "over_s": time.time() - t0})  # fmt: skip
                say(f"fault: {n} connections of {db_name} terminated ({options.drop_repeat} "
                    f"times) from {t0 - start:.0f} s")  # fmt: skip
        for thread in cells:
            thread.join()
        load_end = time.time()
        say(f"load: the cells stopped after {(load_end - start) / 60:.1f} min; draining")
        acked = {s.part_id for s in sent if s.part_id is not None}
        while True:
            held = [outcome_of(p) for p in api_parts(station.url)]
            waiting = [o for o in held if o.part_id in acked and o.sentence is None]
            if not waiting or time.time() > give_up_at:
                break
            time.sleep(1.0)
        drained = time.time()
        time.sleep(2.0)  # the last MQTT messages
        assert station.process is not None
        station_cpu = process_tree_cpu(station.process.pid)
        cpu.stop()
        client_s = time.process_time() - client_cpu
        store_url = database or f"sqlite:///{(run / 'data' / 'castsight.db').as_posix()}"
        sentences, audits = store_counts(store_url)
        signals = Counter(int(m["part_id"]) for _, m in mqtt.messages) if mqtt else None
        checks = check(sent, held, sentences, audits, signals)
        firsts: dict[int, float] = {}
        for when, message in mqtt.messages if mqtt else []:
            firsts.setdefault(int(message["part_id"]), when)
        figures = figures_of(options, sent, held, firsts, faults,
                             window=(start, load_end, drained), cpu=cpu,
                             client_cpu_s=client_s, starts=station.starts,
                             station_cpu_s=station_cpu)  # fmt: skip
    return LoadResult(dataclasses.asdict(options) | {"workdir": str(options.workdir),
                                                     "run": str(run)},
                      dt.datetime.fromtimestamp(start, dt.UTC).isoformat(timespec="seconds"),
                      sent, held, checks, figures, faults)  # fmt: skip


def _spread(values: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50, p99 and max of ``values`` (seconds)."""
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
    }


def figures_of(
    options: LoadOptions,
    sent: Sequence[Sent],
    held: Sequence[Outcome],
    mqtt_first: dict[int, float],
    faults: Sequence[dict[str, Any]],
    *,
    window: tuple[float, float, float],
    cpu: CpuSampler | None,
    client_cpu_s: float,
    station_cpu_s: dict[str, float] | None = None,
    starts: Sequence[tuple[float, float]],
) -> dict[str, Any]:
    """The run's figures: latencies (all parts; parts sent before the first fault), the
    intake, throughput, backlog, sentences, CPU."""
    start, load_end, drained = window
    by_id = {o.part_id: o for o in held}
    first_fault = min((f["at"] for f in faults), default=None)
    latency, steady, line, upload, ack = [], [], [], [], []
    for s in sent:
        if s.part_id is None or s.body_sent is None or s.acked is None:
            continue
        ack.append(s.acked - s.body_sent)
        if s.attempts == 1:
            upload.append(s.body_sent - s.scheduled)
        part = by_id.get(s.part_id)
        if part is None or part.sentenced_at is None:
            continue
        latency.append(part.sentenced_at - s.body_sent)
        if first_fault is None or part.sentenced_at < first_fault:
            steady.append(part.sentenced_at - s.body_sent)
        if s.part_id in mqtt_first:
            line.append(mqtt_first[s.part_id] - s.body_sent)
    minutes = (load_end - start) / 60.0
    in_window = [o for o in held if o.sentenced_at is not None and o.sentenced_at <= load_end]
    backlog = [o for o in held if o.sentenced_at is None or o.sentenced_at > load_end]
    sentences = Counter(o.sentence or "none" for o in held)
    reasons = Counter(r for o in held if o.no_test for r in o.reasons)
    out: dict[str, Any] = {
        "offered_parts_per_min": options.cells * 60.0 / options.period_s,
        "sent": len(sent),
        "load_minutes": minutes,
        "drain_s": drained - load_end,
        "last_view_to_sentence_s": _spread(latency),
        "last_view_to_sentence_before_faults_s": _spread(steady) if faults else None,
        "last_view_to_mqtt_s": _spread(line),
        "send_delay_s": _spread(upload),
        "acknowledgement_s": _spread(ack),
        "sentenced_in_load_window_per_min": len(in_window) / minutes if minutes else None,
        "sentenced_per_min_to_drained": (
            sum(o.sentenced_at is not None for o in held) / ((drained - start) / 60.0)
        ),
        "backlog_at_load_end": len(backlog),
        "sentences": dict(sorted(sentences.items())),
        "no_test": sum(o.no_test for o in held),
        "no_test_reasons": dict(reasons.most_common(5)),
        "inspected_again": sum(o.attempts > 1 for o in held),
        "client_cpu_s": client_cpu_s,
        # since the station's last start: the server process (receiving, storing,
        # signalling) and its inspection workers, and the parts sentenced meanwhile
        "station_cpu_s": station_cpu_s,
        "sentenced_since_last_start": sum(
            1
            for o in held
            if o.sentenced_at is not None and starts and o.sentenced_at >= starts[-1][0]
        ),
        "station_start_s": [round(up - t0, 2) for t0, up in starts],
    }
    if cpu is not None:
        out["cpu_busy_pct"] = cpu.busy_pct(start, load_end)
        out["load_average"] = cpu.load(start, load_end)
    out["cores"] = os.cpu_count()
    return out


def _s(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"


def summary(result: LoadResult) -> str:
    """The run in a few lines."""
    o, f, c = result.options, result.figures, result.checks
    lat = f["last_view_to_sentence_s"]
    lines = [
        f"castsight station under load, {result.started} UTC: {o['cells']} cells, {o['views']} "
        f"views of {o['size']} px every {o['period_s']:g} s, {o['minutes']:g} min, "
        f"store {'SQLite' if o['store'] == 'sqlite' else 'PostgreSQL'}, "
        f"{o['workers']} workers, {f['cores']} cores",
        f"sent {f['sent']}, acknowledged {c.acknowledged}, not acknowledged {c.unacknowledged}",
        f"last view -> sentence stored: p50 {_s(lat['p50'])} s, p99 {_s(lat['p99'])} s, "
        f"max {_s(lat['max'])} s (n {lat['n']})",
    ]
    if f["last_view_to_sentence_before_faults_s"]:
        pre = f["last_view_to_sentence_before_faults_s"]
        lines.append(f"  before the first fault: p50 {_s(pre['p50'])} s, p99 {_s(pre['p99'])} s "
                     f"(n {pre['n']})")  # fmt: skip
    mq = f["last_view_to_mqtt_s"]
    if mq["n"]:
        lines.append(f"last view -> MQTT message: p50 {_s(mq['p50'])} s, p99 {_s(mq['p99'])} s")
    up, ack = f["send_delay_s"], f["acknowledgement_s"]
    lines += [
        f"due -> last view sent (first attempts) p50 {_s(up['p50'])} s, p99 {_s(up['p99'])} s; "
        f"last view -> acknowledged p50 {_s(ack['p50'])} s, p99 {_s(ack['p99'])} s",
        f"throughput: offered {f['offered_parts_per_min']:.2f} parts/min, sentenced "
        f"{_s(f['sentenced_in_load_window_per_min'])} parts/min in the load window; backlog at "
        f"its end {f['backlog_at_load_end']}, drained in {f['drain_s']:.0f} s",
        f"sentences {f['sentences']}, NoTest {f['no_test']} {f['no_test_reasons'] or ''}",
        f"CPU busy {_s(f.get('cpu_busy_pct'))} % of {f['cores']} cores, 1-min load average "
        f"(mean, max) {f.get('load_average')}; the cells' own CPU {f['client_cpu_s']:.0f} s; "
        f"station starts {f['station_start_s']} s",
    ]
    if f.get("station_cpu_s"):
        cpu_s, n = f["station_cpu_s"], f["sentenced_since_last_start"]
        per = f" ({cpu_s['children'] / n:.1f} s per part)" if n else ""
        lines.append(
            f"station CPU since its last start ({n} parts sentenced): server "
            f"{cpu_s['process']:.0f} s, inspection workers {cpu_s['children']:.0f} s{per}"
        )
    for fault in result.faults:
        lines.append(f"fault: {json.dumps({k: v for k, v in fault.items() if k != 'at'})}")
    lines.append(
        f"checks: lost {len(c.lost)}, unsentenced {len(c.unsentenced)}, sentenced twice "
        f"{len(c.sentenced_twice)}, unknown {len(c.unknown)}, stored twice {len(c.stored_twice)}, "
        f"inspected again {f['inspected_again']}, MQTT messages per part {c.signalled} -> "
        f"{'OK' if c.ok else 'FAILED'}"
    )
    return "\n".join(lines)


def to_json(result: LoadResult) -> dict[str, Any]:
    """The whole result as JSON data."""
    return {
        "options": result.options,
        "started": result.started,
        "figures": result.figures,
        "faults": result.faults,
        "checks": dataclasses.asdict(result.checks) | {"ok": result.checks.ok},
        "sent": [dataclasses.asdict(s) for s in result.sent],
        "held": [dataclasses.asdict(h) for h in result.held],
    }


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; 0 when every check passed, 1 otherwise."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--cells", type=int, default=10)
    ap.add_argument("--views", type=int, default=28)
    ap.add_argument("--size", type=int, default=1536)
    ap.add_argument("--period", type=float, default=76.0, help="seconds between a cell's parts")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument(
        "--store",
        default="sqlite",
        help="sqlite, or a PostgreSQL server's URL (a fresh database is made)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120.0, help="inspection_timeout_s")
    ap.add_argument("--kill-after", type=float, default=None, metavar="S")
    ap.add_argument("--drop-connections-after", type=float, default=None, metavar="S")
    ap.add_argument("--drop-repeat", type=int, default=1, metavar="N")
    ap.add_argument("--drop-interval", type=float, default=0.2, metavar="S")
    ap.add_argument("--restart-postgres-after", type=float, default=None, metavar="S")
    ap.add_argument("--restart-command", default=LoadOptions.restart_command)
    ap.add_argument("--no-mqtt", action="store_true")
    ap.add_argument("--drain", type=float, default=None, metavar="S")
    ap.add_argument("--good", type=int, default=6, help="good parts the model is taught from")
    ap.add_argument("--pool", type=int, default=4, help="pre-rendered parts resent")
    ap.add_argument("--workdir", type=Path, default=Path("out/station-load"))
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    options = LoadOptions(
        workdir=args.workdir.absolute(), cells=args.cells, views=args.views, size=args.size,
        period_s=args.period, minutes=args.minutes, store=args.store, workers=args.workers,
        inspection_timeout_s=args.timeout, kill_after_s=args.kill_after,
        drop_connections_after_s=args.drop_connections_after, drop_repeat=args.drop_repeat,
        drop_interval_s=args.drop_interval, mqtt=not args.no_mqtt,
        restart_postgres_after_s=args.restart_postgres_after,
        restart_command=args.restart_command,
        drain_s=args.drain,
    )  # fmt: skip
    options.workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    prepared = prepare(options, good=args.good, pool=args.pool)
    print(f"prepared {len(prepared.parts)} parts in {time.monotonic() - t0:.0f} s")
    if args.prepare_only:
        return 0
    result = run_load(options, prepared)
    print(summary(result))
    out = args.json or Path(result.options["run"]) / "result.json"
    out.write_text(json.dumps(to_json(result), indent=1), encoding="utf-8")
    print(f"every part: {out}")
    return 0 if result.checks.ok else 1


if __name__ == "__main__":
    sys.exit(main())
