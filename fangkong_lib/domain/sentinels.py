"""Medical sentinels (医疗哨点, gate 5): the township health centre, the
clinics and the pharmacies watch for fever and register buyers of the four
drug classes (四类药品: 退热, 止咳, 抗病毒, 抗生素), each of whom must be tested.

Pure functions: frames in, new frames out.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from ..ledgers import DRUG_CLASSES

__all__ = [
    "FOLLOWUP_DONE", "FOLLOWUP_PENDING", "FOLLOWUP_STATES", "SENTINEL_CATEGORIES", "buyers_by_day_and_class",
    "filter_buyers", "followup_of", "sentinel_places", "sentinel_table", "with_lead_status",
]

#: Places that are medical sentinels, the health centre first.
SENTINEL_CATEGORIES = ("卫生院", "诊所", "药店")
FOLLOWUP_DONE, FOLLOWUP_PENDING, FOLLOWUP_ABNORMAL = "已核酸", "待核酸", "异常"
#: A buyer's follow-up (随访核酸) as the register says it.
FOLLOWUP_STATES = (FOLLOWUP_PENDING, FOLLOWUP_DONE, FOLLOWUP_ABNORMAL)


def sentinel_places(places: pd.DataFrame) -> pd.DataFrame:
    """The places that are sentinels, the health centre first, then clinics
    and pharmacies, each by name."""
    rows = places[places["category"].isin(SENTINEL_CATEGORIES)]
    order = rows["category"].map({c: i for i, c in enumerate(SENTINEL_CATEGORIES)})
    return rows.assign(_o=order).sort_values(["_o", "name"], kind="stable").drop(columns="_o").reset_index(drop=True)


def followup_of(buyers: pd.DataFrame) -> pd.Series:
    """Each buyer's follow-up: 异常 (a positive result, or marked so),
    已核酸 (a result is in), else 待核酸."""
    result = buyers["test_result"].fillna("")
    status = buyers["status"].fillna("")
    abnormal = (result == "阳性") | (status == FOLLOWUP_ABNORMAL)
    done = result.isin(("阴性",)) | (status == FOLLOWUP_DONE)
    out = pd.Series(FOLLOWUP_PENDING, index=buyers.index, dtype=object)
    out[done] = FOLLOWUP_DONE
    out[abnormal] = FOLLOWUP_ABNORMAL
    return out


def filter_buyers(buyers: pd.DataFrame, start: date, end: date, *, outlet: str = "", drug_class: str = "",
                  village: str = "", followup: str = "") -> pd.DataFrame:
    """Buyers registered from ``start`` to ``end`` (inclusive), of one
    sentinel, drug class, village and follow-up state when given; with a
    ``followup`` column; newest first."""
    days = pd.to_datetime(buyers["date"]).dt.date
    rows = buyers.assign(followup=followup_of(buyers))
    keep = (days >= start) & (days <= end)
    for column, value in (("outlet", outlet), ("drug_class", drug_class), ("village", village),
                          ("followup", followup)):
        if value:
            keep &= rows[column] == value
    return rows[keep].sort_values("date", ascending=False, kind="stable").reset_index(drop=True)


def buyers_by_day_and_class(buyers: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Buyers per day (rows, ``start`` to ``end``) and drug class (columns,
    the ledger's classes), with 合计 and 待核酸 columns and a 合计 row."""
    days = pd.date_range(start, end, freq="D").date
    if buyers.empty:
        table = pd.DataFrame(0, index=days, columns=list(DRUG_CLASSES))
        pending = pd.Series(0, index=days)
    else:
        day = pd.to_datetime(buyers["date"]).dt.date
        table = pd.crosstab(day, buyers["drug_class"].fillna("未填")).reindex(index=days, fill_value=0)
        table = table.reindex(columns=list(DRUG_CLASSES) + [c for c in table.columns if c not in DRUG_CLASSES],
                              fill_value=0)
        pending = (followup_of(buyers) == FOLLOWUP_PENDING).groupby(day).sum().reindex(days, fill_value=0)
    table["合计"] = table.sum(axis=1)
    table["待核酸"] = pending.to_numpy()
    table.loc["合计"] = table.sum()
    table.index = [d.isoformat() if isinstance(d, date) else d for d in table.index]
    table.index.name = "日期"
    return table.astype(int)


def sentinel_table(places: pd.DataFrame, buyers: pd.DataFrame, fevers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per sentinel: name, category, village, manager, lon/lat, the
    buyers it registered (of ``buyers``, already filtered), those still
    waiting for their test, and the fever reports it made (of ``fevers``,
    when given: a ``clinic`` column)."""
    rows = sentinel_places(places)
    counts = buyers.groupby("outlet").size() if len(buyers) else pd.Series(dtype=int)
    pending = (buyers.loc[buyers["followup"] == FOLLOWUP_PENDING].groupby("outlet").size()
               if len(buyers) else pd.Series(dtype=int))
    fever = fevers.groupby("clinic").size() if fevers is not None and len(fevers) else pd.Series(dtype=int)
    return rows.assign(
        buyers=rows["name"].map(counts).fillna(0).astype(int),
        pending=rows["name"].map(pending).fillna(0).astype(int),
        fevers=rows["name"].map(fever).fillna(0).astype(int),
    )


def with_lead_status(rows: pd.DataFrame, leads: pd.DataFrame, *, source: str, when: str,
                     by_day: bool = False) -> pd.DataFrame:
    """``rows`` of a source ledger with the lead each one raised: its
    ``lead_no``, ``lead_status`` (:func:`fangkong_lib.domain.leads.lead_status`
    rows given as ``leads``: 待分派 / 待核查 / 已逾期 / 已办结 / 逾期办结),
    ``deadline`` and ``lead_outcome``; none for a row that raised no lead.
    A lead is found by the person's ID and its receipt time, the row's
    ``when`` column (by day, for registers that give only the day)."""
    own = leads[leads["source"] == source]
    key = pd.to_datetime(own["received_at"])
    key = key.dt.normalize() if by_day else key
    found = pd.DataFrame({"_id": own["id_number"].to_numpy(), "_at": key.to_numpy(),
                          "lead_no": own["lead_no"].to_numpy(), "lead_status": own["status"].to_numpy(),
                          "deadline": pd.to_datetime(own["deadline"]).to_numpy(),
                          "lead_outcome": own["outcome"].to_numpy()}).drop_duplicates(["_id", "_at"], keep="last")
    at = pd.to_datetime(rows[when])
    left = rows.assign(_id=rows["id_number"].to_numpy(), _at=(at.dt.normalize() if by_day else at).to_numpy())
    out = left.merge(found, on=["_id", "_at"], how="left").drop(columns=["_id", "_at"])
    out.index = rows.index
    return out
