"""Root conftest: loaded for every test path (tests/ and notebooks/)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# ---------------------------------------------------------------------------
# The demo database, and a database for everything that reads FANGKONG_DB.
#
# The whole test session (notebook kernels included, they inherit the
# environment) uses a demo database built once in a temporary folder, never
# the developer's data/fangkong.sqlite.
# ---------------------------------------------------------------------------

import tempfile  # noqa: E402

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="fangkong-tests-"))
DEMO_DB = _SESSION_DIR / "demo.sqlite"


def pytest_configure(config):
    from fangkong_lib.demo import build_demo

    if not DEMO_DB.exists():
        build_demo(DEMO_DB)
    os.environ["FANGKONG_DB"] = str(DEMO_DB)


def pytest_unconfigure(config):
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_db() -> Path:
    """Path of the session's demo SQLite database (default seed). Read only:
    tests that write build their own."""
    return DEMO_DB


@pytest.fixture(scope="session")
def demo_data():
    """The demo database loaded as a Dataset (ledgers + geometries)."""
    from fangkong_lib.dataset import Dataset

    return Dataset.load(DEMO_DB)
