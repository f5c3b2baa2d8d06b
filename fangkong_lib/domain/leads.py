"""Leads (线索): a person to verify, from outside the grid system, closed
within a deadline (gates 5 and 6, big-data push verification).

A lead comes from a checkpoint (卡口: someone not pre-registered heading into
the township), a medical sentinel (哨点购药: a four-class drug purchase;
哨点发热: a clinic's fever report), a big-data push (大数据推送), an
assistance letter (协查) or the public (群众反映). It is matched to a village
and a grid (:func:`match_people`: the returnee, control and away ledgers, by
ID first and then by phone), verified by the grid's people and closed with
an outcome (核查结果) before its deadline (``policy/leads.toml``).

Leads are derived from their source ledgers by an action
(:func:`fangkong_lib.actions.leads.sync_in`, run by every write of those
ledgers and by their import), never by a page at read time: this module
says what the leads should be (:func:`source_leads`, :func:`plan_sync`) and
what state they are in at a moment (:func:`lead_status`). Pure functions:
frames in, new frames out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..ledgers import LEAD_SOURCES, get_ledger
from ..policy.leads import LeadPolicy

__all__ = [
    "CLOSED_STATUSES", "KPI_LABELS", "LEAD_STATUSES", "OPEN_STATUSES", "SOURCE_LEDGERS", "SYSTEM_VERIFIER",
    "ACT_COLUMNS", "SyncPlan", "data_now", "lead_moment", "filter_leads", "lead_deadlines", "lead_no_for", "lead_status", "leads_by_source",
    "leads_to_act", "match_people", "person_leads", "plan_sync", "responsible_people", "source_leads",
    "under_control",
]

#: Source ledger → the source its rows raise.
SOURCE_LEDGERS = {"pushes": "大数据推送", "checkpoint_logs": "卡口", "drug_buyers": "哨点购药",
                  "fever_reports": "哨点发热"}
#: Prefix of a lead number per source (线索编号: prefix, day received, a hash of the source row).
PREFIXES = dict(zip(LEAD_SOURCES, ("KK", "GY", "FR", "TS", "XC", "QZ")))
UNASSIGNED, PENDING, OVERDUE, DONE, DONE_LATE = "待分派", "待核查", "已逾期", "已办结", "逾期办结"
LEAD_STATUSES = (UNASSIGNED, PENDING, OVERDUE, DONE, DONE_LATE)
OPEN_STATUSES = (UNASSIGNED, PENDING, OVERDUE)
CLOSED_STATUSES = (DONE, DONE_LATE)
#: Verifier of a lead closed by the data (already under control, a negative test recorded).
SYSTEM_VERIFIER = "系统"
#: A register that gives only the day (drug buyers, tests) counts from noon.
DAY_ONLY_TIME = time(12, 0)
#: Checkpoint outcomes that send the traveller away: no lead.
TURNED_BACK = ("劝返",)

KPI_LABELS = {
    "total": "线索总数",
    "open": "未办结",
    OVERDUE: "已逾期",
    UNASSIGNED: "待分派",
    "due_today": "今日到期",
    DONE: "按时办结",
    DONE_LATE: "逾期办结",
    **{f"src:{s}": s for s in LEAD_SOURCES},
    **{f"late:{s}": f"{s}逾期" for s in LEAD_SOURCES},
}


def data_now(today: date, clock: datetime | None = None) -> datetime:
    """The data's "now": the wall clock when the data's today is the
    calendar's, else the end of the data's today (23:59; 2022-04-07 23:59 for
    the demo), so that a past day is seen as it ended."""
    clock = clock or datetime.now()
    if today == clock.date():
        return clock.replace(second=0, microsecond=0)
    return datetime.combine(today, time(23, 59))


def lead_moment(day: date, today: date, clock: datetime | None = None) -> datetime:
    """The moment a page dated ``day`` sees the leads at: the data's now on
    the data's today, the end of a past day, the start of a future one."""
    if day == today:
        return data_now(today, clock)
    return datetime.combine(day, time(23, 59) if day < today else time(0, 0))


#: Columns of the lists of leads to act on (overview, briefing), with Chinese headers.
ACT_COLUMNS = {"source": "来源", "name": "姓名", "village": "村", "grid": "网格", "assignee": "责任人（须处置）",
               "received_at": "接收时间", "deadline": "截止时间", "status": "状态"}


