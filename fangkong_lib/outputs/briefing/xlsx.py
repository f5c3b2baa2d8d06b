"""The briefing as a workbook: headline figures, the village table, each
list to act on and the 14-day series, a title row above each header.
Every cell goes through :func:`fangkong_lib.outputs.xlsx.append_row`."""

from __future__ import annotations

import io

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from ...config import SYNTHETIC_NOTE
from ...domain.daily import REPORT_DEADLINE
from ..xlsx import append_row, cell_value, write_title_and_header
from .figures import Briefing, village_table_with_total

__all__ = ["briefing_xlsx"]


def _sheet(wb: Workbook, name: str, title: str, frame: pd.DataFrame, note: str = "") -> None:
    ws = wb.create_sheet(name[:31])
    headers = [str(c) for c in frame.columns]
    write_title_and_header(ws, title, headers, size=13, align="left", wrap=True)
    for row in frame.itertuples(index=False, name=None):
        append_row(ws, row)
    if note:
        append_row(ws, [])
        append_row(ws, [note])
    for i, header in enumerate(headers, start=1):
        column = frame.iloc[:, i - 1]
        width = max([len(header) * 2 + 2] + [len(str(cell_value(v) or "")) * 2 for v in column])
        ws.column_dimensions[get_column_letter(i)].width = max(8, min(50, width))
        if len(frame) and pd.api.types.is_datetime64_any_dtype(column):
            fmt = "yyyy-mm-dd hh:mm" if column.dt.hour.any() else "yyyy-mm-dd"
            for (cell,) in ws.iter_rows(min_row=3, max_row=2 + len(frame), min_col=i, max_col=i):
                cell.number_format = fmt
    ws.freeze_panes = "A3"


def briefing_xlsx(b: Briefing) -> bytes:
    """The briefing as xlsx bytes (personal data masked, text stored as text)."""
    wb = Workbook()
    wb.remove(wb.active)
    suffix = f"（{SYNTHETIC_NOTE}；已脱敏）" if b.synthetic else "（已脱敏）"
    day = b.day.isoformat()
    headline = b.headline.drop(columns=["key"]).assign(指标=lambda f: f["指标"].str.strip("　"))
    _sheet(wb, "主要数据", f"{b.township}疫情防控工作日报·主要数据 {day}{suffix}", headline, b.summary)
    villages = village_table_with_total(b.villages).reset_index()
    _sheet(wb, "各村报告", f"{b.township}各村疫情防控日报告 {day}{suffix}", villages,
           f"{REPORT_DEADLINE:%H:%M} 前上报为按时；零报告为当日无新增情况的报告。")
    for a in [*b.actions, *b.places]:
        _sheet(wb, a.title.split("（")[0], f"{a.title} {day}{suffix}", a.rows, f"口径：{a.rule}")
    history = b.history.reset_index().assign(日期=lambda f: pd.to_datetime(f["日期"]))
    _sheet(wb, "近14日管控", f"近14日管控人数 {day}{suffix}", history)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
