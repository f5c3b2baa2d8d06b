"""The returnee workflow (gates 1-3): keeping control plans in step with the
data and the rules, and recording what staff did.

- :func:`refresh_plans` recomputes the plan (管控方案) of every arrived
  returnee from the regime files and writes only what changed to the
  ``controls`` ledger, each change audited. It runs after a returnee or
  arrival is saved, and through :func:`ensure_plans_current` whenever the
  policy files changed since the last run (a hash kept in the ``meta`` table).
- :class:`TeamAssigner` names the 五包一 team of a controlled person from the
  grid's responsible people; the roles and where each comes from are data
  (``policy/five_in_one.toml``).
- ``record_*`` functions are what the returnee page's forms do: validate like
  an import (:meth:`Dataset.save_record`), check that the step makes sense for
  the person, write with audit, and keep plans in step. They return an
  :class:`Outcome` and never raise for a user's mistake; nothing is written
  when there is a problem.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

import pandas as pd

from .. import store
from ..domain.overview import test_schedule
from ..domain.plans import Plan, make_plan
from ..domain.returnees import UNASSIGNED
from ..ledgers import Field, get_ledger
from ..ingest.normalize import clean_text
from ..policy import (DEFAULT_JURISDICTION, POLICY_DIR, PolicyError, Regime, fever_threshold, five_in_one_roles,
                      forget_loaded_regimes, load_regimes)
from ..ingest.validate import Problem, coerce_value, validate_record

if TYPE_CHECKING:  # pragma: no cover
    from ..dataset import Dataset

#: Audit user of changes nobody typed (plans recomputed after a rule change).
SYSTEM_USER = "系统（管控方案自动更新）"
#: Meta key holding the hash of the policy files the plans were computed with.
POLICY_HASH_KEY = "policy_hash"
#: Environment variable forcing one regime (by key) whatever the date.
FORCED_REGIME_ENV = "FANGKONG_REGIME"
#: Plausible body temperatures; outside is a typing error, not a reading.
TEMPERATURE_RANGE = (34.0, 43.0)

_PLAN_FIELDS = ("measure", "category", "start_date", "end_date", "test_dates", "regime", "status")
_IDENTITY_FIELDS = ("name", "sex", "phone", "village", "natural_village", "grid", "origin")


def forced_regime() -> str | None:
    """The regime forced by configuration (``FANGKONG_REGIME``), if any."""
    return os.environ.get(FORCED_REGIME_ENV) or None


def policy_hash(folder: Path | str = POLICY_DIR, *, forced: str | None = None) -> str:
    """A fingerprint of the rules plans are computed with: every ``*.toml``
    file of the policy folder (names and bytes) and the forced regime."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.toml")):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    digest.update(f"forced={forced or ''}".encode("utf-8"))
    return digest.hexdigest()


# -- 五包一 teams ------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSource:
    """Where one 五包一 role's person comes from (see five_in_one.toml)."""

    role: str
    kind: str  # "grid", "natural_village" or "staff"
    column: str  # a column of the grid / natural-village row, or a staff level
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
        kinds = [k for k in ("grid", "natural_village", "staff") if k in spec]
        if len(kinds) != 1:
            raise PolicyError(f"five_in_one.toml：角色 {role} 应只写 grid、natural_village、staff 之一")
        match = spec.get("match", "village")
        if match not in ("village", "area"):
            raise PolicyError(f"five_in_one.toml：角色 {role} 的 match 应为 village 或 area")
        out.append(TeamSource(role, kinds[0], str(spec[kinds[0]]), match))
    return tuple(out)


