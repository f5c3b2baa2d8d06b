"""Real logins: ``fangkong hub`` (JupyterHub, NativeAuthenticator, the Python
proxy) with two users made by ``fangkong user add``, a village clerk and a
township user, each logging in with a real browser.

One hub for the module. It must start: with FANGKONG_REQUIRE_BROWSER=1 a hub
that does not answer fails the tests (the fixture raises), it never skips.
"""

from __future__ import annotations

import base64
import csv
import io
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

try:
    from browser_support import _stop, build_demo_database, free_port, screenshot
except ImportError:  # pragma: no cover
    from tests.browser_support import _stop, build_demo_database, free_port, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLERK, CLERK_PASS = "clerk-xy", "Xq7-village-clerk"
TOWN, TOWN_PASS = "town-cj", "Tq9-township-user"
LOCKED, LOCKED_PASS = "locked-1", "Lq5-locked-user"
FAILED_LOGINS = 3
HUB_TIMEOUT_S = 180


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def hub(chromium_path: str, demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The running hub: (base URL, database path, clerk's village)."""
    work = tmp_path_factory.mktemp("hub")
    db = build_demo_database(work / "fangkong.sqlite", source=demo_db)
    with closing(sqlite3.connect(db)) as conn:
        village = conn.execute("SELECT village FROM controls WHERE status = '管控中' ORDER BY id LIMIT 1").fetchone()[0]
    state = work / "state"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "FANGKONG_USER": "tester"}
    env.pop("JUPYTERHUB_USER", None)
    for name, password, scope in ((CLERK, CLERK_PASS, ["--role", "village", "--village", village]),
                                  (TOWN, TOWN_PASS, ["--role", "township", "--township", "城郊乡"]),
                                  (LOCKED, LOCKED_PASS, ["--role", "viewer"])):
        done = _cli("user", "add", name, *scope, "--password", password, "--db", str(db),
                    "--state-dir", str(state), env=env)
        assert done.returncode == 0, done.stderr
    port = free_port()
    log_path = work / "hub.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "fangkong_lib.cli", "hub", "--db", str(db), "--port", str(port),
             "--state-dir", str(state), "--failed-logins", str(FAILED_LOGINS)],
            env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + HUB_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(base + "hub/login", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"fangkong hub did not start; log {log_path}:\n"
                                   + log_path.read_text(errors="replace")[-4000:])
            time.sleep(0.5)
        # The secrets are the service account's only.
        assert (state / "jupyterhub_cookie_secret").stat().st_mode & 0o777 == 0o600
        yield base, db, village
    finally:
        _stop(server)


def _login(page, base: str, name: str, password: str) -> None:
    page.goto(base + "hub/login")
    page.locator("#username_input").fill(name)
    page.locator("#password_input").fill(password)
    page.locator("#login_submit").click()


def _lands_on_overview(page, base: str, name: str) -> None:
    page.wait_for_url(f"{base}user/{name}/voila/render/overview.ipynb*", timeout=HUB_TIMEOUT_S * 1000)
    page.locator(".fk-kpi").first.wait_for(timeout=HUB_TIMEOUT_S * 1000)
    assert name in page.locator(".fk-who").inner_text()


def test_logins_sessions_and_signed_writes(browser, hub, output_dir: Path):
    base, db, village = hub
    town = browser.new_context(viewport={"width": 1400, "height": 1000})
    clerk = browser.new_context(viewport={"width": 1400, "height": 1000})
    stranger = browser.new_context()
    try:
        # The township user logs in and lands on the overview.
        page_t = town.new_page()
        _login(page_t, base, TOWN, TOWN_PASS)
        _lands_on_overview(page_t, base, TOWN)
        screenshot(page_t, output_dir / "1-township-overview.png")
        township_villages = page_t.locator(".fk-filter-village select option").all_inner_texts()[1:]
        assert len(township_villages) == 17 and village in township_villages

        # The clerk logs in and lands on the overview, in a server of their own.
        page = clerk.new_page()
        _login(page, base, CLERK, CLERK_PASS)
        _lands_on_overview(page, base, CLERK)
        screenshot(page, output_dir / "2-clerk-overview.png")
        # The clerk's pages read their village only: the filter offers no other.
        assert page.locator(".fk-filter-village select option").all_inner_texts()[1:] == [village]
        assert village in page.locator(".fk-app-title").inner_text()

        # The clerk cannot open the township user's (running) server.
        response = page.goto(base + f"user/{TOWN}/voila/render/overview.ipynb")
        assert not page.url.startswith(base + f"user/{TOWN}/voila") or response.status in (403, 404)
        assert page.locator(".fk-kpi").count() == 0
        screenshot(page, output_dir / "3-clerk-refused.png")

        # A temperature recorded by the clerk: no 操作人 field, signed by the login.
        page.goto(base + f"user/{CLERK}/voila/render/returnees.ipynb")
        page.locator(".fk-person-select select").wait_for(timeout=120_000)
        assert not page.locator(".fk-operator input").is_visible()
        # ... and so do the exports: every row of the CSV is of the clerk's village.
        page.locator(".fk-export-csv").first.click()
        link = page.locator("a.fk-download-link").first
        link.wait_for()
        text = base64.b64decode(link.get_attribute("href").split(",", 1)[1]).decode("utf-8-sig")
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
        header = next(i for i, row in enumerate(rows) if "村" in row)
        column = rows[header].index("村")
        assert len(rows) > header + 1 and {row[column] for row in rows[header + 1:]} == {village}
        page.locator(".fk-filter-village select").select_option(label=village)
        page.locator(".fk-filter-status select").select_option(label="管控中")
        page.wait_for_function("() => document.querySelectorAll('.fk-person-select select option').length > 1")
        select = page.locator(".fk-person-select select")
        select.select_option(index=1)
        page.locator(".fk-person-detail .fk-days").wait_for()
        page.locator(".fk-temp-slot select").select_option(label="下午")
        page.locator(".fk-temp-value input").fill("36.6")
        page.locator("button.fk-save-temp").click()
        page.wait_for_function("() => document.querySelector('.fk-status') && "
                               "document.querySelector('.fk-status').innerText.includes('已保存')")
        screenshot(page, output_dir / "4-clerk-saved.png")
        with closing(sqlite3.connect(db)) as conn:
            user, ledger = conn.execute("SELECT user, ledger FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        assert (user, ledger) == (CLERK, "daily_checks")

        # A wrong password is refused; repeated failures lock the login out.
        page_s = stranger.new_page()
        _login(page_s, base, TOWN, "wrong-password-1")
        page_s.locator(".login_error").wait_for()
        assert "/hub/login" in page_s.url and page_s.locator(".fk-kpi").count() == 0
        for attempt in range(FAILED_LOGINS):
            _login(page_s, base, LOCKED, f"wrong-{attempt}-password")
        _login(page_s, base, LOCKED, LOCKED_PASS)  # right, but locked for now
        page_s.locator(".login_error").wait_for()
        assert "/hub/login" in page_s.url
        screenshot(page_s, output_dir / "5-locked-out.png")
    finally:
        for context in (town, clerk, stranger):
            context.close()
