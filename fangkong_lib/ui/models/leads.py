"""The leads page's model (线索核查), no widgets.

Set the filter traits (``source``, ``village``, ``grid``, ``lead_status``,
``overdue``, ``query``, ``at_text``: the moment statuses are computed for)
and read ``kpis``, ``map_html``, ``table_html`` and ``status``;
:meth:`LeadsModel.verify` closes a lead, :meth:`LeadsModel.assign` puts one
on a grid, ``selected`` shows every lead of that lead's person.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd
import traitlets as t

from ...actions import assign_lead, verify_lead
from ...domain.leads import (
    KPI_LABELS, LEAD_STATUSES, data_now, filter_leads, kpi_rows, lead_status, person_leads, summarize_leads,
)
from ...ingest.normalize import clean_text, mask_frame
from ...ledgers import LEAD_OUTCOMES, LEAD_SOURCES, RISK_CATEGORIES, get_ledger
from ...views.maps import map_iframe, render_map
from ...views.page_maps import make_leads_map
from ...views.tables import frame_html
from .base import ALL, PageModel

__all__ = ["LeadsModel", "TABLE_COLUMNS"]

TABLE_COLUMNS = {
    "lead_no": "线索编号", "source": "来源", "name": "姓名", "id_number": "身份证号", "village": "村", "grid": "网格",
    "assignee": "责任人", "received_at": "接收时间", "deadline": "截止时间", "status": "状态",
    "hours_left": "剩余(小时)", "outcome": "核查结果", "verifier": "核查人", "detail": "线索内容",
}
#: Ledgers a verification may change (the lead, the returnee workflow, the source rows).
RELOAD = ("leads", "returnees", "controls", "away", "tests", "pushes", "drug_buyers", "fever_reports")
_AT = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2})[ T]+(\d{1,2}):(\d{2})\s*$")


class LeadsModel(PageModel):
    """State of the leads page: filters in, figures out."""

    filters = ("source", "village", "grid", "lead_status", "overdue", "query", "at_text")
    kpi_lists = tuple(KPI_LABELS)

    source = t.Unicode(ALL)
    grid = t.Unicode(ALL)
    lead_status = t.Unicode(ALL)
    overdue = t.Bool(False)
    query = t.Unicode("")
    at_text = t.Unicode("")  # "YYYY-MM-DD HH:MM"; blank = the data's now

    count = t.Int(0)
    table_html = t.Unicode("")
    detail_html = t.Unicode("")
    grid_options = t.List()
    lead_options = t.List()  # (label, lead_no) of the open leads shown, for the forms
    selected = t.Unicode("")  # a lead_no: its person's leads are shown

    def __init__(self, data, **kwargs):
        self.table = pd.DataFrame()
        self.rows = pd.DataFrame()
        super().__init__(data, **kwargs)
        self.observe(self._on_village, names="village")

    # -- Options --------------------------------------------------------------------

    @property
    def source_options(self):
        return [("全部来源", ALL)] + [(s, s) for s in LEAD_SOURCES]

    @property
    def status_options(self):
        return [("全部状态", ALL)] + [(s, s) for s in LEAD_STATUSES]

    @property
    def outcome_options(self):
        return [(o, o) for o in LEAD_OUTCOMES if o != "已在管控中"]

    @property
    def risk_options(self):
        return [("按线索（或不填）", "")] + [(c, c) for c in RISK_CATEGORIES]

    def _grids(self, village: str = "") -> list[tuple[str, str]]:
        grids = self.data.ledgers["grids"]
        if village:
            grids = grids[grids["village"] == village]
        return [(f"{c}（{n}）", c) for c, n in zip(grids["code"], grids["natural_village"])]

    def _on_village(self, _change=None):
        self.grid_options = [("全部网格", ALL)] + self._grids(self.village)

    @t.validate("source")
    def _check_source(self, proposal):
        return self.one_of(proposal["value"], LEAD_SOURCES, "来源")

    @t.validate("lead_status")
    def _check_status(self, proposal):
        return self.one_of(proposal["value"], LEAD_STATUSES, "状态")

    @t.validate("grid")
    def _check_grid(self, proposal):
        return self.one_of(proposal["value"], set(self.data.ledgers["grids"]["code"]), "网格")

    @t.validate("selected")
    def _check_selected(self, proposal):
        return self.one_of(proposal["value"], set(self.data.ledgers["leads"]["lead_no"]), "线索")

    @t.observe("selected")
    def _on_selected(self, _change):
        self.detail_html = self._detail_html()

    # -- Time -------------------------------------------------------------------------

    @property
    def at(self) -> datetime:
        """The moment statuses are computed for: ``at_text``, else the data's now."""
        text = clean_text(self.at_text)
        if not text:
            return data_now(self.data.today)
        match = _AT.match(text)
        if not match:
            raise ValueError(f"时点「{text}」应写作 年-月-日 时:分，如 2022-04-07 17:00")
        day = datetime.fromisoformat(f"{pd.Timestamp(match.group(1)).date().isoformat()}")
        return day.replace(hour=int(match.group(2)), minute=int(match.group(3)))

    # -- Figures ------------------------------------------------------------------------

    def compute(self) -> str:
        if not self.grid_options:
            self._on_village()
        at = self.at
        table = lead_status(self.data.ledgers["leads"], at)
        rows = filter_leads(table, source=self.source, village=self.village, grid=self.grid,
                            status=self.lead_status, overdue=self.overdue, query=self.query)
        rows = rows.sort_values(["open", "deadline"], ascending=[False, True])
        self.table, self.rows = table, rows
        self.count = len(rows)
        self.kpis = summarize_leads(rows, at)
        self.table_html = self._table_html(rows)
        self.map_html = self._map_for(rows, at)
        shown = rows[rows["open"].to_numpy(dtype=bool)]
        self.lead_options = [(f"{n} {m}（{s}，{st}）", n) for n, m, s, st in
                             zip(shown["lead_no"], shown["name"], shown["source"], shown["status"])]
        if self.selected and self.selected not in set(table["lead_no"]):
            self.selected = ALL
        self.detail_html = self._detail_html()
        return f"已更新：{self._scope()} · {len(rows)} 条线索 · 截至 {at:%Y-%m-%d %H:%M}"

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in self.kpi_lists or self.rows is None:
            return None
        return KPI_LABELS[key], self._table_html(kpi_rows(self.rows, key, self.at))

    def _scope(self) -> str:
        parts = [self.shown_area, self.grid, self.source, self.lead_status, "只看逾期" if self.overdue else "",
                 self.query and f"“{self.query}”"]
        return " · ".join(p for p in parts if p)

    def _table_html(self, rows: pd.DataFrame) -> str:
        shown = mask_frame(rows, get_ledger("leads")).assign(
            received_at=rows["received_at"].dt.strftime("%m-%d %H:%M"),
            deadline=pd.to_datetime(rows["deadline"]).dt.strftime("%m-%d %H:%M"),
        )
        shown = shown[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-leads", max_rows=300, empty="没有符合条件的线索",
                          cell_class=lambda col, v: "fk-flag" if col == "状态" and v in ("已逾期", "逾期办结") else "")

    def _map_for(self, rows: pd.DataFrame, at: datetime) -> str:
        open_ = rows[rows["open"].to_numpy(dtype=bool) & rows["grid"].notna().to_numpy(dtype=bool)]
        counts = open_.groupby("grid").size()
        subtitle = f"{self._scope()} · 未办结 {int(rows['open'].sum())} 条 · {at:%Y-%m-%d %H:%M}"
        key = (tuple(counts.items()), self.village, subtitle)
        return self.cached_map(key, lambda: self._build_map(counts, subtitle))

    def _build_map(self, counts: pd.Series, subtitle: str) -> str:
        title = f"{self.data.township}线索核查分布"
        m = make_leads_map(self.data.grids, self.data.villages, self.data.naturals, counts,
                           village=self.village or None, title=title, subtitle=subtitle, note=self.data.source_note)
        return map_iframe(render_map(m), height=520, title=title)

    def _detail_html(self) -> str:
        """Every lead of the selected lead's person, closed ones included."""
        if not self.selected or self.table is None:
            return ""
        leads = self.data.ledgers["leads"]
        row = leads[leads["lead_no"] == self.selected]
        if row.empty:
            return ""
        mine = person_leads(leads, row.iloc[0]["id_number"])
        mine = lead_status(mine, max(pd.Timestamp(self.at), mine["received_at"].max()))
        returnees = self.data.ledgers["returnees"]
        found = returnees[returnees["id_number"] == row.iloc[0]["id_number"]]
        note = ("已在返乡台账：" + (f"{found.iloc[0]['actual_arrival']:%Y-%m-%d} 到达" if pd.notna(
            found.iloc[0]["actual_arrival"]) else "已报备未到达")) if len(found) else "不在返乡台账"
        return self._table_html(mine) + frame_html(pd.DataFrame({"返乡台账": [note]}), css_class="fk-table")

    # -- Forms ------------------------------------------------------------------------------

    def verify(self, lead_no: str, *, outcome: str, verified_at: str = "", measure: str = "",
               actual_arrival=None, risk_category: str = "", grid: str = "", note: str = "") -> bool:
        """Close a lead (核查办结); 已核实在本地 registers the person as a returnee with their plan."""
        def act():
            if not lead_no:
                raise ValueError("请先选择线索")
            raw = {"outcome": outcome, "verified_at": verified_at, "measure": measure, "note": note,
                   "actual_arrival": actual_arrival, "risk_category": risk_category, "grid": grid}
            return verify_lead(self.data.engine, lead_no, raw, user=self.operator, today=self.data.today)
        ok = self.run(act, reload=RELOAD)
        if ok:
            self.selected = lead_no
        return ok

    def assign(self, lead_no: str, *, grid: str, assignee: str = "") -> bool:
        """Put an open lead on a grid (分派)."""
        def act():
            if not lead_no:
                raise ValueError("请先选择线索")
            return assign_lead(self.data.engine, lead_no, {"grid": grid, "assignee": assignee}, user=self.operator)
        return self.run(act, reload=("leads",))