def lead_no_for(source: str, received: datetime, *parts) -> str:
    """The lead number of a source row: stable, so that deriving the leads
    again finds the same ones (no ID number in it)."""
    digest = hashlib.sha1("|".join([source, *(str(p) for p in parts)]).encode("utf-8")).hexdigest()
    return f"{PREFIXES[source]}{pd.Timestamp(received):%y%m%d}-{digest[:6].upper()}"


def _ts(value) -> pd.Timestamp | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return pd.Timestamp(value)


def _noon(day) -> pd.Timestamp:
    return pd.Timestamp(datetime.combine(pd.Timestamp(day).date(), DAY_ONLY_TIME))


def _blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT or \
        (isinstance(value, str) and not value.strip())


# -- Who a lead is about: matching ----------------------------------------------------------


def _people_index(ledgers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every known person's village and grid: returnees, controls, then people
    away (rows with a grid before rows without)."""
    parts = []
    for rank, key in enumerate(("returnees", "controls", "away")):
        frame = ledgers.get(key)
        if frame is None or frame.empty:
            continue
        part = frame.reindex(columns=["id_number", "phone", "village", "grid"]).copy()
        part["rank"] = rank
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=["id_number", "phone", "village", "grid", "rank"])
    people = pd.concat(parts, ignore_index=True)
    people = people[people["village"].notna() & (people["village"].astype(str) != "")]
    people = people.assign(no_grid=people["grid"].isna() | (people["grid"].astype(str) == ""))
    return people.sort_values(["no_grid", "rank"], kind="stable")


def match_people(people: pd.DataFrame, ledgers: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Village, grid and how they were found (``matched_by``: 身份证号 or
    手机号) for each row of ``people`` (``id_number``, ``phone``), from the
    returnee, control and away ledgers: by ID first, then by phone. Rows found
    nowhere get None. Indexed like ``people``."""
    known = _people_index(ledgers)
    by_id = known.drop_duplicates("id_number").set_index("id_number")
    phones = known[known["phone"].notna()].drop_duplicates("phone").set_index("phone")
    out = pd.DataFrame(index=people.index, columns=["village", "grid", "matched_by"], dtype=object)
    ids = people["id_number"]
    hit = ids.isin(by_id.index)
    out.loc[hit, "village"] = by_id.loc[ids[hit], "village"].to_numpy()
    out.loc[hit, "grid"] = by_id.loc[ids[hit], "grid"].to_numpy()
    out.loc[hit, "matched_by"] = "身份证号"
    phone = people["phone"] if "phone" in people else pd.Series(None, index=people.index, dtype=object)
    by_phone = ~hit & phone.notna() & phone.isin(phones.index)
    out.loc[by_phone, "village"] = phones.loc[phone[by_phone], "village"].to_numpy()
    out.loc[by_phone, "grid"] = phones.loc[phone[by_phone], "grid"].to_numpy()
    out.loc[by_phone, "matched_by"] = "手机号"
    out["grid"] = out["grid"].where(out["grid"].notna() & (out["grid"].astype(str) != ""), None)
    return out.astype(object).where(out.notna(), None)


def responsible_people(grids: pd.DataFrame) -> pd.Series:
    """Who acts on a grid's leads, by grid code: its township cadre
    (下沉乡干部) and its party member (联户党员)."""
    if grids.empty:
        return pd.Series(dtype=object)
    labels = get_ledger("grids").labels
    text = [
        "、".join(f"{labels[k]}{v}" for k, v in (("cadre", c), ("member", m)) if not _blank(v))
        for c, m in zip(grids["cadre"], grids["member"])
    ]
    return pd.Series(text, index=grids["code"].to_numpy(), dtype=object)


def under_control(controls: pd.DataFrame, id_numbers: pd.Series, when: pd.Series) -> np.ndarray:
    """Whether each person was under control (a control row with a measure,
    started and not released) on the day of ``when``."""
    if controls.empty or not len(id_numbers):
        return np.zeros(len(id_numbers), dtype=bool)
    active = controls[controls["measure"].notna() & (controls["measure"] != "无")]
    active = active.drop_duplicates("id_number", keep="last").set_index("id_number")
    found = id_numbers.isin(active.index).to_numpy()
    out = np.zeros(len(id_numbers), dtype=bool)
    if not found.any():
        return out
    rows = active.loc[id_numbers[found].to_numpy()]
    day = pd.to_datetime(pd.Series(when.to_numpy()[found])).dt.normalize().to_numpy()
    start = pd.to_datetime(rows["start_date"]).to_numpy()
    released = pd.to_datetime(rows["released_date"]).to_numpy()
    ok = (start <= day) & (pd.isna(released) | (released > day))
    out[np.flatnonzero(found)] = ok
    return out


# -- What the sources say ---------------------------------------------------------------------

_CANDIDATE_COLUMNS = ["lead_no", "source", "received_at", "name", "id_number", "phone", "risk_category",
                      "detail", "source_ledger", "source_key", "src_village", "outcome", "verified_at",
                      "verifier", "measure"]


def _recent_negative(ledgers: Mapping[str, pd.DataFrame], ids: pd.Series, when: pd.Series,
                     hours: float) -> np.ndarray:
    """Whether each person had a negative test within ``hours`` before
    ``when`` (tests ledger, arrival tests, earlier drug-buyer follow-ups)."""
    if hours <= 0 or not len(ids):
        return np.zeros(len(ids), dtype=bool)
    samples = []
    tests = ledgers.get("tests")
    if tests is not None and len(tests):
        neg = tests[tests["result"] == "阴性"]
        samples.append(pd.DataFrame({"id_number": neg["id_number"], "at": pd.to_datetime(neg["sample_date"])}))
    returnees = ledgers.get("returnees")
    if returnees is not None and len(returnees):
        neg = returnees[returnees["landing_test_result"] == "阴性"]
        samples.append(pd.DataFrame({"id_number": neg["id_number"],
                                     "at": pd.to_datetime(neg["landing_test_time"])}))
    samples = [s for s in samples if len(s)]
    if not samples:
        return np.zeros(len(ids), dtype=bool)
    found = pd.concat(samples, ignore_index=True).dropna()
    asked = pd.DataFrame({"id_number": ids.to_numpy(), "when": pd.to_datetime(pd.Series(when.to_numpy())),
                          "i": np.arange(len(ids))})
    pairs = asked.merge(found, on="id_number")
    # a test recorded by day only counts for the whole day
    ok = pairs[(pairs["at"] <= pairs["when"]) &
               (pairs["at"] >= pairs["when"].dt.normalize() - pd.Timedelta(hours=hours))]
    out = np.zeros(len(ids), dtype=bool)
    out[ok["i"].unique()] = True
    return out


def source_leads(ledgers: Mapping[str, pd.DataFrame], policy: LeadPolicy,
                 villages: Iterable[str] | None = None) -> pd.DataFrame:
    """The leads the source ledgers raise, one row each, with what the source
    row already says of its outcome (a push verified in its own ledger, a
    buyer's or a patient's negative test).

    - every push (大数据推送);
    - every checkpoint row of someone not pre-registered heading into the
      township (destination one of ``villages``; not turned back);
    - every four-class drug purchase, unless the buyer had a negative test
      within the policy's limit before it;
    - every clinic fever report.
    """
    parts = []
    pushes = ledgers.get("pushes")
    if pushes is not None and len(pushes):
        p = pushes
        done = p["result"].notna() & (p["result"] != "待核查")
        parts.append(pd.DataFrame({
            "source": "大数据推送", "received_at": pd.to_datetime(p["pushed_at"]), "name": p["name"],
            "id_number": p["id_number"], "phone": p["phone"], "risk_category": p["risk_category"],
            "detail": [f"{s or '推送'}推送（批次 {b}）" + (f"，{r}" if r else "")
                       for s, b, r in zip(p["source"], p["batch"], p["risk_category"])],
            "source_ledger": "pushes", "source_key": p["batch"], "src_village": p["village"],
            "outcome": p["result"].where(done, None),
            "verified_at": pd.to_datetime(p["verified_at"]).where(done, pd.NaT).fillna(
                pd.to_datetime(p["pushed_at"]).where(done, pd.NaT)),
            "verifier": p["verifier"].where(done, None), "measure": p["measure"].where(done, None),
        }))
    logs = ledgers.get("checkpoint_logs")
    if logs is not None and len(logs):
        known = set(villages) if villages is not None else None
        heading = logs["destination"].isin(known) if known is not None else logs["destination"].notna()
        keep = (logs["pre_registered"] != True) & heading & ~logs["outcome"].isin(TURNED_BACK)  # noqa: E712
        c = logs[keep.fillna(False).to_numpy(dtype=bool)]
        parts.append(pd.DataFrame({
            "source": "卡口", "received_at": pd.to_datetime(c["time"]), "name": c["name"],
            "id_number": c["id_number"], "phone": c["phone"], "risk_category": None,
            "detail": [f"{k}未报备，自{o or '外地'}去往{d}（{r or '未填处置'}）"
                       for k, o, d, r in zip(c["checkpoint"], c["origin"], c["destination"], c["outcome"])],
            "source_ledger": "checkpoint_logs",
            "source_key": [f"{pd.Timestamp(t):%Y-%m-%d %H:%M} {k}" for t, k in zip(c["time"], c["checkpoint"])],
            "src_village": c["destination"], "outcome": None, "verified_at": pd.NaT, "verifier": None,
            "measure": None,
        }))
    buyers = ledgers.get("drug_buyers")
    if buyers is not None and len(buyers):
        b = buyers
        when = pd.Series([_noon(d) for d in b["date"]], index=b.index)
        spared = _recent_negative(ledgers, b["id_number"], when, policy.recent_negative_hours("哨点购药"))
        b, when = b[~spared], when[~spared]
        tested = (b["test_result"] == "阴性").fillna(False) & b["test_date"].notna()
        verified = pd.Series([max(_noon(d), w) if ok else pd.NaT for d, w, ok in
                              zip(b["test_date"], when, tested)], index=b.index, dtype="datetime64[ns]")
        parts.append(pd.DataFrame({
            "source": "哨点购药", "received_at": when, "name": b["name"], "id_number": b["id_number"],
            "phone": b["phone"], "risk_category": None,
            "detail": [f"{o}购买{d}（{k or '四类药品'}）" for o, d, k in zip(b["outlet"], b["drug"], b["drug_class"])],
            "source_ledger": "drug_buyers",
            "source_key": [f"{pd.Timestamp(d):%Y-%m-%d} {o} {g}" for d, o, g in zip(b["date"], b["outlet"], b["drug"])],
            "src_village": b["village"], "outcome": np.where(tested, "已检测阴性", None),
            "verified_at": verified, "verifier": b["checker"].where(tested, None),
            "measure": np.where(tested, "已完成核酸检测", None),
        }))
    fevers = ledgers.get("fever_reports")
    if fevers is not None and len(fevers):
        f = fevers
        tested = (f["test_result"] == "阴性").fillna(False)
        at = pd.to_datetime(f["reported_at"])
        parts.append(pd.DataFrame({
            "source": "哨点发热", "received_at": at, "name": f["name"], "id_number": f["id_number"],
            "phone": f["phone"], "risk_category": None,
            "detail": [f"{c}报告发热 {t:.1f}℃" + (f"，{s}" if isinstance(s, str) and s else "")
                       for c, t, s in zip(f["clinic"], f["temperature"], f["symptoms"])],
            "source_ledger": "fever_reports",
            "source_key": [f"{pd.Timestamp(t):%Y-%m-%d %H:%M} {c}" for t, c in zip(f["reported_at"], f["clinic"])],
            "src_village": f["village"], "outcome": np.where(tested, "已检测阴性", None),
            "verified_at": pd.to_datetime(f["test_time"]).fillna(at).where(tested, pd.NaT),
            "verifier": f["doctor"].where(tested, None), "measure": np.where(tested, "已完成核酸检测", None),
        }))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=_CANDIDATE_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    out["received_at"] = pd.to_datetime(out["received_at"])
    out["verified_at"] = pd.to_datetime(out["verified_at"])
    out["lead_no"] = [lead_no_for(s, r, ledger, key, idn)
                      for s, r, ledger, key, idn in zip(out["source"], out["received_at"], out["source_ledger"],
                                                        out["source_key"], out["id_number"])]
    out = out.drop_duplicates("lead_no").reset_index(drop=True)
    return out[_CANDIDATE_COLUMNS].astype(object).where(out[_CANDIDATE_COLUMNS].notna(), None)


def lead_deadlines(leads: pd.DataFrame, policy: LeadPolicy) -> pd.Series:
    """Each lead's deadline under ``policy`` (its source and risk category)."""
    values = [policy.deadline(s, c if isinstance(c, str) else None, pd.Timestamp(r).to_pydatetime())
              for s, c, r in zip(leads["source"], leads["risk_category"], leads["received_at"])]
    return pd.Series(pd.to_datetime(values) if values else [], index=leads.index, dtype="datetime64[ns]")


# -- Keeping the leads ledger in step ------------------------------------------------------------


@dataclass
class SyncPlan:
    """What deriving the leads again changes: whole new rows and, for
    stored leads, only the fields that change (with ``lead_no``)."""

    new: list[dict]
    updates: list[dict]

    @property
    def empty(self) -> bool:
        return not (self.new or self.updates)

    def summary(self) -> str:
        closed = sum(1 for r in self.new if r.get("outcome"))
        parts = [f"新增线索 {len(self.new)} 条" + (f"（其中 {closed} 条已办结）" if closed else "")]
        if self.updates:
            parts.append(f"更新线索 {len(self.updates)} 条")
        return "，".join(parts)


def _value(v):
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, float) and np.isnan(v):
        return None
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _same(a, b) -> bool:
    a, b = _value(a), _value(b)
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, datetime) or isinstance(b, datetime):
        return pd.Timestamp(a) == pd.Timestamp(b)
    return a == b


