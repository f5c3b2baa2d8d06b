"""The overview dashboard (态势总览): the view of :class:`OverviewModel`.

The model lives in :mod:`fangkong_lib.ui.models.overview` (no widgets); the
view is a :class:`~fangkong_lib.ui.base.PageView` that adds the village,
measure and day filters, the map with its export, the people to act on
today and the per-village table.
"""

from __future__ import annotations

import ipywidgets as w

from ..domain.grids import OVERVIEW_KPI_LABELS
from ..domain.overview import KPI_LABELS
from ..outputs.briefing import map_file_name
from .base import PageView, safe_html
from .models.community_figures import FIGURE_LABELS as COMMUNITY_LABELS
from .models.checkpoints import WATCH_LABELS
from .models.overview import OverviewModel

__all__ = ["OverviewModel", "OverviewPage"]


class OverviewPage(PageView):
    """The overview dashboard: filters, KPI cards, map, tables, status line."""

    title = "态势总览"
    model_class = OverviewModel
    kpi_labels = KPI_LABELS | COMMUNITY_LABELS | WATCH_LABELS | OVERVIEW_KPI_LABELS  # with 卡口值守, 医疗哨点, 网格责任

    def build(self) -> None:
        m = self.model
        self._village = self.bind(w.Dropdown(options=m.village_options, description="村",
                                             layout=w.Layout(width="220px")), "village", "fk-filter-village")
        self._measure = self.bind(w.Dropdown(options=m.measure_options, description="管控措施",
                                             layout=w.Layout(width="260px"), style={"description_width": "70px"}),
                                  "measure", "fk-filter-measure")
        self._day = self.bind(w.DatePicker(description="日期", layout=w.Layout(width="230px")), "day",
                              "fk-filter-day")
        for widget in (self._village, self._measure, self._day):
            widget.add_class("fk-filter")
        self._map = self.map_frame()
        self._table = self.html_view("table_html", "fk-village-table")
        self._actions = self.html_view("actions_html", "fk-actions")
        # the map export is the very document the map frame shows
        self._map_export = self.map_export(
            lambda: map_file_name(m.data, m.day, m.village or None, m.measure or None),
            report=self.say, note="个人信息已脱敏")
        self._export_map, self._map_download = self._map_export._button, self._map_export.link
        m.observe(lambda _change: self._map_export.clear(), names=["map_html", "map_update"])

    def filter_bar(self):
        return [w.HBox([self._village, self._measure, self._day], layout=w.Layout(flex_flow="row wrap"))]

    def export_bar(self):
        m = self.model
        return [self.rows_export(lambda: ("controls", m.controlled_rows()),
                                 lambda: f"管控人员{'-' + m.village if m.village else ''}-{m.day.isoformat()}")]

    def body(self):
        return [
            w.HBox([
                w.VBox([self._map, self._map_export], layout=w.Layout(width="60%")),
                w.VBox([safe_html("<h3 class='fk-h'>{t}</h3>", "", t="今日需处置名单"), self._actions],
                       layout=w.Layout(width="40%", padding="0 0 0 12px")),
            ]),
            safe_html("<h3 class='fk-h'>{t}</h3>", "", t="各村情况"),
            self._table,
        ]
