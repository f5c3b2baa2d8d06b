"""Control plans (管控方案) kept in step with the data and the rules.

- :func:`refresh_plans` recomputes the plan of every arrived returnee from
  the regime files and writes only what changed to the ``controls`` ledger,
  each change audited. The returnee actions and the import of returnees run
  the same refresh (:func:`refresh_in`) inside their own transaction, so a
  saved arrival and its plan commit together; :func:`ensure_plans_current`
  runs it whenever the policy files changed since the last run (a hash kept
  in the ``meta`` table).
- :class:`TeamAssigner` names the 五包一 team of a controlled person from the
  grid's responsible people and the volunteer roster (the volunteer posted
  to the household or grid); the roles and where each comes from are data
  (``policy/five_in_one.toml``).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date
from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd
import sqlalchemy as sa

from .. import store
from ..domain.plans import Plan, make_plan
from ..domain.returnees import UNASSIGNED
from ..domain.volunteers import TeamVolunteers
from ..ingest.normalize import clean_text
from ..ledgers import get_ledger
from ..policy import (DEFAULT_JURISDICTION, NOT_PLAN_RULES, POLICY_DIR, PolicyError, Regime, five_in_one_roles,
                      forget_loaded_regimes, load_regimes)
from .base import SYSTEM_PREFIX, Tx, as_date, bulk_insert_columns, engine_of, transaction

#: Audit user of changes nobody typed (plans recomputed after a rule change).
SYSTEM_USER = f"{SYSTEM_PREFIX}（管控方案自动更新）"
#: Meta key holding the hash of the policy files the plans were computed with.
POLICY_HASH_KEY = "policy_hash"
#: Environment variable forcing one regime (by key) whatever the date.
FORCED_REGIME_ENV = "FANGKONG_REGIME"
#: Above this many new plans in one refresh (an imported ledger), they are
#: inserted in bulk and audited as one entry listing every ID, as an import is.
BULK_PLANS = 200

_IDENTITY_FIELDS = ("name", "sex", "phone", "village", "natural_village", "grid", "origin")


def forced_regime() -> str | None:
    """The regime forced by configuration (``FANGKONG_REGIME``), if any."""
    return os.environ.get(FORCED_REGIME_ENV) or None


def policy_hash(folder: Path | str = POLICY_DIR, *, forced: str | None = None) -> str:
    """A fingerprint of the rules plans are computed with: every ``*.toml``
    file of the policy folder (names and bytes) but those plans do not
    depend on (:data:`~fangkong_lib.policy.NOT_PLAN_RULES`), and the forced regime."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.toml")):
        if path.name in NOT_PLAN_RULES:
            continue
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"forced={forced or ''}".encode("utf-8"))
    return digest.hexdigest()


# -- 五包一 teams ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSource:
    """Where one 五包一 role's person comes from (see five_in_one.toml)."""

    role: str
    kind: str  # "grid", "natural_village", "staff" or "volunteer"
    column: str  # a column of the grid / natural-village row, a staff level, or (volunteer) "household" / "grid"
    match: str = "village"  # staff only: "village" or "area"


def team_sources(folder: Path | str = POLICY_DIR) -> tuple[TeamSource, ...]:
    """The roles in order, each with its source; a role without an
    ``[assign]`` entry gets no source (shown as 待指定)."""
    path = Path(folder) / "five_in_one.toml"
    roles = five_in_one_roles(folder)
    assign = tomllib.loads(path.read_text(encoding="utf-8")).get("assign", {})
    unknown = set(assign) - set(roles)
    if unknown:
        raise PolicyError(f"five_in_one.toml：[assign] 中的角色 {'、'.join(sorted(unknown))} 不在 roles 中")
    out = []
    for role in roles:
        spec = assign.get(role)
        if spec is None:
            out.append(TeamSource(role, "none", ""))
            continue
        kinds = [k for k in ("grid", "natural_village", "staff", "volunteer") if k in spec]
        if len(kinds) != 1:
            raise PolicyError(f"five_in_one.toml：角色 {role} 应只写 grid、natural_village、staff、volunteer 之一")
        if kinds[0] == "volunteer" and spec["volunteer"] not in ("household", "grid"):
            raise PolicyError(f"five_in_one.toml：角色 {role} 的 volunteer 应为 household 或 grid")
        match = spec.get("match", "village")
        if match not in ("village", "area"):
            raise PolicyError(f"five_in_one.toml：角色 {role} 的 match 应为 village 或 area")
        out.append(TeamSource(role, kinds[0], str(spec[kinds[0]]), match))
    return tuple(out)