def plan_sync(candidates: pd.DataFrame, leads: pd.DataFrame, ledgers: Mapping[str, pd.DataFrame],
              policy: LeadPolicy, now: datetime | None = None) -> SyncPlan:
    """What to write so that the leads ledger follows its sources.

    A source row without a lead gets one: matched to a village and grid
    (ID, then phone, then the village the source row names, which leaves it
    待分派 without a grid), its deadline from ``policy``, its responsible
    people, closed with the outcome its source row already records, or
    else at once as 已在管控中 when the person was under control when it
    came in.
    A stored open lead takes an outcome its source row now records, a grid
    found since, and a deadline the policy now gives; what staff recorded on
    a lead (outcome, verifier, assignment) is never overwritten.
    An outcome a source row dates after ``now`` (a test booked for
    tomorrow) is not taken yet. Deriving twice changes nothing the second time.
    """
    if now is not None and len(candidates):
        ahead = (pd.to_datetime(candidates["verified_at"]) > pd.Timestamp(now)).to_numpy(dtype=bool)
        if ahead.any():
            candidates = candidates.copy()
            for col in ("outcome", "verifier", "measure"):
                candidates.loc[ahead, col] = None
            candidates.loc[ahead, "verified_at"] = None
    responsible = responsible_people(ledgers.get("grids", pd.DataFrame()))
    returnee_ids = set(ledgers["returnees"]["id_number"]) if "returnees" in ledgers else set()
    stored = set(leads["lead_no"]) if len(leads) else set()
    fresh = candidates[~candidates["lead_no"].isin(stored)] if len(candidates) else candidates
    new: list[dict] = []
    if len(fresh):
        fresh = fresh.reset_index(drop=True)
        match = match_people(fresh, ledgers)
        deadline = lead_deadlines(fresh, policy)
        controlled = under_control(ledgers.get("controls", pd.DataFrame()), fresh["id_number"],
                                   fresh["received_at"])
        for i, row in fresh.iterrows():
            rec = {k: _value(row[k]) for k in ("lead_no", "source", "received_at", "name", "id_number", "phone",
                                                "risk_category", "detail", "source_ledger", "source_key")}
            village, grid, via = match.at[i, "village"], match.at[i, "grid"], match.at[i, "matched_by"]
            if village is None and not _blank(row["src_village"]):
                village, via = row["src_village"], "来源登记"
            rec.update(village=village, grid=grid, matched_by=via,
                       assignee=responsible.get(grid) if grid else None,
                       deadline=_value(deadline.iloc[i]), returnee=row["id_number"] in returnee_ids)
            if row["outcome"] is not None:  # what the source row records comes first
                rec.update(outcome=row["outcome"], verified_at=_value(row["verified_at"]),
                           verifier=row["verifier"] or SYSTEM_VERIFIER, measure=row["measure"])
            elif controlled[i]:
                rec.update(outcome="已在管控中", verified_at=rec["received_at"], verifier=SYSTEM_VERIFIER,
                           measure="接收时已在管控中，关联返乡人员管控")
            new.append(rec)
    updates: list[dict] = []
    if len(leads):
        by_no = candidates.set_index("lead_no") if len(candidates) else pd.DataFrame()
        open_ = leads[leads["outcome"].isna()]
        if len(open_):
            deadlines = lead_deadlines(open_, policy)
            unplaced = open_[open_["grid"].isna()]
            found = match_people(unplaced, ledgers) if len(unplaced) else pd.DataFrame()
            for i, row in open_.iterrows():
                change: dict = {}
                if not _same(row["deadline"], deadlines.at[i]):
                    change["deadline"] = _value(deadlines.at[i])
                if i in found.index and found.at[i, "grid"] is not None:
                    grid = found.at[i, "grid"]
                    change.update(village=found.at[i, "village"], grid=grid, matched_by=found.at[i, "matched_by"],
                                  assignee=responsible.get(grid))
                if row["lead_no"] in by_no.index:
                    src = by_no.loc[row["lead_no"]]
                    if src["outcome"] is not None:
                        change.update(outcome=src["outcome"], verified_at=_value(src["verified_at"]),
                                      verifier=src["verifier"] or SYSTEM_VERIFIER, measure=src["measure"])
                if change:
                    updates.append({"lead_no": row["lead_no"], **change})
        late = leads[(leads["returnee"] != True).fillna(True).to_numpy(dtype=bool)  # noqa: E712
                     & leads["id_number"].isin(returnee_ids).to_numpy(dtype=bool)]
        seen = {u["lead_no"]: u for u in updates}
        for no in late["lead_no"]:
            if no in seen:
                seen[no]["returnee"] = True
            else:
                updates.append({"lead_no": no, "returnee": True})
    return SyncPlan(new, updates)


