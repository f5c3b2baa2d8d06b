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
