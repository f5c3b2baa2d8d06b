"""Leads (线索核查): the view of :class:`LeadsModel`.

Filters (source, village, grid, status, overdue, text, the moment), KPI
cards per source and overdue (each opens the leads it counts), the map of
open leads by grid, the table, one person's leads, and the verify and assign
forms. The model lives in :mod:`fangkong_lib.ui.models.leads` (no widgets).
"""

from __future__ import annotations

import ipywidgets as w

from ..domain.leads import KPI_LABELS
from .base import PageView
from .forms import form_box, labelled, row, section
from .models.leads import LeadsModel

__all__ = ["LeadsModel", "LeadsPage"]


class LeadsPage(PageView):
    """The leads dashboard: every lead from checkpoints, sentinels, pushes,
    assistance letters and the public, to its outcome."""

    title = "线索核查"
    model_class = LeadsModel
    kpi_labels = KPI_LABELS
    operator_note = "核查办结、分派前请填写操作人"

    def build(self) -> None:
        m = self.model
        self._source = self.bind(labelled(w.Dropdown(options=m.source_options, description="来源"),
                                          "fk-filter-source", "190px"), "source")
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "190px"), "village")
        self._grid = labelled(w.Dropdown(options=m.grid_options, description="网格"), "fk-filter-grid", "230px")
        m.observe(self._sync_grids, names="grid_options")
        w.link((m, "grid"), (self._grid, "value"))
        self._lstatus = self.bind(labelled(w.Dropdown(options=m.status_options, description="状态"),
                                           "fk-filter-status", "190px"), "lead_status")
        self._overdue = self.bind(labelled(w.Checkbox(description="只看逾期", indent=False),
                                           "fk-filter-overdue", "110px"), "overdue")
        self._query = self.bind(labelled(w.Text(description="查找", placeholder="姓名、线索编号、内容",
                                                continuous_update=False), "fk-filter-query", "240px"), "query")
        self._at = self.bind(labelled(w.Text(description="时点", placeholder=f"{m.at:%Y-%m-%d %H:%M}",
                                             continuous_update=False), "fk-filter-at", "230px"), "at_text")
        self._map = self.map_frame()
        self._table = self.html_view("table_html", "fk-leads-table")
        self._detail = self.html_view("detail_html", "fk-lead-history")
        self._lead = labelled(w.Dropdown(description="线索"), "fk-lead-select", "520px")
        self._lead.observe(self._on_lead, names="value")
        m.observe(self._sync_leads, names="lead_options")
        self._verify = self._build_verify()
        self._assign = self._build_assign()
        self._sync_leads()

    def filter_bar(self):
        return [row(self._source, self._village, self._grid, self._lstatus, self._overdue, self._query, self._at)]

    def export_bar(self):
        m = self.model

        def rows():
            leads = m.data.ledgers["leads"]
            return "leads", leads[leads["lead_no"].isin(m.rows["lead_no"] if len(m.rows) else [])]

        return [self.rows_export(rows, lambda: f"线索核查{'-' + m.village if m.village else ''}"),
                self.map_export(lambda: f"线索核查分布图_{m.at:%Y-%m-%d}")]

    def body(self):
        return [self._map, section("线索列表（未办结在前，按截止时间）"), self._table]

    def forms(self):
        return [section("核查与分派"), self._lead,
                w.HBox([self._verify, self._assign], layout=w.Layout(align_items="flex-start")).add_class("fk-gap"),
                section("此人的全部线索（含已办结）"), self._detail]

    def _build_verify(self) -> w.VBox:
        m = self.model
        self._outcome = labelled(w.Dropdown(options=m.outcome_options, description="核查结果"), "fk-verify-outcome",
                                 "260px")
        self._verified_at = labelled(w.Text(description="核查时间", placeholder="默认现在，如 2022-04-07 16:30"),
                                     "fk-verify-time", "300px")
        self._measure = labelled(w.Text(description="落实措施"), "fk-verify-measure", "300px")
        self._arrival = labelled(w.DatePicker(description="到达日期"), "fk-verify-arrival", "230px")
        self._risk = labelled(w.Dropdown(options=m.risk_options, description="风险类别"), "fk-verify-risk", "280px")
        self._save = w.Button(description="核查办结", button_style="danger", icon="check").add_class("fk-verify-save")
        self._save.on_click(self._on_verify)
        return form_box("核查办结（已核实在本地：纳入返乡人员管理并生成管控方案）", [
            row(self._outcome, self._verified_at), row(self._measure),
            row(self._arrival, self._risk), self._save,
        ], "fk-verify-form")

    def _build_assign(self) -> w.VBox:
        self._to_grid = labelled(w.Dropdown(options=self.model._grids(), description="分派到网格"),
                                 "fk-assign-grid", "300px")
        self._assignee = labelled(w.Text(description="责任人", placeholder="默认网格的下沉乡干部、联户党员"),
                                  "fk-assign-assignee", "320px")
        self._assign_btn = w.Button(description="分派", icon="share").add_class("fk-assign-save")
        self._assign_btn.on_click(self._on_assign)
        return form_box("分派（待分派的线索：指定网格）", [self._to_grid, self._assignee, self._assign_btn],
                        "fk-assign-form")

    def _sync_grids(self, _change=None):
        options = self.model.grid_options
        if list(self._grid.options) != options:
            self._grid.options = options
            self._grid.value = self.model.grid if self.model.grid in {c for _, c in options} else ""

    def _sync_leads(self, _change=None):
        options = self.model.lead_options
        if list(self._lead.options) != options:
            current = self._lead.value
            self._lead.options = options
            codes = [c for _, c in options]
            self._lead.value = current if current in codes else (codes[0] if codes else None)

    def _on_lead(self, _change=None):
        if self._lead.value:
            self.model.selected = self._lead.value

    def _on_verify(self, _b=None):
        ok = self.model.verify(self._lead.value, outcome=self._outcome.value, verified_at=self._verified_at.value,
                               measure=self._measure.value, actual_arrival=self._arrival.value,
                               risk_category=self._risk.value)
        if ok:
            self._verified_at.value = self._measure.value = ""

    def _on_assign(self, _b=None):
        self.model.assign(self._lead.value, grid=self._to_grid.value, assignee=self._assignee.value)
