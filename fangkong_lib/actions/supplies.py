"""Donated supplies (捐赠物资): receipts and issues, each one transaction
under the ``supplies`` lock, so two operators cannot both take the last box."""

from __future__ import annotations

from datetime import date
from typing import Iterable, Mapping

import sqlalchemy as sa

from .. import store
from ..domain.supplies import StockError, check_issue, next_voucher_no
from .base import ActionError, Tx, Voucher, as_date, transaction


def _voucher(tx: Tx, raw: dict, ledger_key: str, prefix: str, today: date) -> None:
    """Fill a blank voucher number with the next one of the form's year."""
    if (raw.get("voucher_no") or "").strip():
        return
    try:
        day = as_date(raw.get("date"))
    except ValueError:  # an unreadable date: validation names it below
        day = None
    table = store.TABLES[ledger_key]
    existing = [r[0] for r in tx.conn.execute(sa.select(table.c.voucher_no))]
    raw["voucher_no"] = next_voucher_no(existing, f"{prefix}{(day or today).year}-")


def receive_supplies(db, raw: Mapping, *, user: str, today: date | None = None) -> Voucher:
    """Record a receipt (入库) of donated supplies; the result names its
    voucher number (凭证编号, ``JZ2022-…`` when left blank).

    Raises
    ------
    ActionError
        A bad field, a quantity that is not positive, no storage place, or a
        voucher number already used.
    """
    raw = dict(raw)
    with transaction(db, "supplies", user=user) as tx:
        today = today or tx.today()
        _voucher(tx, raw, "donations", "JZ", today)
        record = tx.clean("donations", raw, villages=None, today=today)
        if record["quantity"] <= 0:
            raise ActionError.about("quantity", "数量", "数量应为正数", record["quantity"])
        if record.get("value") is not None and record["value"] < 0:
            raise ActionError.about("value", "估值", "估值不能为负数", record["value"])
        if not record.get("location"):
            raise ActionError.about("location", "存放位置", "请填写存放位置")
        if tx.exists("donations", record):
            raise ActionError.about("voucher_no", "凭证编号", f"凭证编号 {record['voucher_no']} 已登记过",
                                      record["voucher_no"])
        tx.upsert("donations", record)
    return Voucher(record["voucher_no"], f"已入库：{record['voucher_no']} {record['item']} "
                                         f"{record['quantity']:g}{record.get('unit') or ''}")


def issue_supplies(db, raw: Mapping, *, user: str, villages: Iterable[str] | None = None,
                   today: date | None = None) -> Voucher:
    """Record an issue (出库) of supplies after checking the stock; the
    result names its voucher number (出库单号, ``CK2022-…`` when left blank).
    An issue larger than the stock at that location, on that date or any
    later one, is refused with the stock in the message, and nothing is
    written. The stock is read under the lock, in the writing transaction."""
    raw = dict(raw)
    with transaction(db, "supplies", user=user) as tx:
        today = today or tx.today()
        _voucher(tx, raw, "distributions", "CK", today)
        record = tx.clean("distributions", raw, villages=tx.villages(villages), today=today)
        if not record.get("location"):
            raise ActionError.about("location", "出库仓库", "请选择出库仓库")
        donations = tx.frame("donations", store.TABLES["donations"].c.item == record["item"])
        issued = tx.frame("distributions", store.TABLES["distributions"].c.item == record["item"])
        try:
            check_issue(donations, issued, item=record["item"], location=record["location"],
                        quantity=record["quantity"], day=record["date"])
        except StockError as exc:
            raise ActionError.about("quantity", "数量", str(exc), record["quantity"]) from None
        if not record.get("unit") and donations["unit"].notna().any():
            record["unit"] = donations["unit"].dropna().iloc[0]
        if tx.exists("distributions", record):
            raise ActionError.about("voucher_no", "出库单号", f"出库单号 {record['voucher_no']} 已登记过",
                                      record["voucher_no"])
        tx.upsert("distributions", record)
    return Voucher(record["voucher_no"], f"已出库：{record['voucher_no']} {record['item']} "
                                         f"{record['quantity']:g}{record.get('unit') or ''} → {record.get('recipient') or ''}")
