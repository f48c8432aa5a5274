"""``castsight serve --demo``: the station on the embedded store, fed by a simulated cell.

The first start simulates good parts of the giga-underbody and teaches their views (the
cell's active model, about 10 s); every start simulates a line of new parts (some with
defects) and a thread sends them over HTTP, one every ``interval`` seconds, as a cell
would, printing each sentence. ``DATA_DIR/station.yaml`` serves the same data again
with ``castsight serve --settings``.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import SecretStr

from castsight.station.settings import (
    AuthSettings,
    CellSettings,
    StationSettings,
    StorageSettings,
)

PART_TYPE = "giga-underbody"
CELL = "demo-cell"
DEMO_ADMIN = "admin"
"""The demo's bootstrap admin (password in ``DATA_DIR/demo-secrets.json``)."""


def prepare_demo(
    data_dir: Path,
    *,
    parts: int = 6,
    views: int = 4,
    size: int = 512,
    seed: int = 7,
    port: int = 8000,
) -> StationSettings:
    """Simulate, teach once, and write the demo's settings; returns them."""
    from castsight.app import TeachOptions, teach
    from castsight.simulate.dataset import SimulationConfig, write_dataset

    data_dir = data_dir.absolute()
    model, line = data_dir / "model", data_dir / "line"
    if not (model / "castsight-model.json").exists():
        good = data_dir / "good"
        write_dataset(
            SimulationConfig(
                part_type=PART_TYPE,
                n_parts=8,
                n_views=views,
                size=size,
                defect_rate=0.0,
                seed=seed + 1000,
                series=1,
                detector_seed=seed,
            ),
            good,
        )
        teach(TeachOptions((good,), model, PART_TYPE, overwrite=True))
    if not line.exists():
        write_dataset(
            SimulationConfig(
                part_type=PART_TYPE,
                n_parts=parts,
                n_views=views,
                size=size,
                defect_rate=0.5,
                seed=seed,
                series=1,
                detector_seed=seed,
            ),
            line,
        )
    secrets = demo_secrets(data_dir)
    cell = CellSettings(
        name=CELL,
        part_type=PART_TYPE,
        plan=PART_TYPE,
        model=model,
        calibration=line / "_calibration",
        token=SecretStr(secrets["token"]),
    )
    auth = AuthSettings(
        bootstrap_admin=DEMO_ADMIN, bootstrap_password=SecretStr(secrets["password"])
    )
    settings = StationSettings(
        cells=[cell], storage=StorageSettings(data_dir=data_dir), auth=auth, port=port
    )
    data = settings.model_dump(mode="json")
    data["cells"][0]["token"] = secrets["token"]  # a dump masks secrets
    data["auth"]["bootstrap_password"] = secrets["password"]
    (data_dir / "station.yaml").write_text(json.dumps(data, indent=2), encoding="utf-8")
    return settings  # JSON is YAML


def demo_secrets(data_dir: Path) -> dict[str, str]:
    """The demo cell's upload token and the demo admin's password: made once, kept in
    ``DATA_DIR/demo-secrets.json`` (a demo's, on loopback; never a plant's)."""
    import secrets

    path = data_dir / "demo-secrets.json"
    if path.exists():
        kept: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return kept
    made = {"token": secrets.token_urlsafe(24), "password": secrets.token_urlsafe(9)}
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(made), encoding="utf-8")
    path.chmod(0o600)
    return made


def line_parts(data_dir: Path) -> list[tuple[str, list[Path]]]:
    """The simulated line's parts: serial and view files."""
    from castsight.io.parts import discover_parts

    return [(p.serial, [v.path for v in p.views]) for p in discover_parts([data_dir / "line"])]


def multipart(fields: dict[str, str], files: Sequence[Path]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body (fields, then ``views`` files) and its content type."""
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for path in files:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="views"; '
            f'filename="{path.name}"\r\nContent-Type: application/octet-stream'
            "\r\n\r\n"
        ).encode()
        out += path.read_bytes() + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def simulated_cell(
    data_dir: Path,
    *,
    interval_s: float = 5.0,
    rounds: int | None = None,
    say: Callable[[str], None] = print,
) -> Callable[[str, threading.Event], None]:
    """A feeder: sends the line's parts to the station, one every ``interval_s`` seconds,
    over and over (``rounds`` times; None: until stopped), saying each sentence."""

    def feed(url: str, stop: threading.Event) -> None:
        if not _wait_up(url, stop):
            return
        parts = line_parts(data_dir)
        token = demo_secrets(data_dir)["token"]
        run = 0
        while not stop.is_set() and (rounds is None or run < rounds):
            run += 1
            for serial, views in parts:
                if stop.is_set():
                    return
                body, kind = multipart({"serial": f"{serial}-{run}", "cell": CELL}, views)
                request = urllib.request.Request(
                    f"{url}/api/parts",
                    data=body,
                    method="POST",
                    headers={"content-type": kind, "authorization": f"Bearer {token}"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=120) as answer:
                        part = json.loads(answer.read())
                except (urllib.error.URLError, OSError) as err:
                    say(f"cell: {serial}-{run} not sent ({err})")
                    continue
                found = (part.get("sentence") or {}).get("sentence", "pending")
                say(f"cell: {part['serial']} -> {found}  ({url}{part['url']})")
                stop.wait(interval_s)

    return feed


def _wait_up(url: str, stop: threading.Event, timeout_s: float = 120.0) -> bool:
    end = time.monotonic() + timeout_s
    while not stop.is_set() and time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            stop.wait(0.2)
    return False


__all__ = [
    "CELL",
    "DEMO_ADMIN",
    "PART_TYPE",
    "demo_secrets",
    "line_parts",
    "multipart",
    "prepare_demo",
    "simulated_cell",
]
