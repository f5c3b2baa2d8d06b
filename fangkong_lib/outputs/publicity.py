"""The public acknowledgement of donated supplies (捐赠物资公示) as an Excel
workbook: donors with their totals, the receipts and where supplies went.

Made to be posted: no phone numbers, no contact persons, the names of
people who took supplies masked (张*明).
"""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..ingest.normalize import mask_name
from ..ledgers import get_ledger
from .xlsx import append_row, write_title_and_header

DONOR_HEADERS = {"donor": "捐赠方", "donor_type": "类型", "receipts": "捐赠次数", "items": "捐赠物资",
                 "value": "估值合计(元)", "first_date": "首次捐赠", "last_date": "最近捐赠"}


def _ledger_headers(ledger_key: str, keys: tuple[str, ...]) -> dict[str, str]:
    """The ledger's own Chinese headers for ``keys`` (one place for labels)."""
    labels = get_ledger(ledger_key).labels
    return {key: labels[key] for key in keys}


RECEIPT_HEADERS = _ledger_headers("donations", ("date", "voucher_no", "donor", "directed", "directed_to", "item",
                                                "spec", "quantity", "unit", "value", "receiver", "supervisor"))
ISSUE_HEADERS = _ledger_headers("distributions", ("date", "voucher_no", "item", "quantity", "unit", "recipient_type",
                                                  "recipient", "village", "taker", "handler"))


def _sheet(ws, title: str, frame: pd.DataFrame, headers: dict[str, str], total: dict | None = None) -> None:
    cols = [c for c in headers if c in frame.columns]
    write_title_and_header(ws, title, [headers[c] for c in cols])
    for row in frame[cols].itertuples(index=False, name=None):
        append_row(ws, row)
    if total:
        append_row(ws, [total.get(c) for c in cols])
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
    for i, c in enumerate(cols, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = 48 if c == "items" else max(10, len(headers[c]) * 2 + 4)
        if c in ("date", "first_date", "last_date"):
            for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "A3"


def donor_list_workbook(donors: pd.DataFrame, receipts: pd.DataFrame, issues: pd.DataFrame, *,
                        township: str, day: date, note: str = "") -> bytes:
    """The 公示 workbook (xlsx bytes): sheet 捐赠公示 (``donors`` as from
    :func:`fangkong_lib.domain.supplies.donor_list`, with a 合计 row),
    接收明细 and 发放明细 (takers' names masked)."""
    suffix = f"（截至 {day.isoformat()}{'；' + note if note else ''}）"
    wb = Workbook()
    ws = wb.active
    ws.title = "捐赠公示"
    total = {"donor": "合计", "receipts": int(donors["receipts"].sum()) if len(donors) else 0,
             "value": round(float(donors["value"].sum()), 2) if len(donors) else 0.0}
    _sheet(ws, f"{township}疫情防控捐赠物资公示{suffix}", donors, DONOR_HEADERS, total)
    _sheet(wb.create_sheet("接收明细"), f"{township}捐赠物资接收明细{suffix}", receipts, RECEIPT_HEADERS)
    shown = issues.assign(taker=issues["taker"].map(lambda v: mask_name(v) if isinstance(v, str) else v))
    _sheet(wb.create_sheet("发放明细"), f"{township}捐赠物资发放明细{suffix}", shown, ISSUE_HEADERS)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
