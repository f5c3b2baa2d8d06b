"""Paths and settings.

Paths come from the package location, never from the working directory, so
the same code works from a notebook, a Voilà kernel, the CLI and the tests.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
DATA_DIR = REPO_DIR / "data"
NOTEBOOKS_DIR = REPO_DIR / "notebooks"
ASSETS_DIR = PACKAGE_DIR / "assets"
POLICY_DIR = PACKAGE_DIR / "policy"
JUPYTER_DATA_DIR = PACKAGE_DIR / "share" / "jupyter"

DEFAULT_DB_PATH = DATA_DIR / "fangkong.sqlite"

#: The township the demo models (城郊乡, 郸城县, 周口市, 河南省); codes are real.
TOWNSHIP_NAME = "城郊乡"
TOWNSHIP_CODE = "411625200"
COUNTY_NAME = "郸城县"
COUNTY_CODE = "411625"
#: County seat, about 33.644 N, 115.189 E (source probably GCJ-02; used as WGS-84).
COUNTY_SEAT = (33.644, 115.189)

#: "Today" in the demo: the date of the township's report.
DEMO_TODAY = date(2022, 4, 7)


SYNTHETIC_NOTE = "合成演示数据（虚构的村名、人员与边界）"


def database_url(db: str | os.PathLike | None = None) -> str:
    """Return the SQLAlchemy URL to use.

    Order: the explicit ``db`` argument (a URL or a file path), then the
    ``FANGKONG_DB`` environment variable, then ``data/fangkong.sqlite``.

    Examples
    --------
    >>> database_url("sqlite:///x.sqlite")
    'sqlite:///x.sqlite'
    >>> database_url("postgresql+psycopg://u@h/db")
    'postgresql+psycopg://u@h/db'
    """
    value = db if db is not None else os.environ.get("FANGKONG_DB")
    if value is None or str(value) == "":
        return f"sqlite:///{DEFAULT_DB_PATH}"
    text = str(value)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).expanduser().resolve()}"


def tianditu_key() -> str | None:
    """The Tianditu key from ``FANGKONG_TIANDITU_KEY`` (never committed)."""
    return os.environ.get("FANGKONG_TIANDITU_KEY") or None


def tianditu_url() -> str:
    """Tianditu tile base URL; provincial endpoints differ, so it is config."""
    return os.environ.get(
        "FANGKONG_TIANDITU_URL",
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
        "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
    )


# -- Who is working: logins on a county server (``fangkong hub``) ----------------

#: The roles of ``fangkong user``: county sees every township, township its
#: own, village its own village (and writes there only), viewer reads only.
ROLES = ("county", "township", "village", "viewer")
ROLE_LABELS = {"county": "县级", "township": "乡镇", "village": "村级", "viewer": "只读"}


def hub_user_name() -> str | None:
    """The name the user logged into the hub with (``JUPYTERHUB_USER``, set by
    the hub's spawner in each user's own server); None in single-PC mode."""
    return os.environ.get("JUPYTERHUB_USER") or None