class TeamAssigner:
    """Names the 五包一 team for a person living in a grid cell.

    Built once from the grids, natural villages, villages and staff ledgers;
    calling it with a grid code (and the person's village) returns one name
    per role, :data:`UNASSIGNED` where nobody is found.
    """

    def __init__(self, grids: pd.DataFrame, naturals: pd.DataFrame, villages: pd.DataFrame,
                 staff: pd.DataFrame, sources: tuple[TeamSource, ...] | None = None):
        self.sources = sources if sources is not None else team_sources()
        self._grids = {row["code"]: row for row in grids.to_dict("records")}
        self._naturals = {(row["village"], row["name"]): row for row in naturals.to_dict("records")}
        self._area = dict(zip(villages["name"], villages.get("area", pd.Series(dtype=object))))
        self._staff: dict[tuple, str] = {}
        for row in staff.sort_values("staff_no").to_dict("records"):
            for match in ("village", "area"):
                if row.get(match):
                    self._staff.setdefault((row["level"], match, row[match]), row["name"])

    @property
    def roles(self) -> list[str]:
        return [s.role for s in self.sources]

    def __call__(self, grid: str | None, village: str | None = None,
                 natural_village: str | None = None) -> list[str]:
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
            names.append(clean_text(name) or UNASSIGNED)
        return names


def _assigner(engine, folder: Path | str = POLICY_DIR) -> TeamAssigner:
    return TeamAssigner(
        store.load_ledger(engine, "grids", columns=["code", "village", "natural_village", "member", "cadre"]),
        store.load_ledger(engine, "natural_villages", columns=["code", "name", "village", "cadre"]),
        store.load_ledger(engine, "villages", columns=["name", "area"]),
        store.load_ledger(engine, "staff"),
        team_sources(folder),
    )


# -- Plans ---------------------------------------------------------------------------


@dataclass
class PlanRefresh:
    """What :func:`refresh_plans` did."""

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


def _day(value) -> date | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    return value


def _same(fld, a, b) -> bool:
    return store.to_db_value(fld, a) == store.to_db_value(fld, b)


