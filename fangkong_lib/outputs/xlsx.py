"""Empty Excel templates for the ledgers, derived from their definitions.

A template has the ledger's title row, the Chinese headers, ID-number and
phone columns formatted as text (so Excel cannot turn them into 4.11625E+17),
dropdown lists for fields with allowed values, and a second sheet explaining
every column. A file filled in from it imports without header trouble.

Every workbook this package writes fills its cells through :func:`set_cell` /
:func:`append_row`: text is stored as text (``data_type = "s"``), so a value
such as ``=HYPERLINK(...)`` typed by a village never becomes a live formula;
numbers stay numbers, dates stay dates and blanks (``None``, NaN, ``pd.NA``,
``NaT``) become empty cells.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from ..ledgers import MASKED_PII_KINDS, get_ledger

TEMPLATE_ROWS = 500  # rows prepared with formats and dropdowns
TYPE_LABELS = {
    "text": "文本", "int": "整数", "float": "数字", "date": "日期（如 2022-04-05）",
    "datetime": "日期时间（如 2022-04-05 08:30）", "bool": "是/否", "id_number": "18 位身份证号（文本）",
    "phone": "11 位手机号或 0394 座机（文本）", "list": "多个值用 ; 分隔",
}


def cell_value(value):
    """The Python value a cell stores for ``value``.

    Blanks of every kind become ``None``; pandas timestamps become
    ``datetime`` (``date`` at midnight); numpy scalars become Python ones.

    >>> import pandas as pd, numpy as np
    >>> cell_value(pd.NA), cell_value(float("nan")), cell_value(np.int64(3))
    (None, None, 3)
    >>> cell_value(pd.Timestamp("2022-04-07"))
    datetime.date(2022, 4, 7)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        value = value.to_pydatetime()
        return value.date() if value.time() == dt.time(0) and value.tzinfo is None else value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        value = value.item()
        if isinstance(value, float) and math.isnan(value):
            return None
    return value


def set_cell(ws, row: int, column: int, value):
    """Write one cell: text as text (never a formula), numbers as numbers,
    dates as dates, blanks as empty cells. Returns the cell."""
    value = cell_value(value)
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"  # openpyxl would otherwise store "=..." as a formula
    else:
        cell.value = value
    return cell


def append_row(ws, values) -> int:
    """Write ``values`` as the next row of ``ws`` (like ``ws.append``, so an
    empty list leaves a spacer row), each cell as :func:`set_cell` would;
    returns the row number."""
    values = [cell_value(v) for v in values]
    ws.append(values)
    row = ws._current_row  # where ws.append wrote, spacer rows included
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            ws.cell(row=row, column=column).data_type = "s"
    return row


def write_title_and_header(ws, title: str, headers: list[str], *, size: int = 14, align: str = "center",
                           wrap: bool = False) -> None:
    """The house layout of every sheet we write: a merged, bold title row,
    then a bold, shaded header row (importing finds the header below it)."""
    append_row(ws, [title])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(1, len(headers)))
    ws["A1"].font = Font(bold=True, size=size)
    ws["A1"].alignment = Alignment(horizontal=align)
    append_row(ws, list(headers))
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF2F7")
        if wrap:
            cell.alignment = Alignment(wrap_text=True, vertical="center")


#: What each kind of personal data is called in a template's 填写说明.
PII_NAMES = {"id": "身份证号", "phone": "电话", "name": "姓名", "address": "地址"}


def _pii_note(kind: str | None) -> str:
    """``身份证号（导出默认脱敏）`` for a kind masked by default
    (:data:`fangkong_lib.ledgers.MASKED_PII_KINDS`), its name otherwise."""
    if not kind:
        return ""
    return PII_NAMES[kind] + ("（导出默认脱敏）" if kind in MASKED_PII_KINDS else "")


def write_template(ledger_key: str, out: Path | str) -> Path:
    """Write the empty template of a ledger to ``out`` (.xlsx)."""
    ledger = get_ledger(ledger_key)
    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise ValueError(f"模板只能保存为 .xlsx，收到 {out.suffix!r}")
    fields = ledger.tabular_fields
    wb = Workbook()
    ws = wb.active
    ws.title = ledger.label[:31]
    write_title_and_header(ws, ledger.title, [f.label for f in fields])
    last = TEMPLATE_ROWS + 2
    for i, fld in enumerate(fields, start=1):
        cell = ws.cell(row=2, column=i)
        cell.font = Font(bold=True, color="9C0006" if fld.required else "000000")
        cell.fill = PatternFill("solid", fgColor="FDE2E0" if fld.required else "EEF2F7")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = 22 if fld.type in ("id_number", "phone", "datetime") else max(
            10, len(fld.label) * 2 + 4)
        if fld.doc or fld.required:
            cell.comment = Comment(("必填。" if fld.required else "") + (fld.doc or ""), "防控工作台")
        fmt = {"id_number": "@", "phone": "@", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}.get(fld.type)
        if fmt:
            for (c,) in ws.iter_rows(min_row=3, max_row=last, min_col=i, max_col=i):
                c.number_format = fmt
        choices = fld.choices or (("是", "否") if fld.type == "bool" else ())
        if choices:
            dv = DataValidation(type="list", formula1=f'"{",".join(choices)}"', allow_blank=True,
                                showErrorMessage=True, errorTitle="不在可选值中",
                                error=f"{fld.label} 只能填：{'、'.join(choices)}")
            ws.add_data_validation(dv)
            dv.add(f"{letter}3:{letter}{last}")
    ws.freeze_panes = "A3"

    doc = wb.create_sheet("填写说明")
    append_row(doc, [f"{ledger.title}：填写说明"])
    doc["A1"].font = Font(bold=True, size=13)
    append_row(doc, ["列名", "必填", "类型", "可选值", "也可写作", "个人信息", "说明"])
    for c in doc[2]:
        c.font = Font(bold=True)
    for fld in fields:
        append_row(doc, [
            fld.label, "是" if fld.required else "", TYPE_LABELS.get(fld.type, fld.type),
            "、".join(fld.choices), "、".join(fld.aliases),
            _pii_note(fld.pii),
            fld.doc,
        ])
    append_row(doc, [])
    append_row(doc, ["身份证号、电话列已设为文本格式，请勿改成数字格式，否则 Excel 会把身份证号变成 4.11625E+17 或把末三位变成 000。"])
    for letter, width in zip("ABCDEFG", (20, 6, 28, 40, 30, 22, 40)):
        doc.column_dimensions[letter].width = width
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    wb.save(tmp)
    tmp.replace(out)
    return out
