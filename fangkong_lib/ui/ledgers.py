"""Ledger browser (台账查询与导出): any ledger, filtered, masked, exportable.

Personal data is always masked on this page and in its exports; an
unmasked export is a deliberate act on the command line (``--unmasked``).
"""

from __future__ import annotations

import ipywidgets as w
import pandas as pd
import traitlets as t

from ..dataset import Dataset
from ..ledgers import LEDGERS, get_ledger
from ..ingest.normalize import mask_frame
from ..views.tables import frame_html
from .common import page_header, status_html, village_choices
from .exportbar import ExportBar, export_bytes

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


class LedgerModel(t.HasTraits):
    ledger = t.Unicode("returnees")
    village = t.Unicode("")
    query = t.Unicode("")

    count = t.Int(0)
    table_html = t.Unicode("")
    status = t.Unicode("")
    error = t.Bool(False)

    def __init__(self, data: Dataset, **kwargs):
        self.data = data
        super().__init__(**kwargs)
        self.refresh()

    @t.validate("ledger")
    def _check_ledger(self, proposal):
        if proposal["value"] not in LEDGERS:
            raise t.TraitError(f"未知台账：{proposal['value']}")
        return proposal["value"]

    @t.observe("ledger", "village", "query")
    def _on_filter(self, _change):
        self.refresh()

    def rows(self) -> pd.DataFrame:
        return filter_rows(self.data.ledgers[self.ledger], village=self.village, query=self.query, ledger=self.ledger)

    def refresh(self) -> None:
        try:
            ledger = get_ledger(self.ledger)
            rows = self.rows()
            cols = [f.key for f in ledger.tabular_fields]
            shown = mask_frame(rows[cols], ledger).rename(columns=ledger.labels)
            self.count = len(rows)
            self.table_html = frame_html(shown, max_rows=200, empty="没有符合条件的记录")
            self.status = f"{ledger.label}：{len(rows)} 行（身份证号、电话已脱敏）"
            self.error = False
        except Exception as exc:
            self.status, self.error = f"出错：{exc}", True

    def file_stem(self) -> str:
        return f"{get_ledger(self.ledger).label}{'-' + self.village if self.village else ''}"

    def export(self, suffix: str) -> tuple[str, bytes]:
        """The filtered rows as a masked file: (file name, content)."""
        content = export_bytes(self.rows(), self.ledger, suffix, synthetic=self.data.synthetic)
        return self.file_stem() + suffix, content


class LedgerPage(w.VBox):
    def __init__(self, model: LedgerModel | None = None, *, db=None, **kwargs):
        self.model = model or LedgerModel(Dataset.load(db))
        m = self.model
        self._ledger = w.Dropdown(options=[(led.label, key) for key, led in LEDGERS.items()],
                                  description="台账", layout=w.Layout(width="260px"))
        self._village = w.Dropdown(options=village_choices(m.data),
                                   description="村", layout=w.Layout(width="220px"))
        self._query = w.Text(description="查找", placeholder="姓名、网格、场所…", continuous_update=False,
                             layout=w.Layout(width="280px"))
        self._ledger.add_class("fk-filter-ledger")
        self._village.add_class("fk-filter-village")
        self._query.add_class("fk-filter-query")
        w.link((m, "ledger"), (self._ledger, "value"))
        w.link((m, "village"), (self._village, "value"))
        w.link((m, "query"), (self._query, "value"))
        self._export_bar = ExportBar(lambda: (m.ledger, m.rows()), m.file_stem, synthetic=m.data.synthetic)
        self._table = w.HTML().add_class("fk-ledger-table")
        self._status = w.HTML().add_class("fk-status")
        m.observe(self._render, names=["table_html", "status", "error"])
        self._render()
        super().__init__(
            [
                w.HTML(page_header("台账查询与导出", m.data)),
                w.HBox([self._ledger, self._village, self._query], layout=w.Layout(flex_flow="row wrap")),
                self._export_bar,
                self._status,
                self._table,
            ],
            **kwargs,
        )
        self.add_class("fk-page")

    def _render(self, _change=None):
        self._table.value = self.model.table_html
        self._status.value = status_html(self.model.status, self.model.error)
        self._export_bar.clear()
