"""Real logins: ``fangkong hub`` (JupyterHub, NativeAuthenticator, the Python
proxy) with users made by ``fangkong user add``, a village clerk, a township
user and a county administrator, each logging in with a real browser.

One hub for the module, started as the county server runs it: as root, each
login's server runs as its own OS account (``fk-<login>``). It must start:
with FANGKONG_REQUIRE_BROWSER=1 a hub that does not answer fails the tests
(the fixture raises), it never skips; nor may the isolation checks, which
need root. The idle culler runs with a one-minute timeout: the clerk's
server is stopped once the clerk's browser is gone, while the township
user's open page keeps theirs, checked at the end so the wait overlaps the
administrator's steps.
"""

from __future__ import annotations

import base64
import csv
import grp
import io
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
from datetime import datetime
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
ADMIN, ADMIN_PASS = "admin-1", "Aq3-county-admin"
SIGNUP, SIGNUP_PASS = "signup-new", "Sq8-signed-up-user"
ADDED, ADDED_PASS, ADDED_PASS2 = "added-1", "Dq4-added-by-admin", "Rq6-reset-by-admin"
FAILED_LOGINS = 3
HUB_TIMEOUT_S = 180
#: The culler's settings for this hub: a server idle for a minute is stopped.
IDLE_TIMEOUT_S, CULL_EVERY_S = 60, 10
#: How long a culled server may take: the timeout, then activity reaching the
#: hub (a quarter of the timeout, twice), then the culler's round.
CULL_DEADLINE_S = IDLE_TIMEOUT_S + 2 * (IDLE_TIMEOUT_S // 4) + CULL_EVERY_S + 45
REQUIRED = os.environ.get("FANGKONG_REQUIRE_BROWSER") == "1"


def _os_account(login: str) -> str:
    from fangkong_lib.ui.hub import os_account_name

    return os_account_name(login)


def _servers_of(login: str) -> list[tuple[int, int, str]]:
    """(pid, uid, command) of every process of ``login``'s server (its
    jupyter server and kernels: JUPYTERHUB_USER in their environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
            if f"JUPYTERHUB_USER={login}".encode() not in environ:
                continue
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            # the process's own uid (the /proc folder's owner can be root for a process that changed uid)
            uids = next(line for line in (entry / "status").read_text().splitlines() if line.startswith("Uid:"))
            found.append((int(entry.name), int(uids.split()[1]), command))
        except OSError:
            continue
    return found


def _as_account(account: str, *command: str) -> subprocess.CompletedProcess:
    """``command`` run as OS account ``account`` (its groups too), as its kernel runs."""
    return subprocess.run(["runuser", "-u", account, "--", *command], capture_output=True, text=True, timeout=30)


def _open_for_accounts(paths) -> list[tuple[Path, int]]:
    """Let other accounts pass through the folders on the way to ``paths``
    (o+x: what a county server's administrator does when Python or the
    workbook sits under a private folder such as /root); returns what to
    put back."""
    changed = []
    for path in paths:
        for folder in reversed(Path(path).resolve().parents):
            mode = os.stat(folder).st_mode
            if not mode & stat.S_IXOTH:
                os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
                changed.append((folder, stat.S_IMODE(mode)))
    return changed


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture(scope="module")
def hub(chromium_path: str, demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The running hub: (base URL, database path, clerk's village, state folder)."""
    root = os.geteuid() == 0
    # as root the logins' accounts must reach the store's folder: not under the 700 pytest folder
    work = Path(tempfile.mkdtemp(prefix="fangkong-hub-", dir="/tmp")) if root else tmp_path_factory.mktemp("hub")
    os.chmod(work, 0o711)
    group_existed = _group_exists("fangkong")
    from fangkong_lib.config import JUPYTER_DATA_DIR, NOTEBOOKS_DIR, REPO_DIR

    opened = _open_for_accounts([sys.executable, Path(sys.executable).resolve(), REPO_DIR, NOTEBOOKS_DIR,
                                 JUPYTER_DATA_DIR, Path(pytest.__file__)]) if root else []
    db = build_demo_database(work / "fangkong.sqlite", source=demo_db)
    with closing(sqlite3.connect(db)) as conn:
        village = conn.execute("SELECT village FROM controls WHERE status = '管控中' ORDER BY id LIMIT 1").fetchone()[0]
    state = work / "state"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "FANGKONG_USER": "tester",
           "FANGKONG_HUB_ISOLATE": "1"}  # as the county server runs it (as root: the logins' own accounts)
    env.pop("JUPYTERHUB_USER", None)
    for name, password, scope in ((CLERK, CLERK_PASS, ["--role", "village", "--village", village]),
                                  (TOWN, TOWN_PASS, ["--role", "township", "--township", "城郊乡"]),
                                  (LOCKED, LOCKED_PASS, ["--role", "viewer"]),
                                  (ADMIN, ADMIN_PASS, ["--role", "county"])):
        done = _cli("user", "add", name, *scope, "--password", password, "--db", str(db),
                    "--state-dir", str(state), env=env)
        assert done.returncode == 0, done.stderr
    port = free_port()
    log_path = work / "hub.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "fangkong_lib.cli", "hub", "--db", str(db), "--port", str(port),
             "--state-dir", str(state), "--failed-logins", str(FAILED_LOGINS),
             "--idle-timeout", str(IDLE_TIMEOUT_S), "--cull-every", str(CULL_EVERY_S)],
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
        yield base, db, village, state, log_path
    finally:
        _stop(server)
        for login in (CLERK, TOWN, LOCKED, ADMIN, SIGNUP, ADDED):
            for pid, _uid, _cmd in _servers_of(login):  # a server the hub left behind
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        if root:  # the test's OS accounts and group go; the folders get their modes back
            for login in (CLERK, TOWN, LOCKED, ADMIN, SIGNUP, ADDED):
                try:
                    home = pwd.getpwnam(_os_account(login)).pw_dir
                except KeyError:
                    continue
                if home.startswith(str(work)):
                    subprocess.run(["userdel", _os_account(login)], capture_output=True)
            if not group_existed and _group_exists("fangkong"):
                subprocess.run(["groupdel", "fangkong"], capture_output=True)
            for folder, mode in reversed(opened):
                os.chmod(folder, mode)
        if work != tmp_path_factory.getbasetemp() and root:
            shutil.copy(log_path, tmp_path_factory.getbasetemp() / "hub.log")  # kept for a look
            shutil.rmtree(work, ignore_errors=True)


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def _login(page, base: str, name: str, password: str) -> None:
    page.goto(base + "hub/login")
    page.locator("#username_input").fill(name)
    page.locator("#password_input").fill(password)
    page.locator("#login_submit").click()


