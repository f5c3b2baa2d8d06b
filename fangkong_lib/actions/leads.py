"""Leads (线索核查): kept in step with their sources, assigned, verified.

Leads are derived by an action, never by a page at read time:
:func:`sync_in` runs inside every transaction that writes a source ledger
(an import of pushes, checkpoint logs, drug buyers or fever reports, and a
form saving one of their rows through :func:`~.records.save_record`), so a
source row and its lead commit together; :func:`sync_leads` runs it on its
own (after a rule change, say). Deriving twice changes nothing.

:func:`assign_lead` puts a 待分派 lead on a grid, :func:`verify_lead` closes
a lead with its outcome (已核实在本地 registers the person, or their
arrival, through the returnee workflow and derives the control plan, in the
same transaction), :func:`add_lead` records a lead from an assistance
letter or the public. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Mapping

import pandas as pd

from .. import store
from ..domain.leads import (
    SOURCE_LEDGERS, SyncPlan, data_now, lead_no_for, plan_sync, responsible_people, source_leads,
)
from ..ingest.normalize import clean_text
from ..ingest.validate import Problem, coerce_value, validate_record
from ..ledgers import LEAD_OUTCOMES, LEAD_SOURCES, PUSH_RESULTS, Field, get_ledger
from ..policy.leads import LeadPolicy, load_lead_policy
from .base import ActionError, Tx, as_date, transaction
from .returnees import arrive_in, preregister_in

__all__ = ["LEAD_SOURCE_LEDGERS", "LeadSync", "add_lead", "assign_lead", "sync_in", "sync_leads", "verify_lead"]

#: Ledgers whose writes raise leads (and so run :func:`sync_in`).
LEAD_SOURCE_LEDGERS = tuple(SOURCE_LEDGERS)
#: What :func:`sync_in` reads besides the sources (only the columns it needs).
_CONTEXT = {
    "returnees": ("id_number", "phone", "village", "grid", "landing_test_time", "landing_test_result"),
    "controls": ("id_number", "phone", "village", "grid", "measure", "start_date", "released_date"),
    "away": ("id_number", "phone", "village", "grid"),
    "tests": ("id_number", "sample_date", "result"),
    "grids": ("code", "village", "natural_village", "cadre", "member"),
    "leads": None,
}
#: Outcome that sends the person into the returnee workflow.
RETURNED = "已核实在本地"
#: Sources recorded by hand (the others come from their ledgers).
MANUAL_SOURCES = ("协查", "群众反映")


@dataclass(frozen=True)
class LeadSync:
    """What one run of :func:`sync_in` wrote."""

    inserted: int
    updated: int
    skipped: list[str]
    message: str

    def __str__(self) -> str:
        return self.message


def _frames(tx: Tx, keys) -> dict[str, pd.DataFrame]:
    """Ledgers as ``tx`` sees them: whole, or only the columns ``keys`` maps them to."""
    columns = keys if isinstance(keys, Mapping) else dict.fromkeys(keys)
    return {k: store.load_ledger(tx.conn, k, columns=cols) for k, cols in columns.items()}


def _policy(policy: LeadPolicy | None) -> LeadPolicy:
    return policy if policy is not None else load_lead_policy()


def _write(tx: Tx, plan: SyncPlan, today: date) -> tuple[int, int, list[str]]:
    ledger = get_ledger("leads")
    inserted, skipped = 0, []
    for rec in plan.new:
        record, problems = validate_record(ledger, rec, default_year=today.year, today=today)
        if problems:  # a source row stored before today's rules: named, not fatal
            skipped.append(f"{rec['lead_no']}：" + "；".join(p.sentence() for p in problems))
            continue
        inserted += tx.upsert("leads", record) == "inserted"
    updated = sum(tx.upsert("leads", change) == "updated" for change in plan.updates)
    return inserted, updated, skipped


def sync_in(tx: Tx, today: date | None = None, *, policy: LeadPolicy | None = None) -> LeadSync:
    """Bring the leads ledger in step with its sources inside ``tx`` (which
    holds the ``leads`` lock): a lead for every source row that raises one,
    stored leads updated from what their sources now record
    (:func:`fangkong_lib.domain.leads.plan_sync`)."""
    today = today or tx.today()
    policy = _policy(policy)
    ledgers = {**_frames(tx, LEAD_SOURCE_LEDGERS), **_frames(tx, _CONTEXT)}
    candidates = source_leads(ledgers, policy, tx.villages())
    plan = plan_sync(candidates, ledgers["leads"], ledgers, policy, now=data_now(today))
    inserted, updated, skipped = _write(tx, plan, today)
    parts = [f"线索：新增 {inserted} 条" + (f"，更新 {updated} 条" if updated else "")]
    if skipped:
        parts.append(f"{len(skipped)} 条来源记录无法生成线索：{skipped[0]}")
    return LeadSync(inserted, updated, skipped, "；".join(parts))


def sync_leads(db, *, user: str, policy: LeadPolicy | None = None) -> LeadSync:
    """:func:`sync_in` in a transaction of its own, audited as ``user``."""
    with transaction(db, "leads", user=user) as tx:
        return sync_in(tx, policy=policy)


# -- Forms ------------------------------------------------------------------------------------------


def _lead(tx: Tx, lead_no: str, *, open_only: bool = True) -> dict:
    lead = tx.row("leads", lead_no=clean_text(lead_no))
    if lead is None:
        raise ActionError.refused("lead_no", "线索编号", "没有这条线索", lead_no)
    if open_only and lead.get("outcome"):
        raise ActionError.about("lead_no", "线索编号",
                                f"线索 {lead_no} 已办结（{lead['outcome']}），不能再修改", lead_no)
    return lead


def _grid_of(tx: Tx, raw: Mapping, lead: Mapping | None = None) -> tuple[str | None, str | None]:
    """(village, grid) of a form: the grid must be the township's and lie in the village given."""
    grid = clean_text(raw.get("grid")) or (lead or {}).get("grid")
    village = clean_text(raw.get("village")) or (lead or {}).get("village")
    if not grid:
        if village and village not in (tx.villages() or [village]):
            raise ActionError.refused("village", "村", "不是本乡的村", village)
        return village or None, None
    cell = tx.row("grids", code=grid)
    if cell is None:
        raise ActionError.refused("grid", "网格", "不是本乡的网格编号", grid)
    if clean_text(raw.get("village")) and cell["village"] != clean_text(raw.get("village")):
        raise ActionError.refused("grid", "网格", f"属于{cell['village']}，与所填的村不符", grid)
    return cell["village"], grid


