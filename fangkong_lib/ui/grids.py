"""Grid responsibility (网格责任, 网格线): the view of :class:`GridsModel`.

Filters (village, natural village, level, coverage state), KPI cards (each
opens the rows it counts), the map coloured by household coverage whose
tooltips name the people at every level, the coverage per village, the
six-level tree per village, the history of reassignments, and two forms:
调整责任人 (a node's new person) and 党员联户 (households linked to a party
member). The model lives in :mod:`fangkong_lib.ui.models.grids` (no widgets).
"""

from __future__ import annotations

import ipywidgets as w

from ..domain.grids import KPI_LABELS
from ..views.grids import GRIDS_CSS
from .base import PageView, safe_html
from .exportbar import MapExportBar
from .forms import form_box, labelled, row, section
from .models.grids import GridsModel

__all__ = ["GridsModel", "GridsPage"]


class GridsPage(PageView):
    """The grid-responsibility dashboard."""

    title = "网格责任"
    model_class = GridsModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人"
    extra_css = GRIDS_CSS

    def build(self) -> None:
        m = self.model
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "200px"), "village")
        self._natural = labelled(w.Dropdown(options=m.natural_village_options, description="自然村"),
                                 "fk-filter-natural", "220px")
        self._natural.value = m.natural_village
        self._natural.observe(self._on_natural, names="value")
        m.observe(self._sync_naturals, names=["village", "natural_village"])
        self._level = self.bind(labelled(w.Dropdown(options=m.level_options, description="层级"),
                                         "fk-filter-level", "200px"), "level")
        self._state = self.bind(labelled(w.Dropdown(options=m.state_options, description="覆盖状态"),
                                         "fk-filter-state", "220px"), "coverage_state")
        self._map = self.map_frame()
        self._villages = self.html_view("coverage_html", "fk-grid-coverage")
        self._tree = self.html_view("tree_html", "fk-grid-tree")
        self._history = self.html_view("history_html", "fk-grid-history-box")
        self._reassign = self._build_reassign_form()
        self._link = self._build_link_form()
        m.observe(self._sync_options, names=["node_options", "grid_options"])
        self._sync_options()

    def filter_bar(self):
        return [row(self._village, self._natural, self._level, self._state)]

    def export_bar(self):
        m = self.model

        def stem(what: str) -> str:
            return f"{what}{'-' + m.village if m.village else ''}"

        def labelled_bar(label: str, bar: w.Widget) -> w.HBox:
            return w.HBox([safe_html("<span class='fk-export-label'>{label}</span>", label=label), bar])

        return [labelled_bar("网格（户数、已联户数）", self.rows_export(lambda: ("grids", m.grid_export_rows()),
                                                                lambda: stem("网格户数与联户"))),
                labelled_bar("农户联户", self.rows_export(lambda: ("households", m.household_export_rows()),
                                                        lambda: stem("农户联户台账"))),
                self.map_export(lambda: f"网格责任图{'-' + m.village if m.village else ''}", note="姓名已脱敏")]

    def map_export(self, name, trait: str = "map_html", **kwargs):
        # The exported map masks the names its tooltips carry (the page shows them).
        return MapExportBar(self.model.export_map_html, name, **kwargs)

    def body(self):
        return [self._map, section("各村联户覆盖"), self._villages, section("六级网格责任体系"), self._tree,
                section("责任人变更记录"), self._history]

    def forms(self):
        return [section("调整责任人与党员联户"),
                w.HBox([self._reassign, self._link], layout=w.Layout(align_items="flex-start")).add_class("fk-gap")]

    # -- Filters --------------------------------------------------------------------------

    def _on_natural(self, change):
        self.model.natural_village = change["new"] or ""

    def _sync_naturals(self, _change=None):
        options = self.model.natural_village_options
        if list(self._natural.options) != options:
            self._natural.options = options
        if self._natural.value != self.model.natural_village:
            self._natural.value = self.model.natural_village

    # -- Forms --------------------------------------------------------------------------------

    def _build_reassign_form(self) -> w.VBox:
        self._node = labelled(w.Dropdown(description="节点"), "fk-node-select", "460px")
        self._new_name = labelled(w.Text(description="新责任人", placeholder="姓名"), "fk-node-name", "240px")
        self._new_phone = labelled(w.Text(description="电话", placeholder="手机号或 0394 座机"), "fk-node-phone",
                                   "240px")
        self._reason = labelled(w.Text(description="变更原因", placeholder="如：工作调动"), "fk-node-reason", "460px")
        self._reassign_save = w.Button(description="保存调整", button_style="danger", icon="save")
        self._reassign_save.add_class("fk-node-save").on_click(self._on_reassign)
        return form_box("调整责任人（原责任人记入变更记录）",
                        [self._node, row(self._new_name, self._new_phone), self._reason, self._reassign_save],
                        "fk-reassign-form")

    def _build_link_form(self) -> w.VBox:
        self._grid = labelled(w.Dropdown(description="网格"), "fk-link-grid", "460px")
        self._grid.observe(self._on_grid, names="value")
        self._households = labelled(w.SelectMultiple(description="农户", rows=8), "fk-link-households", "460px")
        self._member = labelled(w.Dropdown(description="联户党员"), "fk-link-member", "460px")
        self._link_save = w.Button(description="确认联户", button_style="danger", icon="link")
        self._link_save.add_class("fk-link-save").on_click(self._on_link)
        return form_box("党员联户（选择农户，交由本村一名党员联系）",
                        [self._grid, self._households, self._member, self._link_save], "fk-link-form")

    def _sync_options(self, _change=None):
        m = self.model
        for widget, options in ((self._node, m.node_options), (self._grid, m.grid_options)):
            if list(widget.options) != options:
                current = widget.value
                widget.options = options
                keys = [k for _, k in options]
                widget.value = current if current in keys else (keys[0] if keys else None)
        self._on_grid()

    def _on_grid(self, _change=None):
        grid = self._grid.value
        households = self.model.households_of(grid) if grid else []
        members = self.model.members_for(grid) if grid else []
        if list(self._households.options) != households:
            self._households.options = households
        if list(self._member.options) != members:
            current = self._member.value
            self._member.options = members
            keys = [k for _, k in members]
            self._member.value = current if current in keys else (keys[0] if keys else None)

    def _on_reassign(self, _b=None):
        node = self._node.value
        if not node:
            self.say("操作未完成：请先选择节点", True)
            return
        if self.model.reassign(node, self._new_name.value.strip(), self._new_phone.value.strip(),
                               self._reason.value.strip()):
            self._new_name.value = self._new_phone.value = self._reason.value = ""

    def _on_link(self, _b=None):
        chosen = list(self._households.value)
        if not chosen or not self._member.value:
            self.say("操作未完成：请选择农户和联户党员", True)
            return
        if self.model.link(chosen, self._member.value):
            self._on_grid()
