"""Key places (重点场所, gate 4): compliance from the latest inspection,
open / ordered to fix / closed, and re-inspections that are overdue.

A place's state is read from its latest inspection (场所检查) up to a day:
the checklist items it passed or failed, and the action taken (现场整改 leaves
it open, 限期整改 orders it to fix by a deadline, 停业整改 closes it). A place
ordered to fix or closed waits for a re-inspection, which is simply its next
inspection; when the deadline passes without one, the re-inspection is
overdue. Places never inspected keep the status of the places ledger.
Pure functions: frames in, new frames out.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..ledgers import PLACE_STATUSES, get_ledger

OPEN, FIX, CLOSED = PLACE_STATUSES  # 正常营业, 限期整改, 停业整改

#: The inspection checklist (DOMAIN.md §2), keys of the inspections ledger
#: with its Chinese headers: one source of truth for forms, filters, tables.
CHECKLIST: dict[str, str] = {
    key: get_ledger("inspections")[key].label
    for key in ("code_posted", "scan_enforced", "temperature", "masks", "crowd_limit",
                "disinfection_log", "staff_health_log", "drug_register")
}
#: Items that apply only to some categories: the four-class drug register
#: (四类药品实名登记) to pharmacies, clinics and the health centre.
ONLY_FOR: dict[str, tuple[str, ...]] = {"drug_register": ("药店", "诊所", "卫生院")}

#: Days to re-inspect a place ordered to fix or closed when the inspection
#: set no deadline (the township's usual 3-day rectification period).
DEFAULT_RECHECK_DAYS = 3

#: Problem category (问题类别) opened for a failed checklist item: the entry
#: checks of gate 4 are 场所码 work; missing logs are 台账资料.
ITEM_PROBLEM_CATEGORY: dict[str, str] = {
    "code_posted": "场所码", "scan_enforced": "场所码", "temperature": "场所码", "masks": "场所码",
    "crowd_limit": "场所码", "disinfection_log": "台账资料", "staff_health_log": "台账资料",
    "drug_register": "台账资料",
}

#: Map/legend colours per status.
STATUS_COLOURS = {OPEN: "#2f8f4e", FIX: "#e08a00", CLOSED: "#c0392b"}

ACTION_STATUS = {"无": OPEN, "现场整改": OPEN, "限期整改": FIX, "停业整改": CLOSED}


def applicable_items(category: str) -> list[str]:
    """Checklist keys that apply to a place of ``category``."""
    return [k for k in CHECKLIST if k not in ONLY_FOR or category in ONLY_FOR[k]]


def failed_items(checks: Mapping[str, object], category: str) -> list[str]:
    """Checklist keys answered 否 (False) among those that apply."""
    return [k for k in applicable_items(category) if checks.get(k) is False or checks.get(k) is np.False_]


def suggest_action(failed: Iterable[str]) -> str:
    """The usual action for the failed items: none → 无, one → 现场整改,
    two → 限期整改, three or more → 停业整改. The inspector decides."""
    n = len(list(failed))
    return "无" if n == 0 else "现场整改" if n == 1 else "限期整改" if n == 2 else "停业整改"


def latest_inspections(inspections: pd.DataFrame, day: date) -> pd.DataFrame:
    """Each place's latest inspection on or before ``day`` (one row per place_code)."""
    rows = inspections[pd.to_datetime(inspections["date"]) <= pd.Timestamp(day)]
    rows = rows.sort_values(["place_code", "date"], kind="stable")
    return rows.drop_duplicates("place_code", keep="last").set_index("place_code")


def place_table(places: pd.DataFrame, inspections: pd.DataFrame, day: date) -> pd.DataFrame:
    """One row per place with its state on ``day``.

    Adds to the places ledger's columns: ``last_date``, ``last_action``,
    ``findings``, ``inspections`` (how many up to ``day``), one boolean
    column per checklist item (``<NA>`` when not applicable or never
    inspected), ``failed`` (the failed items' labels), ``code_status``
    (场所码: 已张贴/未张贴), ``status`` (derived), ``recheck_due`` and
    ``recheck_overdue``.
    """
    ts = pd.Timestamp(day)
    latest = latest_inspections(inspections, day)
    counts = inspections[pd.to_datetime(inspections["date"]) <= ts].groupby("place_code").size()
    out = places.copy()
    codes = out["code"]
    last = latest.reindex(codes)
    out["last_date"] = pd.to_datetime(last["date"]).to_numpy()
    out["last_action"] = last["action"].to_numpy()
    out["findings"] = last["findings"].to_numpy()
    out["inspections"] = counts.reindex(codes, fill_value=0).to_numpy()
    inspected = out["last_date"].notna().to_numpy()
    for key in CHECKLIST:
        values = pd.array(last[key].to_numpy(), dtype="boolean")
        applies = out["category"].map(lambda c, k=key: k in applicable_items(c)).to_numpy()
        values[~applies] = pd.NA
        out[key] = values
    # Before any inspection, the ledger's own 场所码张贴 stands.
    out["code_posted"] = out["code_posted"].where(inspected, places["code_posted"].astype("boolean").to_numpy())
    out["failed"] = [
        [CHECKLIST[k] for k in CHECKLIST if row[k] is False]
        for row in out[list(CHECKLIST)].astype(object).where(out[list(CHECKLIST)].notna(), None).to_dict("records")
    ]
    out["code_status"] = out["code_posted"].map(lambda v: "未知" if v is pd.NA else ("已张贴" if v else "未张贴"))
    derived = out["last_action"].map(ACTION_STATUS)
    ledger_status = places["status"].fillna(OPEN).to_numpy()
    out["status"] = derived.where(derived.notna(), ledger_status)
    deadline = pd.to_datetime(last["deadline"]).to_numpy()
    default_due = out["last_date"] + pd.Timedelta(days=DEFAULT_RECHECK_DAYS)
    due = pd.Series(deadline, index=out.index).fillna(default_due)
    waiting = out["status"].isin([FIX, CLOSED]) & out["last_date"].notna()
    out["recheck_due"] = due.where(waiting)
    out["recheck_overdue"] = (waiting & (out["recheck_due"] < ts)).astype(bool)
    return out