def plan_for(returnee: Mapping, *, regimes: tuple[Regime, ...] | None = None,
             forced: str | None = None, jurisdiction: str = DEFAULT_JURISDICTION) -> Plan:
    """The plan of one arrived returnee (a returnees row)."""
    return make_plan(returnee["risk_category"], _day(returnee["actual_arrival"]), _day(returnee.get("left_risk_date")),
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


def refresh_plans(
    engine,
    user: str,
    day: date | None = None,
    *,
    ids: Iterable[str] | None = None,
    regimes: tuple[Regime, ...] | None = None,
    forced: str | None = None,
    jurisdiction: str = DEFAULT_JURISDICTION,
    assigner: TeamAssigner | None = None,
) -> PlanRefresh:
    """Recompute the plans of arrived returnees and store what changed.

    For every returnee with an actual arrival (or only those in ``ids``), the
    plan follows from the regime in force (:func:`make_plan`, 填平补齐), then
    the ``controls`` row is inserted, or updated in the fields that differ
    (measure, dates, test dates, regime, status and the person's details);
    each change goes through :func:`store.upsert_row` and is audited as
    ``user``. What people decided is kept: the 五包一 team once named, the
    actual release date, and a home judged unfit (居家条件不达标) turns home
    isolation into central isolation. A person whose plan becomes 无 (after a
    rule change or a corrected category) is released on ``day``.

    ``day`` (for 状态) defaults to the database's ``today`` meta, else the
    real date. ``forced`` defaults to :func:`forced_regime`.
    """
    meta = store.get_meta(engine)
    day = day or (date.fromisoformat(meta["today"]) if meta.get("today") else date.today())
    forced = forced if forced is not None else forced_regime()
    regimes = regimes if regimes is not None else load_regimes()
    returnees = store.load_ledger(engine, "returnees")
    controls = store.load_ledger(engine, "controls")
    wanted = None if ids is None else set(ids)
    if wanted is not None:
        returnees = returnees[returnees["id_number"].isin(wanted)]
        controls = controls[controls["id_number"].isin(wanted)]
    arrived = returnees[returnees["actual_arrival"].notna()]
    existing = {row["id_number"]: row for row in controls.to_dict("records")}
    if assigner is None and len(arrived):
        assigner = _assigner(engine)
    ledger = get_ledger("controls")
    result = PlanRefresh()
    for person in arrived.to_dict("records"):
        idn = person["id_number"]
        try:
            plan = plan_for(person, regimes=regimes, forced=forced, jurisdiction=jurisdiction)
        except PolicyError as exc:
            result.errors.append((idn, str(exc)))
            continue
        old = existing.get(idn)
        if not plan.controlled:
            if old is None:
                continue
            target = {"measure": "无", "test_dates": [], "regime": plan.regime,
                      "category": person["risk_category"], "status": "已解除",
                      "released_date": _day(old.get("released_date")) or day}
        else:
            measure = plan.measure
            if old is not None and old.get("home_ok") == "不达标":
                measure = _home_not_fit(measure)
            arrival = _day(person["actual_arrival"])
            released = _day(old.get("released_date")) if old is not None else None
            target = {
                **{k: person.get(k) for k in _IDENTITY_FIELDS if not _blank(person.get(k))},
                "measure": measure,
                "category": person["risk_category"],
                "start_date": plan.start,
                "end_date": plan.end,
                "test_dates": [d.isoformat() for d in plan.test_dates],
                "regime": plan.regime,
                "status": control_status(arrival, released, day),
            }
            has_team = old is not None and clean_text(old.get("team") or "").strip(";")
            if not has_team:
                target["team"] = assigner(person.get("grid"), person.get("village"), person.get("natural_village"))
            if old is None:
                target["found_via"] = "报备" if _day(person.get("report_date")) is not None else "排查"
                target["id_number"] = idn
                store.upsert_row(engine, "controls", target, user=user)
                result.inserted += 1
                result.changes.append((idn, "inserted", tuple(sorted(target))))
                continue
        changed = {k: v for k, v in target.items() if not _same(ledger[k], old.get(k), v)}
        if not changed:
            result.unchanged += 1
            continue
        store.upsert_row(engine, "controls", {"id_number": idn, **changed}, user=user)
        result.updated += 1
        result.changes.append((idn, "updated", tuple(sorted(changed))))
    return result


def ensure_plans_current(engine, *, user: str = SYSTEM_USER, day: date | None = None,
                         folder: Path | str = POLICY_DIR) -> PlanRefresh | None:
    """Refresh every plan if the policy files (or the forced regime) changed
    since plans were last computed; returns what was done, or None when the
    plans were current. The new hash is stored only after a full refresh."""
    current = policy_hash(folder, forced=forced_regime())
    if store.get_meta(engine).get(POLICY_HASH_KEY) == current:
        return None
    forget_loaded_regimes()  # the files changed: read them again, here and for every later plan
    result = refresh_plans(engine, user, day, regimes=load_regimes(folder),
                           assigner=None if Path(folder).resolve() == POLICY_DIR else _assigner(engine, folder))
    store.set_meta(engine, **{POLICY_HASH_KEY: current})
    return result


# -- Recording what staff did (the page's forms) -------------------------------------


@dataclass
class Outcome:
    """Result of a form: ``ok`` and a message, or the problems (nothing written)."""

    ok: bool
    message: str = ""
    problems: list[Problem] = field(default_factory=list)
    plans: PlanRefresh | None = None

    @classmethod
    def refused(cls, field_key: str, label: str, reason: str, value="") -> "Outcome":
        return cls(False, problems=[Problem(field_key, label, str(value or ""), reason)])

    def sentences(self) -> list[str]:
        return [p.sentence() for p in self.problems]


def _row(frame: pd.DataFrame, id_number: str) -> dict | None:
    rows = frame[frame["id_number"] == id_number]
    return None if rows.empty else rows.iloc[-1].to_dict()


def _blank(value) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and value != value) or \
        (isinstance(value, str) and not clean_text(value))


def _present(raw: Mapping) -> dict:
    """The non-blank values of a form (blank optional fields leave what is stored)."""
    return {k: v for k, v in raw.items() if not _blank(v)}


def _check(ledger_key: str, raw: Mapping, data) -> tuple[dict, list[Problem]]:
    return validate_record(get_ledger(ledger_key), raw, villages=data.village_names,
                           default_year=data.today.year, today=data.today)


def _date_of(data, raw: Mapping, key: str, label: str) -> tuple[date | None, list[Problem]]:
    value, reason = coerce_value(Field(key, label, "date"), raw.get(key), default_year=data.today.year)
    if reason:
        return None, [Problem(key, label, str(raw.get(key) or ""), reason)]
    if value is None:
        return None, [Problem(key, label, "", "必填项为空")]
    if value > data.today:
        return None, [Problem(key, label, value.isoformat(), f"不能晚于今天（{data.today.isoformat()}）")]
    return value, []