# -- State at a moment ----------------------------------------------------------------------------


def lead_status(leads: pd.DataFrame, at: datetime) -> pd.DataFrame:
    """The leads received by ``at``, each with its ``status`` at ``at``:

    - 已办结 / 逾期办结: closed (an outcome, verified by ``at``), in time or
      after the deadline;
    - 待分派: open, no grid yet (someone must assign it);
    - 已逾期: open with a grid, past its deadline;
    - 待核查: open with a grid, in time.

    ``overdue`` is True for every open lead past its deadline (also 待分派)
    and for a lead closed late; ``hours_left`` is the time to the deadline
    (negative when past). A lead is in time AT its deadline.
    """
    at = pd.Timestamp(at)
    rows = leads[pd.to_datetime(leads["received_at"]) <= at].copy()
    deadline = pd.to_datetime(rows["deadline"])
    verified = pd.to_datetime(rows["verified_at"])
    closed = (rows["outcome"].notna() & (verified.isna() | (verified <= at))).to_numpy(dtype=bool)
    done_at = verified.fillna(pd.to_datetime(rows["received_at"]))
    late_close = (done_at > deadline).to_numpy(dtype=bool)
    past = (deadline < at).fillna(False).to_numpy(dtype=bool)
    unplaced = (rows["grid"].isna() | (rows["grid"].astype(str) == "")).to_numpy(dtype=bool)
    status = np.select(
        [closed & ~late_close, closed & late_close, unplaced, past],
        [DONE, DONE_LATE, UNASSIGNED, OVERDUE], PENDING)
    rows["status"] = status
    rows["open"] = ~closed
    rows["overdue"] = (~closed & past) | (closed & late_close)
    rows["hours_left"] = ((deadline - at).dt.total_seconds() / 3600).round(1)
    rows.loc[closed, "hours_left"] = np.nan
    rows.loc[~closed, "outcome"] = None
    return rows


