"""The "fangkong" Voilà template: served pages point at no host but the server.

Starts a real Voilà server on a scratch folder, as `fangkong serve` does
(JUPYTER_PATH pointing at fangkong_lib/share/jupyter, --template=fangkong).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

import fangkong_lib

pytestmark = pytest.mark.slow

SHARE_JUPYTER = Path(fangkong_lib.__file__).resolve().parent / "share" / "jupyter"
STARTUP_TIMEOUT_S = 60

# URLs the scratch notebook itself shows: the page may contain them.
NOTEBOOK_URLS = ("https://example.org/markdown-link", "https://example.org/printed")
URL = re.compile(r"""https?://[^\s"'<>()\\]+""")
XML_NAMESPACE = re.compile(r"""xmlns(?::\w+)?\s*=\s*["'][^"']*["']""")
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, timeout: float = 60) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def _write_notebooks(folder: Path) -> None:
    overview = nbformat.v4.new_notebook()
    overview.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    overview.cells = [
        nbformat.v4.new_markdown_cell(f"# 总览\n\n[说明]({NOTEBOOK_URLS[0]})"),
        nbformat.v4.new_code_cell(f"print({NOTEBOOK_URLS[1]!r})"),
    ]
    nbformat.write(overview, folder / "overview.ipynb")
    (folder / "其他").mkdir()
    nbformat.write(overview, folder / "其他" / "台账.ipynb")


def _remote_urls(html: str) -> list[str]:
    """URLs in ``html`` that point at another host than the server."""
    html = XML_NAMESPACE.sub("", html)
    for url in NOTEBOOK_URLS:
        html = html.replace(url, "")
    remote = []
    for url in URL.findall(html):
        host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
        if host not in LOCAL_HOSTS:
            remote.append(url)
    return remote


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a Voilà server on a scratch notebook folder."""
    root = tmp_path_factory.mktemp("voila")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    _write_notebooks(notebooks)
    port = _free_port()
    env = {
        **os.environ,
        "JUPYTER_PATH": str(SHARE_JUPYTER),
        # Keep the developer's own Jupyter configuration out of the test.
        "JUPYTER_CONFIG_DIR": str(root / "config"),
        "JUPYTER_RUNTIME_DIR": str(root / "runtime"),
    }
    log_path = root / "voila.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                str(notebooks),
                "--no-browser",
                "--template=fangkong",
                "--Voila.ip=127.0.0.1",
                f"--port={port}",
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if server.poll() is not None:
                log_text = log_path.read_text()
                pytest.fail(f"voila exited with {server.returncode}:\n{log_text}")
            try:
                _get(base + "voila/tree/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    log_text = log_path.read_text()
                    pytest.fail(f"voila did not answer in {STARTUP_TIMEOUT_S} s:\n{log_text}")
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_server_root_opens_the_overview(voila_url: str) -> None:
    status, html = _get(voila_url)

    assert status == 200
    assert re.search(r"""location\.replace\(\s*"/voila/render/overview\.ipynb""", html)
    # Only the root redirects: /voila/tree/ renders the same page.
    assert 'window.location.pathname === "/"' in html
    assert re.search(r'<noscript>.*href="/voila/render/overview\.ipynb".*</noscript>', html, re.S)
    assert _remote_urls(html) == []


def test_tree_lists_notebooks_in_chinese(voila_url: str) -> None:
    status, html = _get(voila_url + "voila/tree/")

    assert status == 200
    assert "<title>防控工作台</title>" in html
    assert 'href="/voila/render/overview.ipynb"' in html
    assert 'href="/voila/tree/%E5%85%B6%E4%BB%96"' in html  # 其他
    assert _remote_urls(html) == []

    status, html = _get(voila_url + "voila/tree/%E5%85%B6%E4%BB%96")

    assert status == 200
    assert 'href="/voila/render/%E5%85%B6%E4%BB%96/%E5%8F%B0%E8%B4%A6.ipynb"' in html
    assert "location.replace" not in html
    assert _remote_urls(html) == []


def test_rendered_notebook_refers_only_to_the_server(voila_url: str) -> None:
    status, html = _get(voila_url + "voila/render/overview.ipynb")

    assert status == 200
    assert "example.org/printed" in html  # the notebook really ran
    assert _remote_urls(html) == []
    assert '<html lang="zh">' in html
    assert "正在加载" in html
    # Widget icons still come from Voilà's own bundle.
    assert "/voila/templates/fangkong/static/voila-style.js" in html


def test_error_page_refers_only_to_the_server(voila_url: str) -> None:
    status, html = _get(voila_url + "voila/render/no-such-page.ipynb")

    assert status == 404
    assert _remote_urls(html) == []


def test_remote_url_check_notices_cdn_links() -> None:
    # Guards the tests above: the check must flag what Voilà's lab template adds.
    html = (
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/'
        '@fortawesome/fontawesome-free@^5/css/all.min.css" type="text/css" />'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>'
        '<a href="http://127.0.0.1:8866/voila/tree/">x</a>'
    )
    assert _remote_urls(html) == [
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@^5/css/all.min.css"
    ]


# -- `fangkong serve` itself: only the dashboards, never open beyond this machine ---------------

from contextlib import contextmanager  # noqa: E402