def _responsible(tx: Tx, grid: str) -> str | None:
    cell = tx.frame("grids", store.TABLES["grids"].c.code == grid)
    return responsible_people(cell).get(grid)


def assign_lead(db, lead_no: str, raw: Mapping, *, user: str) -> str:
    """Put an open lead on a grid (分派): ``raw`` has ``grid`` (required),
    optionally ``village`` (checked against the grid) and ``assignee``
    (default: the grid's township cadre and party member)."""
    with transaction(db, "leads", user=user) as tx:
        lead = _lead(tx, lead_no)
        if not clean_text(raw.get("grid")):
            raise ActionError.refused("grid", "网格", "必填项为空（分派到哪个网格）")
        village, grid = _grid_of(tx, {"grid": raw.get("grid"), "village": raw.get("village")})
        assignee = clean_text(raw.get("assignee")) or _responsible(tx, grid)
        tx.upsert("leads", {"lead_no": lead["lead_no"], "village": village, "grid": grid, "matched_by": "人工分派",
                            "assignee": assignee})
    return f"已将线索 {lead['lead_no']}（{lead['name']}）分派到 {village} {grid}" + (f"，责任人：{assignee}" if assignee else "")


def _when(raw: Mapping, key: str, label: str, default: datetime, today: date) -> datetime:
    value = raw.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    fld = Field(key, label, "datetime", not_future=True)
    parsed, reason = coerce_value(fld, value, default_year=today.year, today=today)
    if reason:
        raise ActionError.refused(key, label, reason, value)
    return parsed


