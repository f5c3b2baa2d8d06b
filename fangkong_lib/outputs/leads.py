"""The leads list as a file (``fangkong export leads``): every lead with its
status at a given moment, masked unless asked."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from .. import store
from ..domain.leads import data_now, lead_status
from ..ingest.normalize import mask_frame
from ..ledgers import get_ledger
from .exports import ledger_title, write_csv, write_xlsx

__all__ = ["LEAD_EXPORT_COLUMNS", "export_leads"]

#: Columns of the file, in order: the ledger's labels, plus the status at the moment.
LEAD_EXPORT_COLUMNS = ("lead_no", "source", "name", "id_number", "village", "grid", "received_at", "deadline",
                       "status", "outcome")


def export_leads(engine, out: Path, *, masked: bool = True, at: datetime | None = None) -> tuple[int, datetime]:
    """Write every lead received by ``at`` (default: the data's now) with
    its status then (待分派 / 待核查 / 已逾期 / 已办结 / 逾期办结) to ``out``
    (.csv or .xlsx). Returns (rows, the moment used)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ValueError(f"不支持的导出格式 {out.suffix!r}：请用 .xlsx 或 .csv")
    meta = store.get_meta(engine)
    at = at or data_now(store.data_today(meta))
    ledger = get_ledger("leads")
    table = lead_status(store.load_ledger(engine, "leads"), at).sort_values(["received_at", "lead_no"])
    if masked:
        table = mask_frame(table, ledger)
    labels = {**ledger.labels, "status": "状态"}
    frame = table[list(LEAD_EXPORT_COLUMNS)].rename(columns=labels)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if suffix == ".xlsx":
        title = ledger_title(ledger, masked=masked, synthetic=meta.get("synthetic") == "1")
        write_xlsx(frame, ledger, tmp, title=f"{title}（状态截至 {at:%Y-%m-%d %H:%M}）")
    else:
        write_csv(frame, tmp)
    tmp.replace(out)
    return len(frame), at
