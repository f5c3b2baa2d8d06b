"""Ledger exports for reporting upward: xlsx or csv, masked by default.

Both formats store the data as it is in the store, made safe for the
spreadsheet that opens it, never altered in the store itself:

- xlsx: every cell through :func:`fangkong_lib.outputs.xlsx.append_row`
  (text is text, never a live formula; blanks are empty cells); a title row
  above the Chinese header names the ledger and says 脱敏 / 合成演示数据.
- csv: the header is the first line (any CSV reader, ``pandas.read_csv``
  included, finds it); a cell that a spreadsheet would run as a formula
  (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is
  prefixed with a single quote, as OWASP recommends; numbers stay numbers.
  The 合成演示数据 label goes into the file name (:func:`export_file_name`).
"""

from __future__ import annotations

import csv
import numbers
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .. import store
from ..config import SYNTHETIC_NOTE
from ..ledgers import Ledger, get_ledger
from ..ingest.normalize import mask_frame
from .xlsx import append_row, cell_value, write_title_and_header

__all__ = ["ledger_title", "export_file_name", "frame_for_export", "write_xlsx", "write_csv", "csv_cell",
           "export_frame", "export_ledger"]

#: What a spreadsheet runs as a formula when a cell starts with it (OWASP CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The label a CSV of synthetic data carries in its file name (never above the header).
SYNTHETIC_FILE_LABEL = "合成演示数据"


def ledger_title(ledger: Ledger, *, masked: bool, synthetic: bool) -> str:
    """The xlsx title row: the ledger's title with 脱敏 / 合成演示数据 notes."""
    notes = [n for n in ("脱敏" if masked else "", SYNTHETIC_NOTE if synthetic else "") if n]
    return ledger.title + (f"（{'；'.join(notes)}）" if notes else "")


def export_file_name(stem: str, suffix: str, *, synthetic: bool) -> str:
    """A download's file name; synthetic data is labelled in the name, so a
    CSV (which has no title row) still says what it holds.

    >>> export_file_name("返乡报备", ".csv", synthetic=True)
    '返乡报备_合成演示数据.csv'
    """
    label = f"_{SYNTHETIC_FILE_LABEL}" if synthetic and SYNTHETIC_FILE_LABEL not in stem else ""
    return f"{stem}{label}{suffix}"


def _gathering_breaches(frame: pd.DataFrame) -> pd.Series:
    from ..domain.gatherings import gathering_table

    return gathering_table(frame)["breach_text"] if len(frame) else pd.Series([], dtype=object)


#: Columns computed from a ledger's rows that its exports carry after the
#: ledger's own (header → function of the rows); an import ignores them.
COMPUTED_COLUMNS = {"gatherings": {"不符合项": _gathering_breaches}}


def frame_for_export(frame: pd.DataFrame, ledger: Ledger, *, masked: bool = True) -> pd.DataFrame:
    """The tabular columns of ``frame`` with Chinese headers, masked by
    default, plus the ledger's computed columns (:data:`COMPUTED_COLUMNS`)."""
    cols = [f.key for f in ledger.tabular_fields if f.key in frame.columns]
    out = frame[cols]
    if masked:
        out = mask_frame(out, ledger)
    out = out.rename(columns=ledger.labels)
    for header, compute in COMPUTED_COLUMNS.get(ledger.key, {}).items():
        out = out.assign(**{header: compute(frame).to_numpy()})
    return out


_FORMATS = {"id_number": "@", "phone": "@", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}


def write_xlsx(frame: pd.DataFrame, ledger: Ledger, out: Path, *, title: str) -> None:
    """One sheet: a title row, the Chinese header row, then the rows. ID
    numbers and phones are text cells so Excel cannot damage them."""
    wb = Workbook()
    ws = wb.active
    ws.title = ledger.label[:31]
    fields = {f.label: f for f in ledger.tabular_fields}
    headers = [str(c) for c in frame.columns]
    write_title_and_header(ws, title, headers)
    for row in frame.itertuples(index=False, name=None):
        append_row(ws, row)
    for i, header in enumerate(headers, start=1):
        fld = fields.get(header)
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(10, min(40, len(header) * 2 + 4))
        fmt = _FORMATS.get(fld.type) if fld is not None else None
        if fld is not None and fld.type in ("id_number", "phone"):
            ws.column_dimensions[letter].width = 22
        if fmt:
            for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                cell.number_format = fmt
    ws.freeze_panes = "A3"
    wb.save(out)


def csv_cell(value) -> str | int | float:
    """One CSV cell: blanks empty, 是/否 for booleans, ISO dates; text that
    a spreadsheet would run as a formula prefixed with ``'``. A real negative
    number stays a number.

    >>> csv_cell(-3), csv_cell("-3+1"), csv_cell('=HYPERLINK("http://x")'), csv_cell(None)
    (-3, "'-3+1", '\\'=HYPERLINK("http://x")', '')
    """
    value = cell_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, numbers.Number):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(frame: pd.DataFrame, out: Path) -> None:
    """UTF-8 with BOM (Excel opens it correctly); the header row first."""
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_cell(str(c)) for c in frame.columns])
        for row in frame.itertuples(index=False, name=None):
            writer.writerow([csv_cell(v) for v in row])


def export_frame(frame: pd.DataFrame, ledger_key: str, out: Path, *, masked: bool = True,
                 synthetic: bool = False) -> int:
    """Write rows of a ledger (already filtered) to ``out`` (.xlsx or .csv);
    returns the number of rows."""
    ledger = get_ledger(ledger_key)
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"不支持的导出格式 {out.suffix!r}：请用 .xlsx 或 .csv")
    table = frame_for_export(frame, ledger, masked=masked)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if suffix == ".xlsx":
        write_xlsx(table, ledger, tmp, title=ledger_title(ledger, masked=masked, synthetic=synthetic))
    else:
        write_csv(table, tmp)
    tmp.replace(out)  # never leave a half-written file under the real name
    return len(table)


def export_ledger(engine, ledger_key: str, out: Path, *, masked: bool = True) -> int:
    """Export a whole ledger from the store; returns the number of rows."""
    get_ledger(ledger_key)
    frame = store.load_ledger(engine, ledger_key)
    synthetic = store.get_meta(engine).get("synthetic") == "1"
    return export_frame(frame, ledger_key, out, masked=masked, synthetic=synthetic)
