"""The ledger browser's model (台账查询与导出): any ledger, filtered, masked.

Personal data is always masked on this page and in its exports; an
unmasked export is a deliberate act on the command line (``--unmasked``).
"""

from __future__ import annotations

import pandas as pd
import traitlets as t

from ...ingest.normalize import mask_frame
from ...ledgers import LEDGERS, get_ledger
from ...views.tables import frame_html
from .base import PageModel
from .files import export_bytes


def filter_rows(frame: pd.DataFrame, *, village: str = "", query: str = "", ledger: str = "") -> pd.DataFrame:
    """Rows of one village whose text contains ``query`` (in any column)."""
    out = frame
    column = "name" if ledger == "villages" else "village"
    if village and column in out.columns:
        out = out[out[column] == village]
    query = query.strip()
    if query and len(out):
        # search what the user can see: masked, so digits of a hidden ID
        # cannot be probed by typing them
        shown = mask_frame(out, get_ledger(ledger)) if ledger else out
        text = shown.astype(str).fillna("").agg(" ".join, axis=1)
        out = out[text.str.contains(query, regex=False).to_numpy()]
    return out


class LedgerModel(PageModel):
    """Set ``ledger``, ``village``, ``query``; read ``count`` and ``table_html``."""

    filters = ("ledger", "village", "query")

    ledger = t.Unicode("returnees")
    query = t.Unicode("")
    count = t.Int(0)
    table_html = t.Unicode("")

    @property
    def ledger_options(self) -> list[tuple[str, str]]:
        return [(led.label, key) for key, led in LEDGERS.items()]

    @t.validate("ledger")
    def _check_ledger(self, proposal):
        if proposal["value"] not in LEDGERS:
            raise t.TraitError(f"未知台账：{proposal['value']}")
        return proposal["value"]

    def rows(self) -> pd.DataFrame:
        return filter_rows(self.data.ledgers[self.ledger], village=self.village, query=self.query, ledger=self.ledger)

    def compute(self) -> str:
        ledger = get_ledger(self.ledger)
        rows = self.rows()
        cols = [f.key for f in ledger.tabular_fields]
        shown = mask_frame(rows[cols], ledger).rename(columns=ledger.labels)
        self.count = len(rows)
        self.table_html = frame_html(shown, max_rows=200, empty="没有符合条件的记录")
        return f"{ledger.label}：{len(rows)} 行（身份证号、电话已脱敏）"

    def file_stem(self) -> str:
        return f"{get_ledger(self.ledger).label}{'-' + self.village if self.village else ''}"

    def export(self, suffix: str) -> tuple[str, bytes]:
        """The filtered rows as a masked file: (file name, content)."""
        content = export_bytes(self.rows(), self.ledger, suffix, synthetic=self.data.synthetic)
        return self.file_stem() + suffix, content
