"""Donated supplies (捐赠物资, the enterprise support team): stock, expiry,
minimum levels, the donors' public list and where supplies went.

Stock is never typed: it is receipts (入库, the donations ledger) minus
issues (出库, the distributions ledger), per item and storage location
(存放位置 / 出库仓库). An issue may not take more than is there, on its own
date *or any later date* — a back-dated issue must not turn a later balance
negative. Lots are consumed first-expired-first-out (FEFO) to tell which
stock is expired or expiring. Pure functions: frames in, new frames out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Mapping

import numpy as np
import pandas as pd

#: Location shown for issues that do not say where they came from.
UNKNOWN_LOCATION = "（未注明仓库）"
#: Days ahead within which stock counts as soon-expiring (临期).
EXPIRY_WARNING_DAYS = 30


class StockError(ValueError):
    """An issue that the stock cannot cover; the message says so in Chinese."""


def _num(value: float) -> str:
    return f"{value:g}"


def movements(donations: pd.DataFrame, distributions: pd.DataFrame) -> pd.DataFrame:
    """Receipts (+) and issues (−) as one frame: ``date``, ``item``,
    ``location``, ``unit``, ``delta``, ``kind`` (入库/出库), ``voucher_no``."""
    rec = pd.DataFrame({
        "date": pd.to_datetime(donations["date"]), "item": donations["item"],
        "location": donations["location"].fillna(UNKNOWN_LOCATION).replace("", UNKNOWN_LOCATION),
        "unit": donations["unit"], "delta": donations["quantity"].astype(float), "kind": "入库",
        "voucher_no": donations["voucher_no"],
    })
    loc = distributions["location"] if "location" in distributions else pd.Series(None, index=distributions.index)
    out = pd.DataFrame({
        "date": pd.to_datetime(distributions["date"]), "item": distributions["item"],
        "location": loc.fillna(UNKNOWN_LOCATION).replace("", UNKNOWN_LOCATION),
        "unit": distributions["unit"], "delta": -distributions["quantity"].astype(float), "kind": "出库",
        "voucher_no": distributions["voucher_no"],
    })
    both = pd.concat([rec, out], ignore_index=True)
    # Receipts before issues on the same day: a day's delivery can be issued
    # that day. (Sorting the kind words themselves would put 出库 first: 出 > 入
    # in code-point order.)
    both["_issue"] = both["kind"].eq("出库")
    both = both.sort_values(["date", "_issue"], kind="stable").drop(columns="_issue")
    return both.reset_index(drop=True)


def stock_table(
    donations: pd.DataFrame,
    distributions: pd.DataFrame,
    day: date | None = None,
    *,
    minimum: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Stock per item and location on ``day`` (all movements when None).

    Columns: ``item``, ``location``, ``unit``, ``received``, ``issued``,
    ``stock`` (= received − issued), ``stock_value`` (at the item's average
    received unit value), ``item_stock`` (the item over all locations),
    ``minimum`` and ``below_minimum`` (the item's total under its minimum
    level, when one is given).
    """
    moves = movements(donations, distributions)
    if day is not None:
        moves = moves[moves["date"] <= pd.Timestamp(day)]
    cols = ["item", "location", "unit", "received", "issued", "stock", "stock_value", "item_stock",
            "minimum", "below_minimum"]
    if moves.empty:
        return pd.DataFrame(columns=cols)
    moves = moves.assign(received=moves["delta"].clip(lower=0), issued=(-moves["delta"]).clip(lower=0))
    table = moves.groupby(["item", "location"], as_index=False).agg(
        unit=("unit", "first"), received=("received", "sum"), issued=("issued", "sum"))
    table["stock"] = table["received"] - table["issued"]
    rec = donations if day is None else donations[pd.to_datetime(donations["date"]) <= pd.Timestamp(day)]
    per_item = rec.groupby("item").agg(q=("quantity", "sum"), v=("value", "sum"))
    unit_value = (per_item["v"] / per_item["q"]).replace([np.inf, -np.inf], np.nan).fillna(0.0)
    table["stock_value"] = (table["stock"] * table["item"].map(unit_value).fillna(0.0)).round(2)
    table["item_stock"] = table.groupby("item")["stock"].transform("sum")
    minimum = dict(minimum or {})
    table["minimum"] = table["item"].map(minimum).astype(float)
    table["below_minimum"] = (table["item_stock"] < table["minimum"]).fillna(False).astype(bool)
    return table[cols].sort_values(["item", "location"]).reset_index(drop=True)


