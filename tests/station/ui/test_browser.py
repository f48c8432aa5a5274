"""The review UI in a real browser: Playwright driving Debian's chromium (never a
downloaded one; ``make test`` installs the package). A missing browser fails the test.

The station runs in uvicorn on a free port with SQLite in tmp_path and one REVIEW part;
the test logs in, opens the queue, reviews the part with the keyboard (with a reason)
and finds the verdict in the database."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from castsight.station.main import create_app
from castsight.station.settings import StationSettings
from castsight.station.store.engine import make_engine, session_factory
from castsight.station.store.tables import AuditRow, ReviewRow
from tests.station.builders import ADMIN, seed_part, station_settings

CHROMIUM = os.environ.get("CASTSIGHT_CHROMIUM", "/usr/bin/chromium")
"""Debian's chromium (``apt-get install chromium``; ``make test`` does it)."""
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def station(tmp_path: Path) -> Iterator[tuple[str, StationSettings]]:
    """The station served by uvicorn in a thread, with one REVIEW part; its URL."""
    settings = station_settings(tmp_path, f"sqlite:///{tmp_path / 'station.db'}", port=free_port())
    seed_part(settings, serial="P-BROWSER", sentence="REVIEW")
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=settings.port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    end = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < end, "the station did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{settings.port}", settings
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_review_a_part_with_the_keyboard(station: tuple[str, StationSettings]) -> None:
    url, settings = station
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no chromium at {CHROMIUM}: `make test` installs Debian's package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            review_with_keys(browser.new_page(), url)
        finally:
            browser.close()
    engine = make_engine(settings.storage.database())
    with session_factory(engine)() as session:
        reviews = session.scalars(select(ReviewRow)).all()
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "part_reviewed")).all()
        logins = session.scalars(select(AuditRow).where(AuditRow.action == "login")).all()
    engine.dispose()
    assert [(r.verdict, r.reason, r.machine_sentence, r.overturned) for r in reviews] == [
        ("rejected", "porosity cluster at the boss", "REVIEW", False)
    ]
    assert [a.actor for a in audit] == [ADMIN[0]] and [a.actor for a in logins] == [ADMIN[0]]


def review_with_keys(page: Page, url: str) -> None:
    page.set_default_timeout(20_000)
    page.goto(f"{url}/ui")
    expect(page).to_have_url(f"{url}/login?next=/ui")
    page.fill("#name", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.keyboard.press("Enter")
    expect(page.locator("#queue")).to_contain_text("P-BROWSER")

    page.keyboard.press("n")  # the first part of the queue
    expect(page.locator("h1")).to_contain_text("P-BROWSER")
    expect(page.locator(".viewer output").first).to_contain_text("level")  # image drawn
    page.keyboard.press("Alt+h")
    expect(page.locator("html")).to_have_class("hide-overlays")
    page.keyboard.press("Alt+h")
    expect(page.locator("html")).not_to_have_class("hide-overlays")

    page.keyboard.press("r")
    expect(page.locator("#verdict-rejected")).to_be_checked()
    expect(page.locator("#reason")).to_be_focused()
    page.keyboard.type("porosity cluster at the boss")
    page.keyboard.press("Control+Enter")
    expect(page).to_have_url(f"{url}/ui?done=1")
    expect(page.locator("body")).to_contain_text("Nothing to review")
