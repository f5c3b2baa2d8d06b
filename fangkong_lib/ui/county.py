"""全县态势 (county overview): the townships side by side, in a table and on
a map, and the way into one township (county → township → village → grid)."""

from __future__ import annotations

import ipywidgets as w

from ..config import COUNTY_NAME
from .base import PageView, safe_html
from .models.county import COUNTY_KPIS, MAP_MEASURES, CountyModel

__all__ = ["CountyPage"]


class CountyPage(PageView):
    """The county overview page; choosing a township sets ``model.township``
    (the app then opens that township's pages)."""

    title = "全县态势"
    model_class = CountyModel
    kpi_labels = {key: label for key, (label, _) in COUNTY_KPIS.items()}

    def build(self) -> None:
        m = self.model
        self._measure = self.bind(w.Dropdown(options=list(MAP_MEASURES), description="地图指标"), "measure",
                                  "fk-county-measure")
        self._open = w.Dropdown(options=[("选择乡镇…", "")] + [(n, n) for n in m.townships],
                                description="进入乡镇")
        self._open.observe(self._choose, names="value")
        self._map = self.map_frame()
        self._table = self.html_view("table_html", "fk-county-table")

    def _choose(self, change) -> None:
        if change["new"]:
            self.model.township = change["new"]

    def filter_bar(self):
        return [w.HBox([self._measure, self._open]).add_class("fk-filters")]

    def body(self):
        return [
            safe_html('<div class="fk-h">{county}各乡镇对比</div>', county=COUNTY_NAME),
            safe_html('<div class="fk-help">每个数字由数据库按乡镇汇总；选择「进入乡镇」查看该乡镇的各页面，'
                      '再按村、网格筛选。</div>'),
            self._table,
            self._map,
        ]
