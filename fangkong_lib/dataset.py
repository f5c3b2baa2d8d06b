"""The loaded data of one database (ledgers, geometries, meta), cached per
kernel so every page and export of a process reads the store once."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import geopandas as gpd
import pandas as pd

from . import store
from .config import SYNTHETIC_NOTE, TOWNSHIP_NAME, database_url
from .domain.geo import to_geodataframe
from .ledgers import LEDGERS

_CACHE: dict[tuple, "Dataset"] = {}
_LOCK = threading.Lock()
#: Scoped datasets of one database kept per kernel besides the unscoped one:
#: a county user moving between townships does not pile them up in memory.
_KEEP_SCOPED = 2


class LazyLedgers(dict):
    """The ledgers by key, each read from the store (within the dataset's
    scope) the first time a page asks for it: a page reads what it shows."""

    def __init__(self, engine, scope: store.Scope, loaded=None):
        super().__init__(loaded or {})
        self._engine = engine
        self._scope = scope

    def __missing__(self, key: str) -> pd.DataFrame:
        if key not in LEDGERS:
            raise KeyError(key)
        self[key] = frame = store.load_ledger(self._engine, key, scope=self._scope)
        return frame

    def __contains__(self, key) -> bool:
        return key in LEDGERS or super().__contains__(key)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def loaded(self) -> list[str]:
        """The keys read so far."""
        return list(super().keys())


@dataclass
class Dataset:
    """The ledgers of one database within one scope, read once per kernel.

    ``Dataset.load(db)`` is everything; ``Dataset.load(db, township="城郊乡")``
    one township of a county database (every read carries ``WHERE
    owner_township = …``), ``village=`` one village. Ledgers are read on
    first use.
    """

    url: str
    ledgers: dict[str, pd.DataFrame]
    meta: dict[str, str]
    scope: store.Scope = field(default_factory=store.Scope)
    #: The store's :func:`~fangkong_lib.store.data_version` the ledgers reflect.
    version: int = 0
    #: Grows with every :meth:`reload` in this process: a page that computed
    #: at an older generation shows stale figures (see ``PageModel.catch_up``).
    generation: int = 0

    @classmethod
    def load(cls, db=None, *, reload: bool = False, township: str | None = None,
             village: str | None = None) -> "Dataset":
        url = database_url(db) if not hasattr(db, "url") else str(db.url)
        scope = store.Scope(township or None, village or None)
        key = (url, scope)
        with _LOCK:
            if reload or key not in _CACHE:
                engine = store.get_engine(db if db is not None else url)
                if not store.has_data(engine):
                    raise RuntimeError(
                        f"数据库 {url} 中还没有数据：请先运行 `fangkong demo` 生成演示数据，或用 `fangkong import` 导入台账"
                    )
                store.init_db(engine)  # ledgers added since the database was made get their tables
                if scope.village and not scope.township:
                    scope = store.Scope(store.township_of(engine, scope.village), scope.village)
                version = store.data_version(engine)  # before reading: a later write shows as newer
                _CACHE[key] = cls(url, LazyLedgers(engine, scope), store.get_meta(engine), scope, version)
                scoped = [k for k in _CACHE if k[0] == url and not k[1].everything and k != key]
                for old in scoped[:max(0, len(scoped) - _KEEP_SCOPED + 1)]:
                    del _CACHE[old]
            return _CACHE[key]

    @property
    def today(self) -> date:
        return store.data_today(self.meta)

    @property
    def synthetic(self) -> bool:
        return self.meta.get("synthetic") == "1"

    @property
    def township(self) -> str:
        """The township shown: the scope's, else the database's one township."""
        if self.scope.township:
            return self.scope.township
        return self.meta.get("township") or TOWNSHIP_NAME

    @property
    def county(self) -> bool:
        """A county database (several townships) read without a township."""
        return self.meta.get("scale") == "county" and not self.scope.township

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
        loaded = self.ledgers.loaded() if isinstance(self.ledgers, LazyLedgers) else list(self.ledgers)
        newest, written = store.ledgers_written_since(self.engine, self.version)
        if not keys or "*" in written:
            keys = tuple(loaded)
        else:
            keys = tuple(dict.fromkeys((*keys, *sorted(k for k in written if k in LEDGERS))))
        for key in keys:
            if key not in loaded:
                continue  # not read yet: read fresh on first use
            self.ledgers[key] = store.load_ledger(self.engine, key, scope=self.scope)
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


# -- The county: figures per township, counted by the database ---------------

#: The county table's columns, in display order, and what each counts.
COUNTY_COLUMNS = ("行政村", "网格", "在外人员", "今日返乡", "管控中", "今日应检", "未销号问题", "待核查线索", "重点场所")


def county_table(db, day: date) -> pd.DataFrame:
    """One row per township of the database with the figures of
    :data:`COUNTY_COLUMNS` on ``day``, and a 合计 row.

    Every figure is a ``COUNT(*) … GROUP BY owner_township`` run by the
    database (SQLite or PostgreSQL alike): a county overview never loads the
    county's rows. The figures are the township overview's for the same day
    (tests compare them).
    """
    import sqlalchemy as sa

    engine = store.get_engine(db.url if hasattr(db, "url") else db)
    t = store.TABLES
    away, ret, ctl, prob, leads = t["away"].c, t["returnees"].c, t["controls"].c, t["problems"].c, t["leads"].c
    in_force = (ctl.start_date <= day, ctl.end_date >= day,
                sa.or_(ctl.released_date.is_(None), ctl.released_date > day))
    counts = {
        "行政村": store.count_by_township(engine, "villages"),
        "网格": store.count_by_township(engine, "grids"),
        "在外人员": store.count_by_township(
            engine, "away", sa.or_(away.returned.is_(None), away.returned == sa.false()),
            sa.or_(away.left_date.is_(None), away.left_date <= day)),
        "今日返乡": store.count_by_township(engine, "returnees", ret.actual_arrival == day),
        "管控中": store.count_by_township(engine, "controls", *in_force, ctl.measure != "无"),
        "今日应检": store.count_by_township(engine, "controls", *in_force, ctl.measure != "无",
                                         ctl.test_dates.contains(day.isoformat())),
        "未销号问题": store.count_by_township(engine, "problems", sa.or_(prob.stage.is_(None), prob.stage != "销号"),
                                          prob.date <= day),
        "待核查线索": store.count_by_township(engine, "leads", leads.outcome.is_(None)),
        "重点场所": store.count_by_township(engine, "places"),
    }
    townships = store.townships(engine)
    table = pd.DataFrame({name: [per.get(tw, 0) for tw in townships] for name, per in counts.items()},
                         index=pd.Index(townships, name="乡镇"), columns=list(COUNTY_COLUMNS)).astype(int)
    table.loc["合计"] = table.sum()
    return table


def county_shapes(db) -> "gpd.GeoDataFrame":
    """The townships' boundaries (the union of their villages'), one row per
    township, for the county map. The villages' boundaries tile each township,
    so the union is exact (a coverage union)."""
    import shapely
    import sqlalchemy as sa

    engine = store.get_engine(db.url if hasattr(db, "url") else db)
    villages = store.TABLES["villages"]
    with engine.connect() as conn:
        rows = conn.execute(sa.select(villages.c[store.OWNER], villages.c.name, villages.c.geometry)
                            .order_by(villages.c.code)).all()
    frame = pd.DataFrame(rows, columns=["township", "village", "geometry"])
    frame = frame[frame["geometry"].notna()]
    geoms = shapely.from_wkt(frame["geometry"].to_numpy())
    shapes = []
    for township in dict.fromkeys(frame["township"]):
        parts = geoms[(frame["township"] == township).to_numpy()]
        shapes.append((township, shapely.coverage_union_all(parts)))
    return gpd.GeoDataFrame({"name": [n for n, _ in shapes]}, geometry=[g for _, g in shapes], crs="EPSG:4326")


def read_ledger(key: str, db=None, *, township: str | None = None, village: str | None = None) -> pd.DataFrame:
    """Any ledger as a DataFrame, for analysts: the whole database, or one
    township's or one village's rows (filtered by the database, not in memory).

    ``db`` is a URL, a file path or None (``FANGKONG_DB``, else
    ``data/fangkong.sqlite``). Each call reads the store afresh.
    """
    engine = store.get_engine(db)
    scope = store.Scope(township or None, village or None)
    if village and not township:
        scope = store.Scope(store.township_of(engine, village), village)
    return store.load_ledger(engine, key, scope=scope)