def _write_back(tx: Tx, lead: Mapping, outcome: str, when: datetime, verifier: str, measure: str | None) -> None:
    """Keep the source row in step: a push's 核查结果, a buyer's or a patient's negative test."""
    source, key, idn = lead.get("source_ledger"), lead.get("source_key"), lead["id_number"]
    if source == "pushes" and outcome in PUSH_RESULTS:
        if tx.row("pushes", batch=key, id_number=idn) is not None:
            tx.upsert("pushes", {"batch": key, "id_number": idn, "result": outcome, "verified_at": when,
                                 "verifier": verifier, **({"measure": measure} if measure else {})})
    elif source in ("drug_buyers", "fever_reports") and outcome == "已检测阴性":
        rows = tx.frame(source, store.TABLES[source].c.id_number == idn)
        if rows.empty:
            return
        candidates = source_leads({source: rows}, load_lead_policy())
        match = candidates[candidates["lead_no"] == lead["lead_no"]]
        if match.empty:
            return
        row = rows.iloc[int(match.index[0])] if source == "fever_reports" else None
        if source == "drug_buyers":
            k = match.iloc[0]["source_key"]
            for r in rows.to_dict("records"):
                if f"{pd.Timestamp(r['date']):%Y-%m-%d} {r['outlet']} {r['drug']}" == k:
                    tx.upsert("drug_buyers", {"date": as_date(r["date"]), "outlet": r["outlet"], "id_number": idn,
                                              "drug": r["drug"], "test_date": when.date(), "test_result": "阴性",
                                              "status": "已核酸"})
                    break
        elif row is not None:
            tx.upsert("fever_reports", {"reported_at": pd.Timestamp(row["reported_at"]).to_pydatetime(),
                                        "id_number": idn, "test_time": when, "test_result": "阴性"})


def _into_returnees(tx: Tx, lead: Mapping, raw: Mapping, when: datetime, today: date) -> str:
    """The person of a lead verified 已核实在本地 in the returnee workflow:
    registered with the arrival (and the plan derived), or their arrival
    recorded, or nothing to do when the arrival is already there."""
    village, grid = _grid_of(tx, raw, lead)
    if not grid:
        raise ActionError.about("grid", "网格", "已核实在本地的线索要纳入返乡人员管理：请先分派到网格，或在表单中填写网格")
    # a traveller stopped at a checkpoint arrived that day; otherwise the day verified
    arrival = raw.get("actual_arrival") or (pd.Timestamp(lead["received_at"]).date() if lead["source"] == "卡口"
                                            else when.date())
    person = tx.row("returnees", id_number=lead["id_number"])
    if person is None:
        registration = {
            "name": lead["name"], "id_number": lead["id_number"], "phone": lead.get("phone") or raw.get("phone"),
            "village": village, "grid": grid, "report_date": when.date(), "report_channel": "村委",
            "risk_category": raw.get("risk_category") or lead.get("risk_category"),
            "actual_arrival": arrival, "origin": raw.get("origin"), "transport": raw.get("transport"),
            "note": f"由线索 {lead['lead_no']}（{lead['source']}）核实",
        }
        problems = []
        if not clean_text(registration["phone"]):
            problems.append(Problem("phone", "手机号", "", "必填项为空（纳入返乡台账需要手机号）"))
        if not clean_text(registration["risk_category"]):
            problems.append(Problem("risk_category", "风险类别", "", "必填项为空（据此确定管控措施）"))
        if problems:
            raise ActionError.of(problems)
        return preregister_in(tx, registration, today=today)
    if as_date(person.get("actual_arrival")) is None:
        return arrive_in(tx, lead["id_number"], {"actual_arrival": arrival}, today=today)
    return f"{person['name']} 已在返乡台账（{as_date(person['actual_arrival']).isoformat()} 到达），已关联"


