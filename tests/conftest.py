"""Shared pytest fixtures."""

from __future__ import annotations

# ---------------------------------------------------------------------------
# Test infrastructure: PostgreSQL, database URLs, Chromium, output folder.
#
# Tests that need something outside Python (a PostgreSQL server, the system
# Chromium) are skipped when it is missing, so `make test` works on any
# developer machine. CI sets FANGKONG_REQUIRE_POSTGRES=1 and
# FANGKONG_REQUIRE_BROWSER=1 to turn those skips into failures: there a
# missing dependency is a broken machine, not a reason to test less.
# ---------------------------------------------------------------------------

import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import NoReturn

import pytest
import sqlalchemy as sa

try:  # tests/ as a plain folder on sys.path, or as a package
    from pgserver import find_pg_bin, temporary_postgres
except ImportError:  # pragma: no cover
    from tests.pgserver import find_pg_bin, temporary_postgres

REPO_ROOT = Path(__file__).resolve().parent.parent

# In-process tests add hub logins as root too: they must not make OS accounts
# on the machine (tests/browser/test_browser_hub.py turns it on for its hub).
os.environ.setdefault("FANGKONG_HUB_ISOLATE", "0")


def _skip_or_fail(reason: str, require_env: str) -> NoReturn:
    """Skip the test, or fail it if the environment variable ``require_env`` is 1."""
    if os.environ.get(require_env) == "1":
        pytest.fail(f"{reason} ({require_env}=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL of the database ``fangkong_test`` on a private server.

    One throw-away PostgreSQL server runs for the whole session (see
    tests/pgserver.py). Tests share this database; use ``db_url`` for a
    fresh, empty database per test.
    """
    if find_pg_bin() is None:
        _skip_or_fail(
            "PostgreSQL server binaries not found "
            "(Debian: apt-get install postgresql)",
            "FANGKONG_REQUIRE_POSTGRES",
        )
    server = temporary_postgres()
    try:
        url = server.__enter__()
    except RuntimeError as exc:
        _skip_or_fail(f"could not start PostgreSQL: {exc}", "FANGKONG_REQUIRE_POSTGRES")
    try:
        yield url
    finally:
        server.__exit__(None, None, None)


BACKENDS = dict(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)


@contextmanager
def _new_postgres_database(server_url: str, template: str | None = None) -> Iterator[str]:
    """A database with a unique name on the session server (a copy of
    ``template`` if given), dropped (even if still in use) afterwards."""
    server = sa.make_url(server_url)
    name = f"fangkong_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(**BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a new, empty database; the test runs once per backend.

    sqlite: a file in the test's tmp_path. postgres: a database with a unique
    name on the session server, dropped (even if still in use) afterwards.
    For tests of the migrations themselves; tests that start with
    ``store.init_db`` take ``migrated_db_url``.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fangkong.sqlite"
        return
    with _new_postgres_database(request.getfixturevalue("postgres_url")) as url:
        yield url


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file at the newest migration, made once per session."""
    from fangkong_lib import store

    path = tmp_path_factory.mktemp("migrated") / "migrated.sqlite"
    engine = store.get_engine(f"sqlite:///{path}")
    store.init_db(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _migrated_postgres(postgres_url: str) -> str:
    """Name of a database at the newest migration on the session server, made
    once per session: the template that ``migrated_db_url`` copies."""
    from fangkong_lib import store

    server = sa.make_url(postgres_url)
    name = "fangkong_migrated"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    engine = store.get_engine(server.set(database=name).render_as_string(hide_password=False))
    store.init_db(engine)
    engine.dispose()  # a template must have no connections when it is copied
    return name


@pytest.fixture(**BACKENDS)
def migrated_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Like ``db_url``, a new database of the test's own, but already at the
    newest migration, as ``store.init_db`` leaves a new database (it is a copy
    of one migrated once per session; ``init_db`` on it costs one read)."""
    if request.param == "sqlite":
        path = tmp_path / "fangkong.sqlite"
        with closing(sqlite3.connect(request.getfixturevalue("_migrated_sqlite"))) as src, \
                closing(sqlite3.connect(path)) as dst:
            src.backup(dst)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("_migrated_postgres")
    with _new_postgres_database(request.getfixturevalue("postgres_url"), template) as url:
        yield url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Path of the system Chromium that browser tests drive.

    FANGKONG_CHROMIUM if set (and then only that), else /usr/bin/chromium,
    else chromium or chromium-browser on PATH. Tests are skipped without it,
    or fail if FANGKONG_REQUIRE_BROWSER=1.
    """
    configured = os.environ.get("FANGKONG_CHROMIUM")
    if configured:
        candidates = [configured]
    else:
        candidates = [
            "/usr/bin/chromium",
            shutil.which("chromium"),
            shutil.which("chromium-browser"),
        ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    _skip_or_fail(
        f"Chromium not found at {configured}" if configured else
        "Chromium not found (Debian: apt-get install chromium fonts-noto-cjk; "
        "or set FANGKONG_CHROMIUM)",
        "FANGKONG_REQUIRE_BROWSER",
    )


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """Empty folder test-output/<test name>/ for files a human should look at.

    Screenshots, exported maps and reports go here. The folder sits in the
    repository root (ignored by git) whatever the working directory, and is
    emptied when the test starts, so it never shows files of an earlier run.
    """
    name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_")
    path = REPO_ROOT / "test-output" / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# ---------------------------------------------------------------------------
# End of test infrastructure.
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator:
    """One headless system Chromium for the whole session (Playwright's sync
    API allows one instance per thread, so every browser test shares it)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright package is not installed (pip install -e '.[test]')",
                      "FANGKONG_REQUIRE_BROWSER")
    try:
        from browser_support import launch_chromium
    except ImportError:  # pragma: no cover
        from tests.browser_support import launch_chromium
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright, chromium_path)
        try:
            yield chromium
        finally:
            chromium.close()



@pytest.fixture
def no_cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The machine before ``apt-get install fonts-noto-cjk``, in this process.

    fontconfig (and every ``fc-*`` child process) reads a configuration with
    one font folder that does not exist yet (FONTCONFIG_FILE), and
    matplotlib's font list holds no font at all. Returns that folder: create
    it and copy a font file in to "install" the font while the test runs.
    """
    from matplotlib import font_manager

    fonts = tmp_path / "fonts"
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FONTCONFIG_FILE", str(conf))
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])
    return fonts
