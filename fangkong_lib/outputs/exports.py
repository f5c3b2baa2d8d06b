"""Files for reporting upward: ledger exports (masked by default) and maps."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from .. import store
from ..config import SYNTHETIC_NOTE, TOWNSHIP_NAME
from .xlsx import write_title_and_header
from ..ledgers import Ledger, get_ledger
from ..ingest.normalize import mask_frame

TEXT_TYPES = ("id_number", "phone", "text", "list")


def ledger_title(ledger: Ledger, *, masked: bool, synthetic: bool) -> str:
    notes = [n for n in ("脱敏" if masked else "", SYNTHETIC_NOTE if synthetic else "") if n]
    return ledger.title + (f"（{'；'.join(notes)}）" if notes else "")


def _cell_value(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().date() if value == value.normalize() else value.to_pydatetime()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def frame_for_export(frame: pd.DataFrame, ledger: Ledger, *, masked: bool = True) -> pd.DataFrame:
    """The tabular columns of ``frame`` with Chinese headers, masked by default."""
    cols = [f.key for f in ledger.tabular_fields if f.key in frame.columns]
    out = frame[cols]
    if masked:
        out = mask_frame(out, ledger)
    return out.rename(columns=ledger.labels)


def write_xlsx(frame: pd.DataFrame, ledger: Ledger, out: Path, *, title: str) -> None:
    """One sheet: a title row, the Chinese header row, then the rows. ID
    numbers and phones are written as text cells so Excel cannot damage them."""
    wb = Workbook()
    ws = wb.active
    ws.title = ledger.label[:31]
    fields = {f.label: f for f in ledger.tabular_fields}
    headers = list(frame.columns)
    write_title_and_header(ws, title, headers)
    for row in frame.itertuples(index=False, name=None):
        ws.append([_cell_value(v) for v in row])
    for i, header in enumerate(headers, start=1):
        fld = fields.get(header)
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(10, min(40, len(header) * 2 + 4))
        fmt = None
        if fld is not None and fld.type in ("id_number", "phone"):
            fmt = "@"
            ws.column_dimensions[letter].width = 22
        elif fld is not None and fld.type == "date":
            fmt = "yyyy-mm-dd"
        elif fld is not None and fld.type == "datetime":
            fmt = "yyyy-mm-dd hh:mm"
        if fmt:
            for (cell,) in ws.iter_rows(min_row=3, min_col=i, max_col=i):
                cell.number_format = fmt
    ws.freeze_panes = "A3"
    wb.save(out)


def write_csv(frame: pd.DataFrame, out: Path, *, title: str) -> None:
    """UTF-8 with BOM (Excel opens it correctly), a title line, then the table."""
    with open(out, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([title])
        writer.writerow(list(frame.columns))
        for row in frame.itertuples(index=False, name=None):
            writer.writerow(["" if v is None else _csv_value(v) for v in row])


def _csv_value(value):
    value = _cell_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


def export_frame(frame: pd.DataFrame, ledger_key: str, out: Path, *, masked: bool = True,
                 synthetic: bool = False) -> int:
    """Write rows of a ledger (already filtered) to ``out`` (.xlsx or .csv)."""
    ledger = get_ledger(ledger_key)
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"不支持的导出格式 {out.suffix!r}：请用 .xlsx 或 .csv")
    table = frame_for_export(frame, ledger, masked=masked)
    title = ledger_title(ledger, masked=masked, synthetic=synthetic)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if suffix == ".xlsx":
        write_xlsx(table, ledger, tmp, title=title)
    else:
        write_csv(table, tmp, title=title)
    tmp.replace(out)  # never leave a half-written file under the real name
    return len(table)


def export_ledger(engine, ledger_key: str, out: Path, *, masked: bool = True) -> int:
    """Export a whole ledger from the store; returns the number of rows."""
    get_ledger(ledger_key)
    frame = store.load_ledger(engine, ledger_key)
    synthetic = store.get_meta(engine).get("synthetic") == "1"
    return export_frame(frame, ledger_key, out, masked=masked, synthetic=synthetic)


def export_map(engine, out: Path, *, basemap: str = "none", title: str | None = None,
               day: date | None = None, village: str | None = None) -> Path:
    """The situation map for a date as one self-contained HTML file."""
    from ..domain.overview import summarize_overview
    from ..dataset import Dataset
    from ..views.maps import make_overview_map, render_map

    out = Path(out)
    if out.suffix.lower() != ".html":
        raise ValueError(f"地图导出目前支持 .html，收到 {out.suffix!r}")
    data = Dataset.load(engine)
    day = day or data.today
    if village and village not in data.village_names:
        raise ValueError(f"未知的村：{village}")
    ov = summarize_overview(data.ledgers, day, village=village)
    m = make_overview_map(
        data.grids, data.villages, data.naturals, ov.by_grid, village=village, basemap=basemap,
        title=title or f"{TOWNSHIP_NAME}疫情防控态势图", subtitle=" · ".join(x for x in (village, day.isoformat()) if x),
        note=data.source_note,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_map(m), encoding="utf-8")
    return out