def verify_lead(db, lead_no: str, raw: Mapping, *, user: str, today: date | None = None,
                now: datetime | None = None) -> str:
    """Close an open lead (核查办结) with ``raw["outcome"]`` (核查结果), at
    ``verified_at`` (default: the data's now), by ``verifier`` (default: the
    operator), with optional ``measure`` and ``note``.

    已核实在本地 puts the person into the returnee workflow in the same
    transaction: registered with ``actual_arrival`` (default: the day a
    checkpoint saw them, else the day verified), ``risk_category`` (default the lead's) and the lead's village
    and grid (or ``grid`` given here), and their control plan derived; an
    already registered person gets their arrival recorded. The source row
    follows (a push's 核查结果, a buyer's or patient's negative test).
    Returns the message to show, in time or late.
    """
    with transaction(db, "leads", "returnees", user=user) as tx:
        today = today or tx.today()
        now = now or data_now(today)
        lead = _lead(tx, lead_no)
        outcome = clean_text(raw.get("outcome"))
        if outcome not in LEAD_OUTCOMES:
            raise ActionError.refused("outcome", "核查结果",
                                      f"必填，应为 {'、'.join(LEAD_OUTCOMES)} 之一" if outcome else "必填项为空", outcome)
        when = _when(raw, "verified_at", "核查时间", now, today)
        received = pd.Timestamp(lead["received_at"]).to_pydatetime()
        if when < received:
            raise ActionError.refused("verified_at", "核查时间", f"早于线索接收时间（{received:%Y-%m-%d %H:%M}）",
                                      f"{when:%Y-%m-%d %H:%M}")
        if when > now:
            raise ActionError.refused("verified_at", "核查时间", f"晚于现在（{now:%Y-%m-%d %H:%M}）",
                                      f"{when:%Y-%m-%d %H:%M}")
        verifier = clean_text(raw.get("verifier")) or tx.user
        measure = clean_text(raw.get("measure")) or None
        extra = ""
        change = {"lead_no": lead["lead_no"], "outcome": outcome, "verified_at": when, "verifier": verifier,
                  "measure": measure, **({"note": clean_text(raw["note"])} if clean_text(raw.get("note")) else {})}
        if outcome == RETURNED:
            extra = "；" + _into_returnees(tx, lead, raw, when, today)
            person = tx.row("returnees", id_number=lead["id_number"])
            change.update(returnee=True, village=person["village"], grid=person["grid"])
            if not lead.get("grid"):
                change.update(matched_by="人工分派", assignee=_responsible(tx, person["grid"]))
        whole = {k: v for k, v in {**lead, **change}.items() if v is not None}
        record, problems = validate_record(get_ledger("leads"), whole, default_year=today.year, today=today)
        if problems:
            raise ActionError.of(problems)
        tx.upsert("leads", {k: record.get(k) for k in change})
        _write_back(tx, lead, outcome, when, verifier, measure)
        deadline = pd.Timestamp(lead["deadline"]).to_pydatetime() if lead.get("deadline") is not None else None
        if deadline is not None and when > deadline:
            late = f"逾期办结（超过时限 {(when - deadline).total_seconds() / 3600:.1f} 小时）"
        else:
            late = "按时办结"
    return f"线索 {lead['lead_no']}（{lead['name']}）已办结：{outcome}，{late}{extra}"


def add_lead(db, raw: Mapping, *, user: str, today: date | None = None, now: datetime | None = None,
             policy: LeadPolicy | None = None) -> str:
    """Record a lead by hand (协查 or 群众反映): ``raw`` has ``source``,
    ``name``, ``id_number``, optionally ``phone``, ``risk_category``,
    ``detail``, ``received_at`` (default: the data's now) and ``grid``
    (else matched like every lead). Returns the message with its number."""
    with transaction(db, "leads", user=user) as tx:
        today = today or tx.today()
        now = now or data_now(today)
        source = clean_text(raw.get("source"))
        if source not in MANUAL_SOURCES:
            raise ActionError.refused("source", "来源", f"手工登记的线索来源应为 {'、'.join(MANUAL_SOURCES)} 之一",
                                      source)
        received = _when(raw, "received_at", "接收时间", now, today)
        fields = {k: raw.get(k) for k in ("name", "id_number", "phone", "risk_category", "detail") if k in raw}
        clean = tx.clean("leads", {"lead_no": "-", "source": source, "received_at": received, **fields},
                         villages=None, today=today, prefix="")
        village, grid = _grid_of(tx, raw)
        candidate = pd.DataFrame([{
            "lead_no": lead_no_for(source, received, "manual", clean["id_number"], received.isoformat()),
            "source": source, "received_at": pd.Timestamp(received), "name": clean["name"],
            "id_number": clean["id_number"], "phone": clean.get("phone"), "risk_category": clean.get("risk_category"),
            "detail": clean.get("detail"), "source_ledger": None, "source_key": None, "src_village": village,
            "outcome": None, "verified_at": pd.NaT, "verifier": None, "measure": None,
        }])
        ledgers = _frames(tx, _CONTEXT)
        plan = plan_sync(candidate, ledgers["leads"], ledgers, _policy(policy))
        if not plan.new:
            raise ActionError.about("received_at", "接收时间", "同一时间已登记过此人的这条线索")
        rec = plan.new[0]
        if grid:
            rec.update(village=village, grid=grid, matched_by="人工分派", assignee=_responsible(tx, grid))
        tx.upsert("leads", validate_record(get_ledger("leads"), rec, today=today)[0])
    where = f"{rec['village']} {rec['grid']}" if rec.get("grid") else "待分派"
    closed = f"，{rec['outcome']}" if rec.get("outcome") else ""
    return f"已登记线索 {rec['lead_no']}（{rec['name']}，{where}），截止 {rec['deadline']:%m-%d %H:%M}{closed}"
