"""A real dashboard server and a real browser for the browser tests.

- :func:`build_demo_database` writes the synthetic township into a SQLite file.
- :func:`running_server` runs ``fangkong serve`` on a free port (a context
  manager yielding the base URL) and stops the server *and its kernels*
  afterwards: Jupyter starts every kernel in a session of its own, so
  stopping the server's process group alone would leave them running.
- :func:`launch_chromium` starts the system Chromium with flags that keep the
  browser's own background traffic (updates, sync, QUIC probes) out of the way.
- :class:`RequestLog` records every URL a browser context asks for, so a test
  can assert that the dashboard works without the internet.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

STARTUP_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15
LOG_TAIL_CHARS = 4000

# The same flags the product uses for its own PNGs and PDFs.
from fangkong_lib.outputs.render import CHROMIUM_ARGS

#: URL schemes and hosts a page of the dashboard may load from.
LOCAL_SCHEMES = ("data:", "about:", "blob:")
LOCAL_HOSTS = ("127.0.0.1",)


def build_demo_database(path: Path, source: Path | None = None) -> Path:
    """The synthetic township (17 villages, 112 natural villages, 376 grids)
    written into the SQLite file ``path``; returns ``path``.

    ``source``: a demo database already built with the default seed (the
    session's ``demo_db``) to copy instead of building the township again;
    SQLite's backup API, so writes still in its ``-wal`` file come along.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if source is not None:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
        return path
    from fangkong_lib.demo import build_demo

    build_demo(str(path))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(log_path: Path) -> str:
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return text[-LOG_TAIL_CHARS:] or "(empty log)"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _answers(url: str) -> bool:
    """True when ``url`` answers 200 or a redirect, which is not followed
    (the root redirects to the overview: rendering it would start a kernel
    nobody uses); connection errors and other codes: False."""
    try:
        with urllib.request.build_opener(_NoRedirect).open(url, timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:
        return error.code in (301, 302)
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux /proc; elsewhere no children are found)."""
    children = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            children.append(int(entry.name))
    return children


def _descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        for child in _children(queue.pop()):
            found.append(child)
            queue.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rfind(")") + 2:].split()[0] != "Z"


def _signal_group_or_pid(pid: int, signum: int) -> None:
    """Signal the process group ``pid`` leads, or else ``pid`` alone."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
        else:
            os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _stop(server: subprocess.Popen) -> None:
    """Stop the server's process group, then any kernel that outlived it."""
    kernels = _descendants(server.pid)
    if server.poll() is None:
        # Voilà shuts its kernels down on SIGTERM.
        _signal_group_or_pid(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group_or_pid(server.pid, signal.SIGKILL)
            server.wait()
    else:  # already dead: still clear what is left of its group
        try:
            os.killpg(server.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    survivors = [pid for pid in kernels if _alive(pid)]
    for pid in survivors:
        _signal_group_or_pid(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while survivors and time.monotonic() < deadline:
        time.sleep(0.1)
        survivors = [pid for pid in survivors if _alive(pid)]
    for pid in survivors:
        _signal_group_or_pid(pid, signal.SIGKILL)


#: Base URL of each running server → its process id (see :func:`kernel_count`).
SERVER_PIDS: dict[str, int] = {}


def kernel_pids(base_url: str) -> list[int]:
    """The live kernels of the server at ``base_url``: its descendant
    processes running ``ipykernel_launcher`` (Voilà lists no kernels over HTTP)."""
    found = []
    for pid in _descendants(SERVER_PIDS[base_url]):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"ipykernel_launcher" in cmdline and _alive(pid):
            found.append(pid)
    return found


def kernel_count(base_url: str) -> int:
    return len(kernel_pids(base_url))


@contextmanager
def running_server(db_path: Path, workdir: Path, *args: str) -> Iterator[str]:
    """Run ``fangkong serve --db db_path [args]`` on a free port; yield its
    base URL (``http://127.0.0.1:PORT/``).

    ``workdir`` receives the server log (``server.log``) and Jupyter's config
    and runtime folders, so the developer's own Jupyter setup stays out.
    Raises RuntimeError, with the end of the log, if the server does not
    answer ``/`` (with 200 or its redirect to the overview) within STARTUP_TIMEOUT_S seconds.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(workdir / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(workdir / "jupyter-runtime"),
    }
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "fangkong_lib.cli", "serve", "--db", str(db_path),
             "--port", str(port), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _answers(base):
            if server.poll() is not None:
                raise RuntimeError(
                    f"fangkong serve exited with status {server.returncode}; "
                    f"log {log_path}:\n{_log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"fangkong serve did not answer {base} with 200 within "
                    f"{STARTUP_TIMEOUT_S} s; log {log_path}:\n{_log_tail(log_path)}"
                )
            time.sleep(0.2)
        SERVER_PIDS[base] = server.pid
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        _stop(server)


def launch_chromium(playwright, executable_path: str):
    """The system Chromium (never a downloaded one), headless."""
    return playwright.chromium.launch(executable_path=executable_path, args=list(CHROMIUM_ARGS))


def is_local_url(url: str) -> bool:
    """True for URLs that stay on this machine's server or inside the page."""
    if url.startswith(LOCAL_SCHEMES):
        return True
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https", "ws", "wss"):
        return False
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
    return host in LOCAL_HOSTS


class RequestLog:
    """Every URL asked for by the pages (and their frames) of a browser
    context: HTTP requests and websockets."""

    def __init__(self, context):
        self.urls: list[str] = []
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("page", self._watch)
        for page in context.pages:
            self._watch(page)

    def _watch(self, page) -> None:
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def remote(self) -> list[str]:
        """The recorded URLs that leave the machine."""
        return [url for url in self.urls if not is_local_url(url)]


# -- The status line every page has -----------------------------------------


def status_text(page) -> str:
    return page.locator(".fk-status").first.inner_text().strip()


def wait_for_status(page, previous: str, *parts: str) -> str:
    """Wait until the status line differs from ``previous`` and contains all
    ``parts`` (the model writes it last, so the other widgets are up to date);
    fail at once with the message if it reports an error (出错)."""
    page.wait_for_function(
        """([previous, parts]) => {
            const el = document.querySelector('.fk-status');
            const text = el ? el.innerText.trim() : '';
            return text && text !== previous && (text.includes('出错') || parts.every(p => text.includes(p)));
        }""",
        arg=[previous, list(parts)],
    )
    text = status_text(page)
    assert "出错" not in text, f"the page reports an error: {text}"
    return text


def screenshot(page, path) -> None:
    """The whole page as a PNG. Voilà scrolls inside #rendered_cells, not the
    document, so the viewport is made as tall as the content for the shot,
    then put back."""
    viewport = page.viewport_size
    height = page.evaluate(
        "() => { const el = document.querySelector('#rendered_cells'); return el ? el.scrollHeight : 0; }"
    )
    if viewport and height > viewport["height"]:
        page.set_viewport_size({"width": viewport["width"], "height": height})
    try:
        page.screenshot(path=path, full_page=True)
    finally:
        if viewport:
            page.set_viewport_size(viewport)


@contextmanager
def own_demo_server(tmp_path_factory, name: str, source: Path | None = None) -> Iterator[tuple[Path, str]]:
    """A demo database of a test module's own (for tests that write) and a
    server on it: yields (database path, base URL). Pass the session's
    ``demo_db`` as ``source`` to copy it rather than build the township again.

    The server draws no overview ahead of a visitor (``--no-preheat``): these
    modules open their own pages, and a preheated overview kernel would only
    take CPU from them (the preheat has its own test in test_browser_app)."""
    db = build_demo_database(tmp_path_factory.mktemp(f"{name}-db") / "fangkong.sqlite", source)
    with running_server(db, tmp_path_factory.mktemp(f"{name}-server"), "--no-preheat") as url:
        yield db, url



def person_without_fever(db, day) -> dict:
    """Someone under control on ``day`` with no reading at or above 37.3 ℃
    that day (the demo's), as their controls row."""
    from fangkong_lib import store

    engine = store.get_engine(str(db))
    controls = store.load_ledger(engine, "controls")
    checks = store.load_ledger(engine, "daily_checks")
    on_day = checks[checks["date"] == str(day)]
    hot = set(on_day.loc[(on_day["temp_am"] >= 37.3) | (on_day["temp_pm"] >= 37.3), "id_number"])
    active = controls[(controls["start_date"] <= str(day)) & (controls["end_date"] >= str(day))
                      & controls["released_date"].isna() & ~controls["id_number"].isin(hot)]
    assert len(active), "the demo has nobody under control without a fever"
    return active.sort_values(["village", "name"]).iloc[0].to_dict()