def _lands_on_overview(page, base: str, name: str) -> None:
    page.wait_for_url(f"{base}user/{name}/voila/render/overview.ipynb*", timeout=HUB_TIMEOUT_S * 1000)
    page.locator(".fk-kpi").first.wait_for(timeout=HUB_TIMEOUT_S * 1000)
    assert name in page.locator(".fk-who").inner_text()


def _status_shows(page, text: str) -> None:
    page.wait_for_function("(t) => [...document.querySelectorAll('.fk-status')].some(e => e.innerText.includes(t))",
                           arg=text, timeout=60_000)


def _check_isolation(state: Path) -> None:
    """The clerk's server and kernel run as the clerk's own OS account, which
    reads its home and the servers' settings, not the hub's secrets nor the
    township user's server files."""
    clerk, town = pwd.getpwnam(_os_account(CLERK)), pwd.getpwnam(_os_account(TOWN))
    procs, town_procs = _servers_of(CLERK), _servers_of(TOWN)
    assert any("ipykernel" in cmd for _, _, cmd in procs), procs  # the overview's kernel is running
    assert {uid for _, uid, _ in procs} == {clerk.pw_uid} and clerk.pw_uid not in (0, os.geteuid())
    assert {uid for _, uid, _ in town_procs} == {town.pw_uid} != {clerk.pw_uid}
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o711
    # what the clerk's account reads: its own home and the servers' (secret-free) settings
    assert _as_account(clerk.pw_name, "ls", clerk.pw_dir).returncode == 0
    assert _as_account(clerk.pw_name, "cat", str(state / "jupyter_config" / "voila.json")).returncode == 0
    # ... not the hub's secrets, its logins' database, its configuration (the store's URL), its folder's list
    for secret in ("jupyterhub_cookie_secret", "jupyterhub.sqlite", "jupyterhub_config.py"):
        assert (state / secret).exists()
        done = _as_account(clerk.pw_name, "cat", str(state / secret))
        assert done.returncode != 0 and "Permission denied" in done.stderr, (secret, done)
    assert _as_account(clerk.pw_name, "ls", str(state)).returncode != 0
    # ... nor the township user's server files (its runtime file holds its server's token)
    runtime = sorted(Path(town.pw_dir).rglob("jpserver-*.json"))
    assert runtime, "the township user's server keeps its runtime file in its home"
    for path in (town.pw_dir, str(runtime[0])):
        done = _as_account(clerk.pw_name, "cat" if path.endswith(".json") else "ls", path)
        assert done.returncode != 0 and "Permission denied" in done.stderr, (path, done)
    # the shell cannot be logged into, the password is locked
    assert town.pw_shell.endswith("nologin")
    shadow = subprocess.run(["passwd", "-S", clerk.pw_name], capture_output=True, text=True).stdout.split()
    assert shadow[1] == "L", shadow


