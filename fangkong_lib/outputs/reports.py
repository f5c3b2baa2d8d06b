"""The import error report (导入错误报告): the rejected rows of an import
with their original row numbers, values and reasons, ready for the village
to fix and send back.

Rejected rows are exactly where hostile or broken values end up, so the
report is written through :func:`fangkong_lib.outputs.xlsx.append_row` like
every other workbook: a value such as ``=HYPERLINK(...)`` stays text.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from ..actions import import_ledger
from ..ingest.importer import ImportResult
from ..ledgers import get_ledger
from .xlsx import append_row

__all__ = ["write_error_report", "import_with_report"]


def _report_value(value):
    if isinstance(value, float) and value.is_integer() and abs(value) >= 1e11:
        return f"{value:.6g}"  # show the number as Excel damaged it
    return value


def write_error_report(result: ImportResult, out: Path | str) -> Path:
    """Write the rejected rows of ``result`` to ``out`` (.xlsx); returns the path."""
    out = Path(out)
    ledger = get_ledger(result.ledger)
    wb = Workbook()
    ws = wb.active
    ws.title = "需修改的行"
    append_row(ws, [f"{ledger.title} 导入错误报告：{Path(result.path).name}"
                    f"（共 {result.rejected} 行需修改，改好后可重新导入）"])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, ["原行号", "错误原因", *result.headers])
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDE2E0")
    for row in result.rejected_rows:
        append_row(ws, [row.row, "；".join(row.reasons), *[_report_value(v) for v in row.values]])
    ws.column_dimensions["B"].width = 60
    for (cell,) in ws.iter_rows(min_row=3, min_col=2, max_col=2):
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col in range(3, 3 + len(result.headers)):
        for (cell,) in ws.iter_rows(min_row=3, min_col=col, max_col=col):
            cell.number_format = "@"
    ws.freeze_panes = "C3"
    info = wb.create_sheet("导入汇总")
    for label, value in [("台账", ledger.label), ("文件", Path(result.path).name), ("表头所在行", result.header_row),
                         ("读取", result.read), ("新增", result.inserted), ("更新", result.updated),
                         ("未变", result.unchanged), ("重复", result.duplicates), ("拒收", result.rejected)]:
        append_row(info, [label, value])
    for warning in result.warnings:
        append_row(info, ["提示", warning])
    if result.flagged:
        flagged = wb.create_sheet("不符合防控规定")
        append_row(flagged, [f"{ledger.title}：已导入但不符合防控规定的行（共 {len(result.flagged)} 行，须劝导整改）"])
        append_row(flagged, ["原行号", "报备", "不符合项"])
        for row in result.flagged:
            append_row(flagged, list(row))
        flagged.column_dimensions["B"].width = 30
        flagged.column_dimensions["C"].width = 60
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    wb.save(tmp)
    tmp.replace(out)
    return out


def import_with_report(db, ledger_key: str, path, *, report: Path | str | None = None,
                       **kwargs) -> ImportResult:
    """:func:`fangkong_lib.actions.import_ledger`, then the error report
    written to ``report`` when rows were rejected (``result.report`` set)."""
    result = import_ledger(db, ledger_key, path, **kwargs)
    if report is not None and (result.rejected_rows or result.flagged):
        write_error_report(result, report)
        result.report = str(report)
    return result