def _keep(row: Mapping, ledger_key: str) -> dict:
    """The required fields of a stored row, for an update through validation."""
    ledger = get_ledger(ledger_key)
    return {f.key: row.get(f.key) for f in ledger.fields if f.required and f.key in row}


def _active_control(data, id_number: str, on: date, label: str) -> tuple[dict | None, Outcome | None]:
    control = _row(data.ledgers["controls"], id_number)
    if control is None or control.get("measure") in (None, "无"):
        return None, Outcome.refused("id_number", "人员", "该人员没有管控记录，无需录入")
    start, released = _day(control["start_date"]), _day(control.get("released_date"))
    if released is not None and released <= on:
        return None, Outcome.refused("date", label, f"该人员已于 {released.isoformat()} 解除管控", on.isoformat())
    if on < start:
        return None, Outcome.refused("date", label, f"早于管控开始日期（{start.isoformat()}）", on.isoformat())
    # After 应解除日期 and before the release, readings and late tests still count.
    return control, None


def record_test(data: Dataset, id_number: str, raw: Mapping, *, user: str) -> Outcome:
    """A nucleic-acid sample (核酸) of a person under control: ``raw`` has
    ``sample_date``, ``result`` (阴性/阳性/待出), optional ``method``,
    ``sampler`` and ``note``."""
    on, problems = _date_of(data, raw, "sample_date", "采样日期")
    if problems:
        return Outcome(False, problems=problems)
    control, refusal = _active_control(data, id_number, on, "采样日期")
    if refusal:
        return refusal
    record = {"id_number": id_number, "name": control["name"], "village": control["village"],
              "sample_date": on, **_present({k: raw.get(k) for k in ("method", "result", "sampler", "note")})}
    action, problems = data.save_record("tests", record, user=user)
    if problems:
        return Outcome(False, problems=problems)
    result = record.get("result") or "结果待出"
    alarm = "，阳性！请立即按阳性处置流程上报" if result == "阳性" else ""
    return Outcome(True, f"已记录 {control['name']} {on.isoformat()} 核酸采样（{result}）{alarm}")


def record_temperature(data: Dataset, id_number: str, raw: Mapping, *, user: str,
                       regimes: tuple[Regime, ...] | None = None) -> Outcome:
    """A temperature reading (体温): ``raw`` has ``date``, ``slot`` (上午/下午),
    ``temperature`` and optional ``symptoms``. The other slot of the day is
    left as it is."""
    from ..domain.alerts import SLOTS

    on, problems = _date_of(data, raw, "date", "日期")
    if problems:
        return Outcome(False, problems=problems)
    slot = clean_text(raw.get("slot"))
    if slot not in SLOTS:
        return Outcome.refused("slot", "时段", f"应为 {'、'.join(SLOTS)} 之一", slot)
    column = SLOTS[slot]
    value, reason = coerce_value(get_ledger("daily_checks")[column], raw.get("temperature"))
    if reason or value is None:
        return Outcome.refused("temperature", "体温", reason or "必填项为空", raw.get("temperature"))
    lo, hi = TEMPERATURE_RANGE
    if not lo <= value <= hi:
        return Outcome.refused("temperature", "体温", f"应在 {lo:.1f} 至 {hi:.1f} ℃ 之间，请核对",
                               raw.get("temperature"))
    control, refusal = _active_control(data, id_number, on, "日期")
    if refusal:
        return refusal
    by_key = {r.key: r for r in (regimes if regimes is not None else load_regimes())}
    regime = by_key.get(control.get("regime"))
    threshold = regime.fever_threshold if regime else fever_threshold(on)
    symptoms = clean_text(raw.get("symptoms")) or ("发热" if value >= threshold else "")
    record = {"date": on, "id_number": id_number, "name": control["name"], "village": control["village"],
              "day_no": (on - _day(control["start_date"])).days + 1, column: value,
              **({"symptoms": symptoms} if symptoms else {})}
    action, problems = data.save_record("daily_checks", record, user=user)
    if problems:
        return Outcome(False, problems=problems)
    fever = f"，≥{threshold:.1f}℃ 发热，请立即上报并安排核酸" if value >= threshold else ""
    return Outcome(True, f"已记录 {control['name']} {on.isoformat()} {slot}体温 {value:.1f}℃{fever}")