def filter_leads(table: pd.DataFrame, *, source: str = "", village: str = "", grid: str = "",
                 status: str = "", overdue: bool = False, query: str = "") -> pd.DataFrame:
    """The rows of :func:`lead_status` matching the page's filters (empty = all)."""
    keep = np.ones(len(table), dtype=bool)
    if source:
        keep &= (table["source"] == source).to_numpy(dtype=bool)
    if village:
        keep &= (table["village"] == village).to_numpy(dtype=bool)
    if grid:
        keep &= (table["grid"] == grid).to_numpy(dtype=bool)
    if status:
        keep &= (table["status"] == status).to_numpy(dtype=bool)
    if overdue:
        keep &= table["overdue"].to_numpy(dtype=bool)
    if query:
        text = query.strip()
        hay = (table["name"].fillna("") + " " + table["lead_no"].fillna("") + " " + table["detail"].fillna(""))
        keep &= hay.str.contains(text, regex=False).to_numpy(dtype=bool)
    return table[keep]


def leads_by_source(table: pd.DataFrame, at: datetime | None = None) -> pd.DataFrame:
    """Per source (rows in :data:`LEAD_SOURCES` order): 线索 (received),
    未办结 (open), 已逾期 (open past the deadline), 待分派, 已办结,
    逾期办结 and 今日新增 (received on the day of ``at``)."""
    day = pd.Timestamp(at).normalize() if at is not None else None
    status, open_ = table["status"], table["open"].astype(bool)
    flags = pd.DataFrame({
        "线索": 1,
        "今日新增": (pd.to_datetime(table["received_at"]) >= day) if day is not None else False,
        "未办结": open_, "已逾期": open_ & table["overdue"].astype(bool),
        "待分派": status == UNASSIGNED, "已办结": status == DONE, "逾期办结": status == DONE_LATE,
    }, index=table.index).astype(int)
    counts = flags.groupby(table["source"].to_numpy()).sum().reindex(list(LEAD_SOURCES), fill_value=0)
    counts.index.name = "来源"
    return counts.astype(int)


