"""The statistics page in a real browser (Debian's chromium driven by Playwright; a
missing browser fails): ten days of seeded production with a drift in the last two
shifts; log in, the queue shows the drift alarm, its link opens the statistics page, the
p-charts (SVG) and the figures render. The page is saved as a PNG (to
``CASTSIGHT_SCREENSHOT_DIR`` too when set: docs/img/station-statistics.png comes so)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect, sync_playwright

from castsight.station.main import create_app
from castsight.station.settings import StatisticsSettings
from castsight.station.store import repo
from castsight.station.store.engine import make_engine
from tests.station.builders import ADMIN, station_settings
from tests.station.history import production, seed_history
from tests.station.ui.test_browser import CHROMIUM, FLAGS, free_port


@pytest.fixture
def station_url(tmp_path: Path) -> Iterator[str]:
    """The station served by uvicorn in a thread over ten days of production."""
    statistics = StatisticsSettings(timezone="UTC", baseline_subgroups=12)
    settings = station_settings(
        tmp_path, f"sqlite:///{tmp_path / 'station.db'}", port=free_port(), statistics=statistics
    )
    engine = make_engine(settings.storage.database())
    parts = production(repo.now())
    # reviewers mostly confirm NG (every 8th accepted: overturned), resolve REVIEW both ways
    reviews = [
        (k, "accepted" if (k % 8 == 0 if p.sentence == "NG" else k % 3 != 0) else "rejected")
        for k, p in enumerate(parts[:-40])
        if p.sentence != "OK"
    ]
    seed_history(engine, parts, reviews=reviews)
    engine.dispose()
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
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_the_statistics_page_renders_its_charts_and_figures(
    station_url: str, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no chromium at {CHROMIUM}: `make test` installs Debian's package")
    shots = [tmp_path / "station-statistics.png"]
    if folder := os.environ.get("CASTSIGHT_SCREENSHOT_DIR"):
        shots.append(Path(folder) / "station-statistics.png")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            open_statistics(page, station_url)
            for shot in shots:
                page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shots[0].read_bytes()[:4] == b"\x89PNG"


def open_statistics(page: Page, url: str) -> None:
    page.set_default_timeout(20_000)
    page.goto(f"{url}/ui")
    page.fill("#name", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.keyboard.press("Enter")
    expect(page.locator(".drift-alarm")).to_contain_text("generic: NG rate")
    page.click("#statistics-link")
    expect(page).to_have_url(f"{url}/ui/statistics")
    expect(page.locator("h1")).to_have_text("Statistics")
    charts = page.locator("svg.pchart")
    expect(charts).to_have_count(4)  # NG and REVIEW for generic and wheel
    expect(
        page.locator('svg.pchart[data-part-type="generic"][data-measure="NG"]')
    ).to_have_attribute("data-alarm", "true")
    expect(page.locator("circle.point.alarm").first).to_be_visible()
    expect(page.locator("path.limit.ucl")).to_have_count(4)
    expect(page.locator("#alarms")).to_contain_text("Drift alarm")
    expect(page.locator("#overview")).to_contain_text("generic")
    expect(page.locator("#overview")).to_contain_text("wheel")
    box = charts.first.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 100