def stock_by_item(donations: pd.DataFrame, distributions: pd.DataFrame, day: date | None = None) -> pd.DataFrame:
    """Stock per item on ``day`` over all locations: :func:`stock_table`
    summed per item. Columns: ``item``, ``received``, ``issued``, ``stock``,
    ``stock_value``. Never typed, always computed."""
    table = stock_table(donations, distributions, day)
    cols = ["received", "issued", "stock", "stock_value"]
    if table.empty:
        return pd.DataFrame({"item": pd.Series(dtype=object), **{c: pd.Series(dtype=float) for c in cols}})
    out = table.groupby("item", as_index=False)[cols].sum()
    out["stock_value"] = out["stock_value"].round(2)
    return out


def stock_on(donations: pd.DataFrame, distributions: pd.DataFrame, item: str,
             location: str | None = None, day: date | None = None) -> float:
    """Stock of one item (at one location, or all) on ``day`` (or now)."""
    moves = movements(donations, distributions)
    moves = moves[moves["item"] == item]
    if location is not None:
        moves = moves[moves["location"] == location]
    if day is not None:
        moves = moves[moves["date"] <= pd.Timestamp(day)]
    return float(moves["delta"].sum())


def available_to_issue(donations: pd.DataFrame, distributions: pd.DataFrame, item: str,
                       location: str, day: date) -> float:
    """The most that can be issued of ``item`` from ``location`` on ``day``:
    the lowest balance from that day on, so no balance ever goes negative."""
    moves = movements(donations, distributions)
    moves = moves[(moves["item"] == item) & (moves["location"] == location)]
    ts = pd.Timestamp(day)
    on_day = float(moves.loc[moves["date"] <= ts, "delta"].sum())
    later = moves.loc[moves["date"] > ts, "delta"]
    balances = on_day + later.cumsum()
    return max(0.0, min([on_day, *balances.tolist()]))


def check_issue(donations: pd.DataFrame, distributions: pd.DataFrame, *, item: str, location: str,
                quantity: float, day: date, unit: str | None = None) -> None:
    """Refuse an issue the stock cannot cover, with a clear Chinese message
    (:class:`StockError`); return None when it is fine."""
    if quantity is None or not np.isfinite(quantity) or quantity <= 0:
        raise StockError(f"出库数量应为正数（填写的是 {quantity}）")
    known = set(donations["item"])
    if item not in known:
        raise StockError(f"没有「{item}」的入库记录，不能出库")
    unit = unit or _unit_of(donations, item)
    here = available_to_issue(donations, distributions, item, location, day)
    if quantity > here + 1e-9:
        that_day = stock_on(donations, distributions, item, location, day)
        if here < that_day - 1e-9:  # later issues already count on this stock
            raise StockError(
                f"库存不足，出库被拒绝：{location}的「{item}」在 {pd.Timestamp(day).date().isoformat()} 结存 "
                f"{_num(that_day)}{unit}，但之后已有出库，当日及以后最多可发 {_num(here)}{unit}，"
                f"不能发放 {_num(quantity)}{unit}")
        raise StockError(
            f"库存不足，出库被拒绝：{location}的「{item}」结存只有 {_num(here)}{unit}，不能发放 {_num(quantity)}{unit}")


def _unit_of(donations: pd.DataFrame, item: str) -> str:
    units = donations.loc[donations["item"] == item, "unit"].dropna()
    return str(units.iloc[0]) if len(units) else ""


@dataclass(frozen=True)
class Flags:
    """What the supplies page flags on a day."""

    expired: pd.DataFrame
    expiring: pd.DataFrame
    below_minimum: pd.DataFrame


def remaining_lots(donations: pd.DataFrame, distributions: pd.DataFrame, day: date | None = None) -> pd.DataFrame:
    """Receipts still (partly) in stock, issues consumed first-expired-first-out
    per item and location (lots without expiry last). Adds ``remaining``."""
    moves = movements(donations, distributions)
    if day is not None:
        moves = moves[moves["date"] <= pd.Timestamp(day)]
        donations = donations[pd.to_datetime(donations["date"]) <= pd.Timestamp(day)]
    lots = donations.assign(
        location=donations["location"].fillna(UNKNOWN_LOCATION).replace("", UNKNOWN_LOCATION),
        remaining=donations["quantity"].astype(float),
        expiry=pd.to_datetime(donations["expiry"]),
    ).sort_values(["expiry", "date", "voucher_no"], kind="stable", na_position="last")
    issued = moves[moves["kind"] == "出库"].groupby(["item", "location"])["delta"].sum().abs()
    for (item, location), total in issued.items():
        idx = lots.index[(lots["item"] == item) & (lots["location"] == location)]
        left = float(total)
        for i in idx:
            take = min(left, lots.at[i, "remaining"])
            lots.at[i, "remaining"] -= take
            left -= take
            if left <= 0:
                break
    lots = lots[lots["remaining"] > 1e-9]
    return lots.sort_values(["item", "location", "expiry"], na_position="last").reset_index(drop=True)


