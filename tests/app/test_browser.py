"""One real-browser test: the app served on 127.0.0.1, driven by playwright and chromium.

Uses Debian's chromium at ``/usr/bin/chromium`` (never ``playwright install``). Locally the
test skips when that browser is absent; with ``FULFIL_REQUIRE_BROWSER=1`` (set by ``.ci/run``)
a missing browser is a failure.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# A small comparison: two days, a few hundred online orders a day, two policies, two reps.
QUERY = "?days=2&online=300&reps=2&policies=closest&policies=min_split"
START_TIMEOUT_S = 60
RUN_TIMEOUT_MS = 180_000

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
    if os.environ.get("FULFIL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"FULFIL_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer on {url} in {START_TIMEOUT_S} s")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free local port; yields its base URL."""
    _require_browser()
    port = _free_port()
    log = tmp_path / "streamlit.log"
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]  # fmt: skip
    # Worker processes even for this small run, so the served app's parallel path is tested.
    env = {**os.environ, "FULFIL_PARALLEL_MIN_ORDERS": "0"}
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_small_comparison_in_chromium(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            requested: list[str] = []
            page.on("request", lambda request: requested.append(request.url))
            page.goto(server + QUERY)
            run = page.get_by_role("button", name="Run comparison")
            expect(run).to_be_enabled(timeout=60_000)
            run.click()
            table = page.get_by_test_id("stDataFrame").first
            expect(table).to_be_visible(timeout=RUN_TIMEOUT_MS)
            chart = page.locator(".js-plotly-plot").first
            expect(chart).to_be_visible(timeout=60_000)
            assert page.get_by_test_id("stException").count() == 0
            assert page.get_by_test_id("stAlertContentError").count() == 0
            # The view is in the URL: the levers given in the query string are still there.
            assert "days=2" in page.url and "online=300" in page.url
            # Streamlit scrolls inside its own container: one shot of the top, one of the charts.
            top = tmp_path / "workbench.png"
            page.screenshot(path=str(top))
            chart.scroll_into_view_if_needed()
            page.wait_for_timeout(1_000)  # let plotly finish drawing
            charts = tmp_path / "workbench-charts.png"
            page.screenshot(path=str(charts))
            assert top.stat().st_size > 10_000 and charts.stat().st_size > 10_000
            # The network map draws the US states from the copy the app serves itself.
            page.get_by_role("tab", name="Network", exact=True).click()
            states = page.locator(".js-plotly-plot .geo .subunits path").first
            expect(states).to_be_attached(timeout=60_000)
            page.screenshot(path=str(tmp_path / "workbench-map.png"))
            # Choosing another policy for the map keeps the Network tab open.
            panel = page.locator('[role="tabpanel"]:visible').first
            panel.get_by_test_id("stSelectbox").first.get_by_role("combobox").click()
            page.get_by_role("option").nth(1).click()
            selected = page.locator('[role="tab"][aria-selected="true"]')
            expect(selected).to_have_text("Network", timeout=30_000)
            page.wait_for_timeout(2_000)  # the rerun has redrawn the page
            expect(selected).to_have_text("Network")
            # The same comparison again comes from the cache, without an error.
            run.click()
            expect(page.get_by_text("came from kept results").first).to_be_visible(timeout=60_000)
            page.wait_for_timeout(2_000)
            assert page.get_by_test_id("stException").count() == 0
            assert page.get_by_test_id("stAlertContentError").count() == 0
            expect(table).to_be_visible()
            # A chart's option chosen while a new comparison runs neither stops the run
            # nor is lost: the charts are a fragment, redrawn once the run is done.
            page.get_by_role("tab", name="KPIs", exact=True).click()
            seed = page.get_by_role("spinbutton", name="Seed")
            seed.fill("5")
            seed.press("Enter")
            page.wait_for_timeout(1_500)
            run.click()
            expect(page.get_by_text("simulations done").first).to_be_visible(timeout=60_000)
            other = page.get_by_test_id("stSelectbox").filter(has_text="Another KPI")
            other = other.get_by_role("combobox")
            other.scroll_into_view_if_needed()
            other.click()
            page.wait_for_timeout(500)
            page.get_by_role("option").filter(has_text="store_ship_share").first.click()
            status = page.get_by_test_id("stStatusWidget")
            for _ in range(2):  # the run, then the charts' own rerun
                page.wait_for_timeout(2_000)
                expect(status).to_be_hidden(timeout=RUN_TIMEOUT_MS)
            assert page.get_by_text("was stopped").count() == 0
            expect(page.get_by_text("store_ship_share", exact=True).last).to_be_visible()
            expect(
                page.locator(".js-plotly-plot").filter(has_text="store_ship_share")
            ).to_have_count(1)
            # Nothing is fetched from the internet: the workbench runs offline.
            outside = [u for u in requested if not u.startswith(server) and "://" in u]
            assert outside == [], outside[:5]
        finally:
            browser.close()
