"""``castsight serve`` as a process: kill -9 while a part is being inspected, start
again: the acknowledged part ends with exactly one sentence."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from castsight.station.demo import multipart
from tests.station.builders import CELL_AUTH, TOKEN, view_bytes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(settings: Path) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-c",
        "from castsight.cli import main; main()",
        "serve",
        "--settings",
        str(settings),
    ]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def wait_up(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            get(f"{url}/api/health")
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the station did not start")


def test_kill_9_loses_no_acknowledged_part(tmp_path: Path) -> None:
    port = free_port()
    settings = tmp_path / "station.yaml"
    settings.write_text(f"""
cells: [{{name: cell-1, part_type: generic, detector: local, token: {TOKEN}}}]
storage: {{data_dir: data}}
workers: 1
port: {port}
""")
    views = []
    for k in range(3):
        views.append(tmp_path / f"V0{k + 1}.tif")
        views[-1].write_bytes(view_bytes(seed=k, size=1536))
    url = f"http://127.0.0.1:{port}"
    first = start(settings)
    try:
        wait_up(url, first)
        body, kind = multipart({"serial": "P-9", "cell": "cell-1"}, views)
        request = urllib.request.Request(
            f"{url}/api/parts?wait=false",
            data=body,
            method="POST",
            headers={"content-type": kind, **CELL_AUTH},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            assert answer.status == 202
            part = json.loads(answer.read())
        while (seen := get(f"{url}{part['url']}"))["attempts"] == 0:
            time.sleep(0.02)
        assert seen["state"] == "received"
        os.kill(first.pid, signal.SIGKILL)  # while the part is being inspected
    finally:
        first.kill()
        first.wait()
        if first.stdout:
            first.stdout.close()
    second = start(settings)
    try:
        wait_up(url, second)
        end = time.monotonic() + 60
        while (got := get(f"{url}{part['url']}"))["state"] != "sentenced":
            assert time.monotonic() < end, got
            time.sleep(0.1)
        assert got["sentence"]["sentence"] in ("OK", "NG", "REVIEW")
        assert got["attempts"] == 2  # inspected again after the restart
        assert [p["serial"] for p in get(f"{url}/api/parts")] == ["P-9"]
    finally:
        second.terminate()
        assert second.wait(timeout=30) is not None
        if second.stdout:
            second.stdout.close()


def test_serve_needs_settings_or_demo_and_refuses_bad_settings(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from castsight.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["serve"]).exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("cells: []")
    result = runner.invoke(app, ["serve", "--settings", str(bad)])
    assert result.exit_code == 2 and "invalid settings" in result.output