def summarize_leads(table: pd.DataFrame, at: datetime) -> dict[str, int]:
    """The KPI figures of :data:`KPI_LABELS` for the rows of :func:`lead_status`."""
    open_ = table["open"].to_numpy(dtype=bool)
    overdue = table["overdue"].to_numpy(dtype=bool)
    end = pd.Timestamp(datetime.combine(pd.Timestamp(at).date(), time(23, 59)))
    due_today = open_ & ~overdue & (pd.to_datetime(table["deadline"]) <= end).to_numpy(dtype=bool)
    kpis = {"total": len(table), "open": int(open_.sum()), OVERDUE: int((open_ & overdue).sum()),
            UNASSIGNED: int((table["status"] == UNASSIGNED).sum()), "due_today": int(due_today.sum()),
            DONE: int((table["status"] == DONE).sum()), DONE_LATE: int((table["status"] == DONE_LATE).sum())}
    for source in LEAD_SOURCES:
        mine = (table["source"] == source).to_numpy(dtype=bool)
        kpis[f"src:{source}"] = int((mine & open_).sum())
        kpis[f"late:{source}"] = int((mine & open_ & overdue).sum())
    return kpis


def kpi_rows(table: pd.DataFrame, key: str, at: datetime) -> pd.DataFrame:
    """The rows a KPI of :func:`summarize_leads` counts."""
    open_ = table["open"].to_numpy(dtype=bool)
    overdue = table["overdue"].to_numpy(dtype=bool)
    if key == "total":
        return table
    if key == "open":
        return table[open_]
    if key == OVERDUE:
        return table[open_ & overdue]
    if key in (UNASSIGNED, DONE, DONE_LATE):
        return table[table["status"] == key]
    if key == "due_today":
        end = pd.Timestamp(datetime.combine(pd.Timestamp(at).date(), time(23, 59)))
        return table[open_ & ~overdue & (pd.to_datetime(table["deadline"]) <= end).to_numpy(dtype=bool)]
    kind, _, source = key.partition(":")
    mine = (table["source"] == source).to_numpy(dtype=bool)
    if kind == "src":
        return table[mine & open_]
    if kind == "late":
        return table[mine & open_ & overdue]
    raise KeyError(key)


def leads_to_act(table: pd.DataFrame) -> pd.DataFrame:
    """Open leads past their deadline or unassigned, most overdue first,
    with who must act (``assignee``; 待分派 for the command centre)."""
    act = table[table["open"].to_numpy(dtype=bool) &
                (table["overdue"].to_numpy(dtype=bool) | (table["status"] == UNASSIGNED).to_numpy(dtype=bool))]
    act = act.assign(assignee=act["assignee"].where(act["assignee"].notna(), "指挥部（待分派到网格）"))
    return act.sort_values("deadline").reset_index(drop=True)


def person_leads(leads: pd.DataFrame, id_number: str) -> pd.DataFrame:
    """Every lead about one person, oldest first (closed ones included)."""
    mine = leads[leads["id_number"] == id_number]
    return mine.sort_values("received_at").reset_index(drop=True)