def filter_places(
    table: pd.DataFrame,
    *,
    village: str = "",
    category: str = "",
    failed_item: str = "",
    status: str = "",
    overdue: bool = False,
    query: str = "",
) -> pd.DataFrame:
    """Rows of :func:`place_table` matching every filter. ``failed_item`` is
    a checklist key: places whose latest inspection (or, for 场所码张贴, the
    ledger) shows it not in place."""
    out = table
    if village:
        out = out[out["village"] == village]
    if category:
        out = out[out["category"] == category]
    if failed_item:
        if failed_item not in CHECKLIST:
            raise ValueError(f"未知检查项：{failed_item}")
        out = out[out[failed_item].eq(False).fillna(False).astype(bool)]
    if status:
        out = out[out["status"] == status]
    if overdue:
        out = out[out["recheck_overdue"]]
    query = query.strip()
    if query:
        text = out["name"].fillna("") + " " + out["code"].fillna("") + " " + out["manager"].fillna("")
        out = out[text.str.contains(query, regex=False)]
    return out


#: KPI keys in display order with their Chinese labels.
KPI_LABELS = {
    "places": "场所数",
    OPEN: "正常营业",
    FIX: "限期整改",
    CLOSED: "停业整改",
    "code_missing": "场所码未张贴",
    "recheck_overdue": "逾期未复查",
    "never_inspected": "未检查过",
    "inspected_7d": "近7日检查",
}


def summarize_places(table: pd.DataFrame, inspections: pd.DataFrame, day: date) -> dict[str, int]:
    """KPIs of the (filtered) place table on ``day``."""
    ts = pd.Timestamp(day)
    recent = inspections[(pd.to_datetime(inspections["date"]) <= ts)
                         & (pd.to_datetime(inspections["date"]) > ts - pd.Timedelta(days=7))]
    counts = table["status"].value_counts()
    return {
        "places": len(table),
        OPEN: int(counts.get(OPEN, 0)),
        FIX: int(counts.get(FIX, 0)),
        CLOSED: int(counts.get(CLOSED, 0)),
        "code_missing": int(table["code_posted"].eq(False).fillna(False).sum()),
        "recheck_overdue": int(table["recheck_overdue"].sum()),
        "never_inspected": int(table["last_date"].isna().sum()),
        "inspected_7d": int(recent["place_code"].isin(table["code"]).sum()),
    }


def findings_text(failed: Iterable[str]) -> str:
    """The 发现问题 text of an inspection, e.g. ``测温不到位、消毒登记不到位``."""
    return "、".join(f"{CHECKLIST[k]}不到位" for k in failed)


def inspection_problems(place: Mapping, inspection: Mapping, failed: Iterable[str]) -> list[dict]:
    """Problem rows (without numbers) for the failed items of an inspection:
    one per item, linked to the place (``place_code``) and the inspection
    (its date), the place's person in charge as the responsible person."""
    when = pd.Timestamp(inspection["date"]).date()
    deadline = inspection.get("deadline")
    deadline = pd.Timestamp(deadline).date() if deadline not in (None, "") and not pd.isna(deadline) else (
        when + timedelta(days=DEFAULT_RECHECK_DAYS))
    rows = []
    for key in failed:
        rows.append(dict(
            date=when, team="场所检查", method="明察", target=place["name"], target_type="场所",
            place_code=place["code"], village=place["village"], category=ITEM_PROBLEM_CATEGORY[key],
            description=f"{place['name']}：{CHECKLIST[key]}不到位（{when.isoformat()} 场所检查）",
            unit=place["name"], person=place.get("manager"), measure=f"立即整改「{CHECKLIST[key]}」，整改后报复查",
            deadline=deadline, stage="发现", accountability="无",
        ))
    return rows


def places_briefing(places: pd.DataFrame, inspections: pd.DataFrame, day: date) -> dict[str, pd.DataFrame]:
    """What the daily briefing says about key places on ``day``:
    ``inspected`` (the day's inspections, with the place's name, village,
    failed items, action and deadline) and ``under_order`` (places ordered
    to fix or closed after their latest inspection up to ``day``, with the
    re-inspection due and whether it is overdue), most urgent first."""
    ts = pd.Timestamp(day)
    today = inspections[pd.to_datetime(inspections["date"]) == ts]
    category = places.set_index("code")["category"]
    inspected = today.assign(
        failed=[findings_text(failed_items(r, category.get(r["place_code"], r.get("category") or "")))
                for r in today.astype(object).where(today.notna(), None).to_dict("records")],
    )
    inspected = inspected.assign(_clean=inspected["failed"] == "").sort_values(["_clean", "village"], kind="stable")
    inspected = inspected.drop(columns="_clean")
    table = place_table(places, inspections, day)
    under = table[table["status"].isin([FIX, CLOSED]) & table["last_date"].notna()].sort_values(
        ["recheck_overdue", "status", "recheck_due"], ascending=[False, False, True], kind="stable")
    return {"inspected": inspected.reset_index(drop=True), "under_order": under.reset_index(drop=True)}
