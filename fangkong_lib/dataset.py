"""The loaded data of one database (ledgers, geometries, meta), cached per
kernel so every page and export of a process reads the store once."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from functools import cached_property

import geopandas as gpd
import pandas as pd

from . import store
from .config import SYNTHETIC_NOTE, TOWNSHIP_NAME, database_url
from .domain.geo import to_geodataframe
from .ledgers import LEDGERS

_CACHE: dict[str, "Dataset"] = {}
_LOCK = threading.Lock()
#: Big ledgers only some pages read (the grid page's ~17,000 households):
#: loaded on first use, so the other pages do not wait for them.
LAZY_LEDGERS = ("households",)


class LazyLedgers(dict):
    """The ledgers by key; a lazy ledger is read from the store on first use."""

    def __init__(self, engine, loaded):
        super().__init__(loaded)
        self._engine = engine

    def __missing__(self, key: str) -> pd.DataFrame:
        if key not in LAZY_LEDGERS:
            raise KeyError(key)
        self[key] = frame = store.load_ledger(self._engine, key)
        return frame


@dataclass
class Dataset:
    """The ledgers of one database, loaded once per kernel."""

    url: str
    ledgers: dict[str, pd.DataFrame]
    meta: dict[str, str]
    #: The store's :func:`~fangkong_lib.store.data_version` the ledgers reflect.
    version: int = 0
    #: Grows with every :meth:`reload` in this process: a page that computed
    #: at an older generation shows stale figures (see ``PageModel.catch_up``).
    generation: int = 0

    @classmethod
    def load(cls, db=None, *, reload: bool = False) -> "Dataset":
        url = database_url(db) if not hasattr(db, "url") else str(db.url)
        with _LOCK:
            if reload or url not in _CACHE:
                engine = store.get_engine(db if db is not None else url)
                if not store.has_data(engine):
                    raise RuntimeError(
                        f"数据库 {url} 中还没有数据：请先运行 `fangkong demo` 生成演示数据，或用 `fangkong import` 导入台账"
                    )
                store.init_db(engine)  # ledgers added since the database was made get their tables
                version = store.data_version(engine)  # before reading: a later write shows as newer
                eager = [key for key in LEDGERS if key not in LAZY_LEDGERS]
                ledgers = LazyLedgers(engine, store.load_ledgers(engine, eager))
                _CACHE[url] = cls(url, ledgers, store.get_meta(engine), version)
            return _CACHE[url]

    @property
    def today(self) -> date:
        return store.data_today(self.meta)

    @property
    def synthetic(self) -> bool:
        return self.meta.get("synthetic") == "1"

    @property
    def township(self) -> str:
        return TOWNSHIP_NAME

    @property
    def source_note(self) -> str:
        return f"数据来源：{SYNTHETIC_NOTE}" if self.synthetic else f"数据来源：{TOWNSHIP_NAME}各村台账"

    @property
    def village_names(self) -> list[str]:
        return self.ledgers["villages"]["name"].tolist()

    @cached_property
    def grids(self) -> gpd.GeoDataFrame:
        return to_geodataframe(self.ledgers["grids"])

    @cached_property
    def villages(self) -> gpd.GeoDataFrame:
        return to_geodataframe(self.ledgers["villages"])

    @cached_property
    def naturals(self) -> gpd.GeoDataFrame:
        return to_geodataframe(self.ledgers["natural_villages"])

    # -- Seeing what the actions wrote --------------------------------------

    @property
    def engine(self):
        return store.get_engine(self.url)

    def reload(self, *keys: str) -> None:
        """Re-read ledgers from the store (all when none given). The actions
        (:mod:`fangkong_lib.actions`) call this with the ledgers they changed
        when handed a Dataset, so its pages show the change at once. Ledgers
        that others (another kernel, another user) wrote since this Dataset
        was read come along, so :attr:`version` stays true."""
        newest, written = store.ledgers_written_since(self.engine, self.version)
        if not keys or "*" in written:
            keys = tuple(self.ledgers)
        else:
            keys = tuple(dict.fromkeys((*keys, *sorted(k for k in written if k in LEDGERS))))
        for key in keys:
            if key in LAZY_LEDGERS and key not in self.ledgers:
                continue  # not read yet: read fresh on first use
            self.ledgers[key] = store.load_ledger(self.engine, key)
        for name in ("grids", "villages", "naturals"):
            self.__dict__.pop(name, None)
        self.version = max(self.version, newest)
        self.generation += 1

    def catch_up(self) -> bool:
        """Re-read what anyone wrote since this Dataset was read (one cheap
        query when nothing was). Returns True when something was re-read."""
        newest, written = store.ledgers_written_since(self.engine, self.version)
        if newest == self.version:
            return False
        known = sorted(k for k in written if k in LEDGERS)
        if newest < self.version or "*" in written or not known:
            self.reload()  # the store was rebuilt, migrated, or wrote outside the ledgers
        else:
            self.reload(*known)
        self.version = newest
        return True