def record_release(data: Dataset, id_number: str, raw: Mapping, *, user: str) -> Outcome:
    """Release (解除管控) on ``raw["released_date"]``: not before 应解除日期,
    with every planned test sampled and no positive result."""
    on, problems = _date_of(data, raw, "released_date", "解除日期")
    if problems:
        return Outcome(False, problems=problems)
    control, refusal = _active_control(data, id_number, on, "解除日期")
    if refusal:
        return refusal
    end = _day(control["end_date"])
    if on < end:
        return Outcome.refused("released_date", "解除日期", f"未到应解除日期（{end.isoformat()}），不能提前解除",
                               on.isoformat())
    person = pd.DataFrame([control])
    tests = data.ledgers["tests"]
    schedule = test_schedule(person, tests, on)
    missing = schedule[schedule["state"] != "done"]
    if len(missing):
        days = "、".join(d.strftime("%m-%d") for d in missing["planned"])
        return Outcome.refused("released_date", "解除日期", f"计划核酸未完成（{days}），完成后才能解除", on.isoformat())
    mine = tests[tests["id_number"] == id_number]
    if (mine["result"] == "阳性").any():
        return Outcome.refused("released_date", "解除日期", "有阳性核酸结果，不能解除，请按阳性处置流程上报")
    record = {**_keep(control, "controls"), "released_date": on, "status": "已解除"}
    action, problems = data.save_record("controls", record, user=user)
    if problems:
        return Outcome(False, problems=problems)
    return Outcome(True, f"已解除 {control['name']} 的管控（{on.isoformat()}）")


def _link_away(data, id_number: str, values: Mapping) -> tuple[dict | None, list[Problem]]:
    """The update of the away ledger's row for a returnee (gate 1 → 2), validated."""
    row = _row(data.ledgers["away"], id_number)
    if row is None:
        return None, []
    record = {**_keep(row, "away"), **values}
    cleaned, problems = _check("away", record, data)
    return record, problems


def _in_away_ledger(problems: list[Problem]) -> list[Problem]:
    return [Problem(p.field, f"在外人员台账·{p.label}", p.value, p.reason) for p in problems]


def _plan_message(data, id_number: str, plans: PlanRefresh | None) -> str:
    if plans and plans.errors:
        return "；无法计算管控方案：" + plans.errors[0][1]
    control = _row(data.ledgers["controls"], id_number)
    if control is None or control.get("measure") in (None, "无") or control.get("status") == "已解除":
        return "；按现行政策无需管控"
    tests = str(control.get("test_dates") or "")
    n = len([t for t in tests.split(";") if t])
    return (f"；管控措施：{control['measure']}（{_day(control['start_date']).isoformat()} 至 "
            f"{_day(control['end_date']).isoformat()}，核酸 {n} 次）")


