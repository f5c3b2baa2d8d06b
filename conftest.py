"""Root conftest: loaded for every test path (tests/, notebooks/, doctests).

The whole test session (notebook kernels and dashboard servers included, they
inherit the environment) reads one demo database built in a temporary folder,
never the developer's data/fangkong.sqlite. It is built once, and only when a
collected test needs it: the unit layer (``make test-fast``) never waits for it.
With pytest-xdist (``-n 2``) the workers share the folder of the process that
started them (FANGKONG_TEST_SESSION_DIR, inherited), and the first worker that
needs the database builds it while the others wait for it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
_SESSION_DIR_ENV = "FANGKONG_TEST_SESSION_DIR"
if os.environ.get(_SESSION_DIR_ENV):  # an xdist worker: its controller's folder
    _SESSION_DIR, _OWN_SESSION_DIR = Path(os.environ[_SESSION_DIR_ENV]), False
else:
    _SESSION_DIR, _OWN_SESSION_DIR = Path(tempfile.mkdtemp(prefix="fangkong-tests-")), True
    os.environ[_SESSION_DIR_ENV] = str(_SESSION_DIR)
DEMO_DB = _SESSION_DIR / "demo.sqlite"
_DEMO_BUILT = _SESSION_DIR / "demo.built"  # written once DEMO_DB is complete

#: Alembic's environment and revisions run inside Alembic, not as modules to
#: import for doctests (env.py needs Alembic's context).
collect_ignore_glob = ["fangkong_lib/migrations/env.py", "fangkong_lib/migrations/versions/*"]

#: tests/<folder>/ → the layer marker its tests carry.
LAYERS = ("unit", "store", "kernel", "browser")


def ensure_demo_db() -> Path:
    """Build the session's demo database on first use; return its path.

    Under a lock: another worker of the session may be building it."""
    if _DEMO_BUILT.exists():
        return DEMO_DB
    with open(_SESSION_DIR / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _DEMO_BUILT.exists():
            from fangkong_lib.demo import build_demo

            build_demo(DEMO_DB)
            _DEMO_BUILT.touch()
    return DEMO_DB


def pytest_configure(config):
    os.environ["FANGKONG_DB"] = str(DEMO_DB)


def _layer_of(path: Path) -> str | None:
    try:
        parts = path.resolve().relative_to(ROOT / "tests").parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in LAYERS else None


def pytest_collection_modifyitems(config, items):
    # Layers run in order, fastest first: unit, store, kernel, browser, then
    # notebooks and doctests. Tests that start their own Chromium (store) must
    # also run before the browser layer's session-wide Playwright instance.
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    items.sort(key=lambda item: rank.get(_layer_of(Path(str(item.fspath))), len(LAYERS)))
    needs_demo = False
    for item in items:
        layer = _layer_of(Path(str(item.fspath)))
        if layer:
            item.add_marker(getattr(pytest.mark, layer))
        if layer in ("store", "kernel", "browser") or str(item.fspath).endswith(".ipynb"):
            needs_demo = True  # notebooks, servers and store tests read FANGKONG_DB
    if needs_demo:
        ensure_demo_db()


def pytest_unconfigure(config):
    if _OWN_SESSION_DIR:
        shutil.rmtree(_SESSION_DIR, ignore_errors=True)
        os.environ.pop(_SESSION_DIR_ENV, None)


@pytest.fixture(scope="session")
def demo_db() -> Path:
    """Path of the session's demo SQLite database (default seed). Read only:
    tests that write take ``writable_demo_db``."""
    return ensure_demo_db()


def copy_demo_db(folder: Path) -> Path:
    """Copy the session's demo database into ``folder``; return the copy's path.

    SQLite's backup API, not a file copy: in WAL mode the latest writes may
    still sit in the ``-wal`` file next to the database.
    """
    source = ensure_demo_db()
    copy = Path(folder) / "demo.sqlite"
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return copy


@pytest.fixture
def writable_demo_db(demo_db: Path, tmp_path: Path) -> Path:
    """A private copy of the session's demo database that the test may write."""
    return copy_demo_db(tmp_path)


@pytest.fixture(scope="session")
def demo_db_copier(demo_db: Path):
    """``copy(folder) -> path``: a private copy of the session's demo database,
    for module-scoped fixtures (``writable_demo_db`` is per test)."""
    return copy_demo_db


@pytest.fixture(scope="session")
def demo_frames() -> dict:
    """The demo township (default seed) as DataFrames, built in memory once per
    session: for tests of the data itself, no database needed. Do not modify."""
    from fangkong_lib.demo import generate

    return generate()


@pytest.fixture(scope="session")
def demo_data():
    """The demo database loaded as a Dataset (ledgers + geometries)."""
    from fangkong_lib.dataset import Dataset

    return Dataset.load(ensure_demo_db())