def flag_stock(donations: pd.DataFrame, distributions: pd.DataFrame, day: date, *,
               minimum: Mapping[str, float] | None = None,
               warning_days: int = EXPIRY_WARNING_DAYS) -> Flags:
    """Expired lots, lots expiring within ``warning_days`` and items under
    their minimum level, on ``day``."""
    ts = pd.Timestamp(day)
    lots = remaining_lots(donations, distributions, day)
    expiry = pd.to_datetime(lots["expiry"])
    lots = lots.assign(days_left=(expiry - ts).dt.days)
    expired = lots[expiry < ts]
    expiring = lots[(expiry >= ts) & (expiry <= ts + pd.Timedelta(days=warning_days))]
    stock = stock_table(donations, distributions, day, minimum=minimum)
    low = stock[stock["below_minimum"]].drop_duplicates("item")[["item", "unit", "item_stock", "minimum"]]
    return Flags(expired.reset_index(drop=True), expiring.reset_index(drop=True), low.reset_index(drop=True))


def filter_movements(
    donations: pd.DataFrame,
    distributions: pd.DataFrame,
    *,
    donor: str = "",
    item: str = "",
    recipient: str = "",
    start: date | None = None,
    end: date | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Receipts and issues matching the filters. ``donor`` applies to
    receipts, ``recipient`` (领用单位) to issues, ``item`` and the date range
    (inclusive) to both."""
    d, s = donations, distributions
    if donor:
        d = d[d["donor"] == donor]
    if recipient:
        s = s[s["recipient"] == recipient]
    if item:
        d, s = d[d["item"] == item], s[s["item"] == item]
    if start is not None:
        d = d[pd.to_datetime(d["date"]) >= pd.Timestamp(start)]
        s = s[pd.to_datetime(s["date"]) >= pd.Timestamp(start)]
    if end is not None:
        d = d[pd.to_datetime(d["date"]) <= pd.Timestamp(end)]
        s = s[pd.to_datetime(s["date"]) <= pd.Timestamp(end)]
    return d, s


def donor_list(donations: pd.DataFrame) -> pd.DataFrame:
    """The donors' public list (捐赠公示): one row per donor, largest total
    value first — donor, type, number of receipts, items given (e.g.
    ``牛奶 120箱；84消毒液 30桶``), total value, first and last date."""
    cols = ["donor", "donor_type", "receipts", "items", "value", "first_date", "last_date"]
    if donations.empty:
        return pd.DataFrame(columns=cols)
    per_item = donations.groupby(["donor", "item"], sort=True).agg(q=("quantity", "sum"), unit=("unit", "first"))
    items = per_item.reset_index().groupby("donor").apply(
        lambda g: "；".join(f"{i} {_num(q)}{u or ''}" for i, q, u in zip(g["item"], g["q"], g["unit"])),
        include_groups=False,
    )
    table = donations.groupby("donor").agg(
        donor_type=("donor_type", "first"), receipts=("voucher_no", "count"), value=("value", "sum"),
        first_date=("date", "min"), last_date=("date", "max"))
    table["items"] = items
    table["value"] = table["value"].round(2)
    table = table.reset_index().sort_values(["value", "donor"], ascending=[False, True])
    return table[cols].reset_index(drop=True)


def issued_by_village(distributions: pd.DataFrame, donations: pd.DataFrame, villages: list[str]) -> pd.DataFrame:
    """Where supplies went, per village: number of issues, quantity and value
    (at each item's average received unit value), every village listed."""
    per_item = donations.groupby("item").agg(q=("quantity", "sum"), v=("value", "sum"))
    unit_value = (per_item["v"] / per_item["q"]).replace([np.inf, -np.inf], np.nan).fillna(0.0)
    rows = distributions.assign(value=distributions["quantity"] * distributions["item"].map(unit_value).fillna(0.0))
    table = rows.groupby("village").agg(issues=("voucher_no", "count"), quantity=("quantity", "sum"),
                                        value=("value", "sum"))
    table = table.reindex(villages, fill_value=0)
    table.index.name = "village"
    table["value"] = table["value"].round(2)
    return table


def next_voucher_no(existing, prefix: str) -> str:
    """The next voucher number of a sequence, e.g. ``CK2022-029`` after ``CK2022-028``."""
    numbers = [int(n[len(prefix):]) for n in existing if isinstance(n, str) and n.startswith(prefix)
               and n[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1:03d}"