def record_preregistration(data: Dataset, raw: Mapping, *, user: str, away_id: str = "") -> Outcome:
    """A pre-registration (返乡报备), new or corrected.

    With ``away_id`` the person is taken from the away ledger (gate 1) and
    that row is linked: 有返乡意向, 预计返乡时间 (and 已返乡 when an actual
    arrival is given). Without it ``raw`` carries name, ID, phone, village,
    grid. ``raw`` also has risk_category, expected_arrival and optionally
    actual_arrival, left_risk_date, origin, transport, report_channel,
    test48_result, health_code, note. 报备日期 defaults to today, 录入人 is
    the operator. With an actual arrival the plan is made at once.
    """
    raw = _present(raw)
    if away_id:
        away = _row(data.ledgers["away"], away_id)
        if away is None:
            return Outcome.refused("away_id", "在外人员", "在外人员台账中没有此人")
        person = {k: away.get(k) for k in ("name", "sex", "id_number", "phone", "village", "natural_village", "grid")}
        raw = {**raw, **_present(person)}
    raw.setdefault("report_date", data.today)
    raw["entered_by"] = user
    grid = clean_text(raw.get("grid"))
    if grid:
        cells = data.ledgers["grids"]
        cell = cells[cells["code"] == grid]
        if cell.empty:
            return Outcome.refused("grid", "网格", "不是本乡的网格编号", grid)
        if raw.get("village") and cell.iloc[0]["village"] != raw.get("village"):
            return Outcome.refused("grid", "网格", f"属于{cell.iloc[0]['village']}，与所填的村不符", grid)
        raw.setdefault("natural_village", cell.iloc[0]["natural_village"])
    record, problems = _check("returnees", raw, data)
    if problems:
        return Outcome(False, problems=problems)
    report, expected, actual = record.get("report_date"), record.get("expected_arrival"), record.get("actual_arrival")
    if report and report > data.today:
        return Outcome.refused("report_date", "报备日期", f"不能晚于今天（{data.today.isoformat()}）",
                               report.isoformat())
    if actual and actual > data.today:
        return Outcome.refused("actual_arrival", "实际到达时间", "还没有到的人请填预计到达时间", actual.isoformat())
    idn = record["id_number"]
    link = {"intends_return": True}
    if expected:
        link["expected_return"] = expected
    if actual:
        link["returned"] = True
    away_record, problems = _link_away(data, idn, link)
    if problems:
        return Outcome(False, problems=_in_away_ledger(problems))
    action, problems = data.save_record("returnees", raw, user=user)
    if problems:
        return Outcome(False, problems=problems)
    notes = []
    if away_record is not None:
        data.save_record("away", away_record, user=user)
        notes.append("已关联在外人员台账")
    target = actual or expected
    if report and target and (target - report).days < 3:
        notes.append("注意：未提前 3 天报备")
    # Arrived (now or before): the plan follows the registration at once,
    # e.g. after a corrected risk category.
    arrived = _day((_row(data.ledgers["returnees"], idn) or {}).get("actual_arrival"))
    plans = None
    if arrived is not None:
        plans = refresh_plans(data.engine, user, data.today, ids=[idn])
        data.reload("controls")
    verb = {"inserted": "已登记报备", "updated": "已更新报备", "unchanged": "报备信息无变化"}[action]
    message = f"{verb}：{record['name']}" + ("；" + "；".join(notes) if notes else "")
    if arrived is not None:
        message += _plan_message(data, idn, plans)
    return Outcome(True, message, plans=plans)


def record_arrival(data: Dataset, id_number: str, raw: Mapping, *, user: str) -> Outcome:
    """The arrival (到达) of a pre-registered person: ``raw`` has
    ``actual_arrival`` and optionally ``landing_test_time``,
    ``landing_test_result``, ``health_code``. Links the away ledger
    (已返乡) and makes the control plan at once."""
    person = _row(data.ledgers["returnees"], id_number)
    if person is None:
        return Outcome.refused("id_number", "人员", "没有此人的报备记录，请先登记报备")
    if _day(person.get("actual_arrival")) is not None:
        return Outcome.refused("actual_arrival", "实际到达时间",
                               f"已于 {_day(person['actual_arrival']).isoformat()} 登记到达")
    on, problems = _date_of(data, raw, "actual_arrival", "实际到达时间")
    if problems:
        return Outcome(False, problems=problems)
    fields = _present({k: raw.get(k) for k in ("landing_test_time", "landing_test_result", "health_code")})
    record = {**_keep(person, "returnees"), "actual_arrival": on, **fields}
    away_record, problems = _link_away(data, id_number, {"returned": True})
    if problems:
        return Outcome(False, problems=_in_away_ledger(problems))
    action, problems = data.save_record("returnees", record, user=user)
    if problems:
        return Outcome(False, problems=problems)
    if away_record is not None:
        data.save_record("away", away_record, user=user)
    plans = refresh_plans(data.engine, user, data.today, ids=[id_number])
    data.reload("controls")
    return Outcome(True, f"已登记 {person['name']} {on.isoformat()} 到达" + _plan_message(data, id_number, plans),
                   plans=plans)