class TeamAssigner:
    """Names the 五包一 team for a person living in a grid cell.

    Built once from the grids, natural villages, villages and staff ledgers
    and the volunteers' postings (``volunteer_assignments``: in force on
    ``day``, every posting without it); calling it with a grid code (and the
    person's village, and ID number for the household's volunteer) returns
    one name per role, :data:`UNASSIGNED` where nobody is found.
    """

    def __init__(self, grids: pd.DataFrame, naturals: pd.DataFrame, villages: pd.DataFrame,
                 staff: pd.DataFrame, sources: tuple[TeamSource, ...] | None = None,
                 assignments: pd.DataFrame | None = None, day: date | None = None):
        self.sources = sources if sources is not None else team_sources()
        postings = assignments if assignments is not None else pd.DataFrame(
            columns=get_ledger("volunteer_assignments").columns)
        self._volunteers = TeamVolunteers(postings, grids, day)
        self._grids = {row["code"]: row for row in grids.to_dict("records")}
        self._naturals = {(row["village"], row["name"]): row for row in naturals.to_dict("records")}
        self._area = dict(zip(villages["name"], villages.get("area", pd.Series(dtype=object))))
        self._staff: dict[tuple, str] = {}
        for row in staff.sort_values("staff_no").to_dict("records"):
            for match in ("village", "area"):
                if row.get(match):
                    self._staff.setdefault((row["level"], match, row[match]), row["name"])

        # a team depends on the place, and on the person only through a
        # volunteer posted to the household: people of one place share it
        self._by_household = any(s.kind == "volunteer" and s.column == "household" for s in self.sources)
        self._teams: dict[tuple, tuple[str, ...]] = {}

    @property
    def roles(self) -> list[str]:
        return [s.role for s in self.sources]

    def __call__(self, grid: str | None, village: str | None = None,
                 natural_village: str | None = None, id_number: str | None = None) -> list[str]:
        own = self._by_household and self._volunteers.posted_to_household(id_number)
        key = (grid, village, natural_village, id_number if own else None)
        try:
            team = self._teams.get(key)
        except TypeError:  # an unhashable value: not remembered
            return self._team(grid, village, natural_village, id_number)
        if team is None:
            team = self._teams[key] = tuple(self._team(grid, village, natural_village, id_number))
        return list(team)

    def _team(self, grid, village, natural_village, id_number) -> list[str]:
        cell = self._grids.get(grid) or {}
        village = cell.get("village") or village
        natural = cell.get("natural_village") or natural_village
        names = []
        for src in self.sources:
            name = None
            if src.kind == "grid":
                name = cell.get(src.column)
            elif src.kind == "natural_village":
                name = (self._naturals.get((village, natural)) or {}).get(src.column)
            elif src.kind == "staff":
                scope = village if src.match == "village" else self._area.get(village)
                name = self._staff.get((src.column, src.match, scope))
            elif src.kind == "volunteer":
                name = self._volunteers(id_number, grid, village, natural, household=src.column == "household")
            names.append(clean_text(name) or UNASSIGNED)
        return names


def _assigner(conn, folder: Path | str = POLICY_DIR, day: date | None = None) -> TeamAssigner:
    """The team assigner of the ledgers as ``conn`` sees them (volunteers
    posted on ``day``)."""
    return TeamAssigner(
        store.load_ledger(conn, "grids", columns=["code", "village", "natural_village", "member", "cadre"]),
        store.load_ledger(conn, "natural_villages", columns=["code", "name", "village", "cadre"]),
        store.load_ledger(conn, "villages", columns=["name", "area"]),
        store.load_ledger(conn, "staff"),
        team_sources(folder),
        store.load_ledger(conn, "volunteer_assignments"),
        day,
    )


# -- Plans ---------------------------------------------------------------------------