try:  # tests/ as a plain folder on sys.path, or as a package
    from browser_support import _descendants, _stop  # noqa: E402
except ImportError:  # pragma: no cover
    from tests.browser_support import _descendants, _stop  # noqa: E402


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _status(url: str) -> tuple[int, str]:
    """Status and Location of one request, redirects not followed."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(url, timeout=60) as response:
            return response.status, response.headers.get("Location", "")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Location", "")


def _cmdlines(pid: int) -> str:
    """The command lines of a process and all its descendants (kernels too)."""
    text = []
    for p in [pid, *_descendants(pid)]:
        try:
            text.append(Path(f"/proc/{p}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            pass
    return "\n".join(text)


@contextmanager
def _fangkong_serve(db, workdir: Path, *args: str, env: dict | None = None):
    """`fangkong serve --db db ARGS` on a free port; yields (server, base URL, log path)."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    host = args[args.index("--host") + 1] if "--host" in args else "127.0.0.1"
    full_env = {k: v for k, v in os.environ.items() if k != "FANGKONG_TOKEN"}
    full_env.update({"JUPYTER_CONFIG_DIR": str(workdir / "config"),
                     "JUPYTER_RUNTIME_DIR": str(workdir / "runtime"), **(env or {})})
    log_path = workdir / "server.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "fangkong_lib.cli", "serve", "--db", str(db), "--port", str(port), *args],
            env=full_env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
    base = f"http://{host}:{port}/"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"fangkong serve exited with {server.returncode}:\n{log_path.read_text()}")
            try:
                _status(base + "voila/static/")
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"fangkong serve did not answer:\n{log_path.read_text()}")
                time.sleep(0.2)
        yield server, base, log_path
    finally:
        _stop(server)


def test_served_folder_is_only_the_dashboards(demo_db, tmp_path):
    with _fangkong_serve(demo_db, tmp_path / "s") as (_server, base, _log):
        # No notebook listing: the root and the tree go to the overview.
        for path in ("", "voila/tree", "voila/tree/", "voila/tree/analysis"):
            assert _status(base + path) == (302, "/voila/render/overview.ipynb"), path
        assert _status(base + "voila/api/contents")[0] == 404
        assert _status(base + "voila/api/contents/analysis")[0] == 404
        # The analyst notebooks cannot be run by a visitor, however the path is spelled.
        for path in ("analysis/overview_by_hand.ipynb", "analysis%2Foverview_by_hand.ipynb",
                     "..%2Fnotebooks%2Fanalysis%2Foverview_by_hand.ipynb"):
            assert _status(base + "voila/render/" + path)[0] == 404, path
        status, html = _get(base + "voila/render/overview.ipynb")
        assert status == 200 and "防控工作台" in html


def test_server_beyond_this_machine_gets_a_token_it_never_logs(demo_db, tmp_path):
    # 127.0.0.2 is not one of the local names: it stands for a LAN address here.
    with _fangkong_serve(demo_db, tmp_path / "s", "--host", "127.0.0.2") as (server, base, log_path):
        token_file = tmp_path / "s" / "runtime" / f"fangkong-serve-{base.rsplit(':', 1)[1].strip('/')}.token"
        token = token_file.read_text().strip()
        assert len(token) >= 40 and token_file.stat().st_mode & 0o077 == 0  # only its owner reads it
        assert _status(base + "voila/render/overview.ipynb")[1].startswith("/login")  # closed without it
        assert _get(base + f"voila/render/overview.ipynb?token={token}")[0] == 200
        assert token not in _cmdlines(server.pid)  # also the kernel the visit started
    log = log_path.read_text()
    assert str(token_file) in log and token not in log


@pytest.mark.parametrize("how", ["environment", "file"])
def test_token_from_environment_or_file_stays_out_of_the_process_list(how, demo_db, tmp_path):
    token = "令牌-" + "k3" * 12
    env, args = {}, ()
    if how == "environment":
        env = {"FANGKONG_TOKEN": token}
    else:
        (tmp_path / "token").write_text(token + "\n", encoding="utf-8")
        args = ("--token-file", str(tmp_path / "token"))
    with _fangkong_serve(demo_db, tmp_path / "s", *args, env=env) as (server, base, log_path):
        assert _status(base + "voila/render/overview.ipynb")[1].startswith("/login")
        quoted = urllib.parse.quote(token)
        assert _get(base + f"voila/render/overview.ipynb?token={quoted}")[0] == 200
        assert token not in _cmdlines(server.pid)
    assert token not in log_path.read_text() and quoted not in log_path.read_text()


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("args, env, message", [
    (("--token-file", "/nonexistent/token"), None, "无法读取令牌文件"),
    ((), {"FANGKONG_TOKEN": "short"}, "令牌太短"),
    (("--db", "postgresql+psycopg://u:s3cret@127.0.0.1:1/x"), None, "数据库不可用"),
    (("--db", "/nonexistent/x.sqlite"), None, "不存在"),
])
def test_serve_refusals_are_one_line_without_secrets(args, env, message, demo_db):
    if "--db" not in args:
        args = ("--db", demo_db, *args)
    res = _cli("serve", *args, "--port", _free_port(), env=env)
    assert res.returncode == 2 and message in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "s3cret" not in res.stderr + res.stdout