def test_logins_sessions_and_signed_writes(browser, hub, output_dir: Path):
    base, db, village, state, log_path = hub
    town = browser.new_context(viewport={"width": 1400, "height": 1000})
    clerk = browser.new_context(viewport={"width": 1400, "height": 1000})
    admin = browser.new_context(viewport={"width": 1400, "height": 1200})
    stranger = browser.new_context()
    newcomer = browser.new_context(viewport={"width": 1400, "height": 1000})
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

        # ... and runs as an OS account of its own (the county server runs the hub as root).
        if os.geteuid() == 0:
            _check_isolation(state)

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
        # The clerk closes the browser: from now on the clerk's server is idle (checked at the end).
        clerk.close()
        clerk_gone, clerk_gone_wall = time.monotonic(), time.time()

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

        # Someone signs up; until a county administrator approves, the login is refused.
        page_n = newcomer.new_page()
        page_n.goto(base + "hub/signup")
        page_n.locator("#username_input").fill(SIGNUP)
        page_n.locator("#password_input").fill(SIGNUP_PASS)
        page_n.locator("#password_confirmation_input").fill(SIGNUP_PASS)
        page_n.locator("#signup_submit").click()
        page_n.locator(".alert").first.wait_for()
        _login(page_n, base, SIGNUP, SIGNUP_PASS)
        page_n.locator(".login_error").wait_for()
        assert "/hub/login" in page_n.url and page_n.locator(".fk-kpi").count() == 0

        # The county administrator's 用户管理 page: the sign-up waits there.
        page_a = admin.new_page()
        _login(page_a, base, ADMIN, ADMIN_PASS)
        _lands_on_overview(page_a, base, ADMIN)
        page_a.locator(".fk-nav-users").click()  # in the app's navigation: county logins only
        page_a.locator(".fk-user-pending").wait_for(state="attached", timeout=120_000)
        assert SIGNUP in page_a.locator(".fk-user-pending").inner_text()
        # Approve it with a role and a scope (no password: the one chosen at sign-up).
        page_a.locator(".fk-user-name input").fill(SIGNUP)
        page_a.locator(".fk-user-role select").select_option(label="村级")
        page_a.locator(".fk-user-village select").select_option(label=village)
        page_a.locator("button.fk-user-add").click()
        _status_shows(page_a, f"已批准注册 {SIGNUP}")
        assert page_a.locator(".fk-user-pending").inner_text() == ""
        # Add an account with a password, disable it, reset it.
        page_a.locator(".fk-user-name input").fill(ADDED)
        page_a.locator(".fk-user-full-name input").fill("新来的")
        page_a.locator(".fk-user-role select").select_option(label="只读")
        page_a.locator(".fk-user-village select").select_option(label="（不限）")  # the form keeps the last scope
        page_a.locator(".fk-user-password input").fill(ADDED_PASS)
        page_a.locator(".fk-user-password2 input").fill(ADDED_PASS)
        page_a.locator("button.fk-user-add").click()
        _status_shows(page_a, f"已添加账号 {ADDED}")
        page_a.locator(".fk-user-target select").select_option(label=f"{ADDED}（新来的，启用）")
        page_a.locator("button.fk-user-disable").click()
        _status_shows(page_a, f"已停用账号 {ADDED}")
        assert "停用" in page_a.locator(".fk-users-table tr", has_text=ADDED).inner_text()
        with closing(sqlite3.connect(state / "jupyterhub.sqlite")) as conn:
            assert conn.execute("SELECT is_authorized FROM users_info WHERE username = ?", (ADDED,)).fetchone() == (0,)
        page_a.locator(".fk-user-target select").select_option(label=f"{ADDED}（新来的，停用）")
        page_a.locator(".fk-user-reset-password input").fill(ADDED_PASS2)
        page_a.locator(".fk-user-reset-password2 input").fill(ADDED_PASS2)
        page_a.locator("button.fk-user-reset").click()
        _status_shows(page_a, f"已重设账号 {ADDED}")
        assert "启用" in page_a.locator(".fk-users-table tr", has_text=ADDED).inner_text()
        screenshot(page_a, output_dir / "6-admin-users.png")
        with closing(sqlite3.connect(db)) as conn:
            rows = dict(conn.execute("SELECT name, role || '/' || coalesce(village, '') || '/' || disabled FROM users"))
            audit = conn.execute("SELECT user FROM audit_log WHERE ledger = 'users' ORDER BY id DESC LIMIT 4").fetchall()
        assert rows[SIGNUP] == f"village/{village}/0" and rows[ADDED] == "viewer//0"
        assert {u for (u,) in audit} == {ADMIN}
        with closing(sqlite3.connect(state / "jupyterhub.sqlite")) as conn:
            assert conn.execute("SELECT is_authorized FROM users_info WHERE username = ?", (ADDED,)).fetchone() == (1,)
        if os.geteuid() == 0:  # approving made the newcomer's OS account (through the hub's service)
            assert pwd.getpwnam(_os_account(SIGNUP)).pw_dir.startswith(str(state))

        # Approved, the newcomer logs in and lands on the overview, in the village given.
        _login(page_n, base, SIGNUP, SIGNUP_PASS)
        _lands_on_overview(page_n, base, SIGNUP)
        assert page_n.locator(".fk-filter-village select option").all_inner_texts()[1:] == [village]
        screenshot(page_n, output_dir / "7-approved-overview.png")

        # The idle culler: the clerk's server (browser gone) is stopped within its timeout;
        # the township user's (page open all along, untouched since the start) is not.
        deadline = clerk_gone + CULL_DEADLINE_S
        while _servers_of(CLERK) and time.monotonic() < deadline:
            time.sleep(2)
        waited = time.monotonic() - clerk_gone
        assert not _servers_of(CLERK), f"the clerk's idle server still runs {waited:.0f} s after its browser left"
        culled = [line for line in log_path.read_text(errors="replace").splitlines()
                  if f"Culling server {CLERK} " in line]
        assert culled, "the idle culler did not stop the clerk's server"
        # when: the hub's log time (local), within the timeout and the rounds that bring activity in
        stamp = datetime.strptime(culled[0].split()[1] + " " + culled[0].split()[2][:8], "%Y-%m-%d %H:%M:%S")
        # (its last activity may be up to one page ping, 20 s, before the browser closed)
        assert IDLE_TIMEOUT_S - 25 <= stamp.timestamp() - clerk_gone_wall <= CULL_DEADLINE_S, culled[0]
        assert _servers_of(TOWN), "the township user's open page lost its server"
        page_t.locator(".fk-nav-returnees").click()  # its kernel answers: another page opens
        page_t.locator(".fk-person-select select").wait_for(timeout=60_000)
        screenshot(page_t, output_dir / "8-township-still-open.png")
    finally:
        for context in (town, clerk, admin, stranger, newcomer):
            try:
                context.close()
            except Exception:
                pass
    if os.geteuid() != 0:
        message = "per-login OS accounts need the hub to run as root: isolation not checked"
        if REQUIRED:
            pytest.fail(message + " (FANGKONG_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(message)
