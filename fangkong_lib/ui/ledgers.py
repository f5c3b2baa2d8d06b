"""Ledger browser (台账查询与导出): the view of :class:`LedgerModel`.

Personal data is always masked on this page and in its exports; an
unmasked export is a deliberate act on the command line (``--unmasked``).
"""

from __future__ import annotations

import ipywidgets as w

from .base import PageView
from .models.ledgers import LedgerModel, filter_rows

__all__ = ["LedgerModel", "LedgerPage", "filter_rows"]


class LedgerPage(PageView):
    """Pick a ledger, a village and a search text; read and export the rows."""

    title = "台账查询与导出"
    model_class = LedgerModel

    def build(self) -> None:
        m = self.model
        self._ledger = self.bind(w.Dropdown(options=m.ledger_options, description="台账",
                                            layout=w.Layout(width="260px")), "ledger", "fk-filter-ledger")
        self._village = self.bind(w.Dropdown(options=m.village_options, description="村",
                                             layout=w.Layout(width="220px")), "village", "fk-filter-village")
        self._query = self.bind(w.Text(description="查找", placeholder="姓名、网格、场所…", continuous_update=False,
                                       layout=w.Layout(width="280px")), "query", "fk-filter-query")
        self._export_bar = self.rows_export(lambda: (m.ledger, m.rows()), m.file_stem)
        self._table = self.html_view("table_html", "fk-ledger-table")
        m.observe(lambda _change: self._export_bar.clear(), names=["table_html"])

    def filter_bar(self):
        return [w.HBox([self._ledger, self._village, self._query], layout=w.Layout(flex_flow="row wrap"))]

    def export_bar(self):
        return [self._export_bar]

    def body(self):
        return [self._table]