@dataclass
class PlanRefresh:
    """What a refresh of plans did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)  # (id, action, fields)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (id, message)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated

    def summary(self) -> str:
        text = f"管控方案：新增 {self.inserted}，更新 {self.updated}，未变 {self.unchanged}"
        return text + (f"，{len(self.errors)} 人无法计算" if self.errors else "")

    @property
    def message(self) -> str:
        return self.summary()

    def __str__(self) -> str:
        return self.summary()


def _same(fld, a, b) -> bool:
    return store.to_db_value(fld, a) == store.to_db_value(fld, b)


def _blank(value) -> bool:
    if type(value) is str and value and (value[0].isalnum() or (value.isascii() and not value.isspace())):
        return False  # the common case (an imported, cleaned value): no Unicode work
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value) or \
        (isinstance(value, str) and not clean_text(value))


def plan_for(returnee: Mapping, *, regimes: tuple[Regime, ...] | None = None,
             forced: str | None = None, jurisdiction: str = DEFAULT_JURISDICTION) -> Plan:
    """The plan of one arrived returnee (a returnees row)."""
    return make_plan(returnee["risk_category"], as_date(returnee["actual_arrival"]),
                     as_date(returnee.get("left_risk_date")),
                     jurisdiction=jurisdiction, forced_regime=forced, regimes=regimes)


def _home_not_fit(measure: str) -> str:
    """居家条件不达标 → 集中: home isolation becomes central isolation."""
    steps = ["集中隔离" if s == "居家隔离" else s for s in measure.split("+")]
    merged = [s for i, s in enumerate(steps) if i == 0 or s != steps[i - 1]]
    return "+".join(merged)


def control_status(arrival: date, released: date | None, day: date) -> str:
    """状态 of a control row on ``day``: 已解除 once released, 待管控 before the
    person arrives, else 管控中 (also after 应解除日期 until someone records
    the release: release is a person's decision, not a date)."""
    if released is not None and released <= day:
        return "已解除"
    if arrival > day:
        return "待管控"
    return "管控中"


@lru_cache(maxsize=4096)
def _iso_dates(days: tuple) -> tuple[str, ...]:
    """Test dates as stored ("2022-03-10"); plans repeat across a ledger."""
    return tuple(d.isoformat() for d in days)


def _target(person: dict, old: dict | None, plan: Plan, day: date, assigner) -> dict | None:
    """The controls row ``person`` should have (only the fields the plan
    decides), or None when there is no plan and no row."""
    if not plan.controlled:
        if old is None:
            return None
        return {"measure": "无", "test_dates": [], "regime": plan.regime, "category": person["risk_category"],
                "status": "已解除", "released_date": as_date(old.get("released_date")) or day}
    measure = plan.measure
    if old is not None and old.get("home_ok") == "不达标":
        measure = _home_not_fit(measure)
    released = as_date(old.get("released_date")) if old is not None else None
    target = {
        **{k: v for k in _IDENTITY_FIELDS
           if (v := person.get(k)) is not None and ((type(v) is str and v[:1].isalnum()) or not _blank(v))},
        "measure": measure,
        "category": person["risk_category"],
        "start_date": plan.start,
        "end_date": plan.end,
        "test_dates": list(_iso_dates(plan.test_dates)),
        "regime": plan.regime,
        "status": control_status(as_date(person["actual_arrival"]), released, day),
    }
    if old is None or not clean_text(old.get("team") or "").strip(";"):
        target["team"] = assigner(person.get("grid"), person.get("village"), person.get("natural_village"),
                                  person.get("id_number"))
    if old is None:
        target["found_via"] = "报备" if as_date(person.get("report_date")) is not None else "排查"
        target["id_number"] = person["id_number"]
    return target


def stored_rows(tx: Tx, key: str, ids: set[str] | None = None) -> list[dict]:
    """The rows of ``key`` (of the people in ``ids`` when given) as the
    transaction sees them, as plain Python values."""
    table = store.TABLES[key]
    columns = [table.c[k] for k in get_ledger(key).columns]
    query = sa.select(*columns).order_by(table.c.id)
    if ids is None or len(ids) > 5000:  # a whole ledger: one read beats many
        rows = [dict(r) for r in tx.conn.execute(query).mappings()]
        return rows if ids is None else [r for r in rows if r["id_number"] in ids]
    out: list[dict] = []
    wanted = sorted(ids)
    for start in range(0, len(wanted), 900):  # under SQLite's limit of bound parameters
        part = query.where(table.c.id_number.in_(wanted[start:start + 900]))
        out += [dict(r) for r in tx.conn.execute(part).mappings()]
    return out


def refresh_in(tx: Tx, day: date | None = None, *, ids: Iterable[str] | None = None,
               people: Iterable[Mapping] | None = None, regimes: tuple[Regime, ...] | None = None,
               forced: str | None = None, jurisdiction: str = DEFAULT_JURISDICTION,
               assigner: "TeamAssigner | None" = None) -> PlanRefresh:
    """:func:`refresh_plans` inside ``tx`` (which holds the ``returnees``
    lock): reads and writes through the transaction's connection.

    ``people`` are returnees rows the caller already holds as stored in this
    transaction (an import's new rows): they are planned without reading
    them again, instead of the rows of ``ids``."""
    day = day or tx.today()
    forced = forced if forced is not None else forced_regime()
    regimes = regimes if regimes is not None else load_regimes()
    if people is not None:
        candidates = list(people)
        wanted = {p["id_number"] for p in candidates}
    else:
        wanted = None if ids is None else set(ids)
        candidates = stored_rows(tx, "returnees", wanted)
    arrived = [p for p in candidates if as_date(p.get("actual_arrival")) is not None]
    existing = {row["id_number"]: row for row in stored_rows(tx, "controls", wanted)} if arrived else {}
    if assigner is None and arrived:
        assigner = _assigner(tx.conn, day=day)
    ledger = get_ledger("controls")
    result, inserts, plans = PlanRefresh(), [], {}
    for person in arrived:
        idn = person["id_number"]
        key = (person["risk_category"], as_date(person["actual_arrival"]), as_date(person.get("left_risk_date")))
        try:
            if key not in plans:  # categories and days repeat across a ledger
                plans[key] = plan_for(person, regimes=regimes, forced=forced, jurisdiction=jurisdiction)
        except PolicyError as exc:
            result.errors.append((idn, str(exc)))
            continue
        old = existing.get(idn)
        target = _target(person, old, plans[key], day, assigner)
        if target is None:
            continue
        if old is None:
            inserts.append(target)
            result.changes.append((idn, "inserted", tuple(sorted(target))))
            continue
        changed = {k: v for k, v in target.items() if not _same(ledger[k], old.get(k), v)}
        if not changed:
            result.unchanged += 1
            continue
        tx.upsert("controls", {"id_number": idn, **changed})
        result.updated += 1
        result.changes.append((idn, "updated", tuple(sorted(changed))))
    _insert_plans(tx, inserts)
    result.inserted = len(inserts)
    return result


def _insert_plans(tx: Tx, targets: list[dict]) -> None:
    """New controls rows: one audited insert each, or in bulk for a whole
    imported ledger (one audit entry naming every ID)."""
    if len(targets) <= BULK_PLANS:
        for target in targets:
            tx.upsert("controls", target)
        return
    ledger = get_ledger("controls")
    keys = sorted({k for t in targets for k in t})
    bulk_insert_columns(tx.conn, store.TABLES["controls"], [ledger[k] for k in keys],
                        [[t.get(k) for t in targets] for k in keys])
    store.audit(tx.conn, user=tx.user, ledger="controls", action="bulk_insert",
                after={"rows": len(targets), "note": "管控方案", "keys": [t["id_number"] for t in targets]})
    tx.touched.add("controls")


def refresh_plans(db, *, user: str, day: date | None = None, ids: Iterable[str] | None = None,
                  regimes: tuple[Regime, ...] | None = None, forced: str | None = None,
                  jurisdiction: str = DEFAULT_JURISDICTION, assigner: "TeamAssigner | None" = None) -> PlanRefresh:
    """Recompute the plans of arrived returnees and store what changed.

    For every returnee with an actual arrival (or only those in ``ids``), the
    plan follows from the regime in force (:func:`make_plan`, 填平补齐), then
    the ``controls`` row is inserted, or updated in the fields that differ
    (measure, dates, test dates, regime, status and the person's details);
    each change is audited as ``user``, all in one transaction. What people
    decided is kept: the 五包一 team once named, the actual release date, and
    a home judged unfit (居家条件不达标) turns home isolation into central
    isolation. A person whose plan becomes 无 (after a rule change or a
    corrected category) is released on ``day``.

    ``day`` (for 状态) defaults to the data's today; ``forced`` to
    :func:`forced_regime`.
    """
    with transaction(db, "returnees", user=user) as tx:
        return refresh_in(tx, day, ids=ids, regimes=regimes, forced=forced, jurisdiction=jurisdiction,
                          assigner=assigner)


def ensure_plans_current(db, *, user: str = SYSTEM_USER, day: date | None = None,
                         folder: Path | str = POLICY_DIR) -> PlanRefresh | None:
    """Refresh every plan if the policy files (or the forced regime) changed
    since plans were last computed; returns what was done, or None when the
    plans were current. The hash is checked under the lock and stored in the
    same transaction as the refresh, so two kernels do not both refresh."""
    current = policy_hash(folder, forced=forced_regime())
    if store.get_meta(engine_of(db)).get(POLICY_HASH_KEY) == current:
        return None  # the common case, without taking the lock
    with transaction(db, "returnees", user=user) as tx:
        if tx.meta().get(POLICY_HASH_KEY) == current:
            return None  # another kernel refreshed while this one waited
        forget_loaded_regimes()  # the files changed: read them again, here and for every later plan
        result = refresh_in(tx, day, regimes=load_regimes(folder),
                            assigner=None if Path(folder).resolve() == POLICY_DIR else _assigner(tx.conn, folder))
        store.set_meta(tx.conn, **{POLICY_HASH_KEY: current})
    return result
