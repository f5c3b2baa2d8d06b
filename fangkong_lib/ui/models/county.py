"""The county overview's model (全县态势): the townships compared.

Set ``measure`` (the figure the map colours by) and ``township`` (the one
to open); read ``kpis``, ``table_html`` and ``map_html``. Every figure is
counted by the database per township (:func:`fangkong_lib.dataset.county_table`):
the model never holds the county's rows.
"""

from __future__ import annotations

import traitlets as t

from ...config import COUNTY_NAME, SYNTHETIC_NOTE
from ...views.maps import render_map
from ...views.page_maps import county_map_update, make_county_map
from ...views.tables import frame_html
from .base import PageModel

#: KPI key → (label, county table column).
COUNTY_KPIS = {
    "townships": ("乡镇", None),
    "villages": ("行政村", "行政村"),
    "grids": ("网格", "网格"),
    "away": ("在外人员", "在外人员"),
    "arrived_today": ("今日返乡", "今日返乡"),
    "under_control": ("管控中", "管控中"),
    "tests_due": ("今日应检", "今日应检"),
    "open_problems": ("未销号问题", "未销号问题"),
    "open_leads": ("待核查线索", "待核查线索"),
}
#: The figures the map can colour by.
MAP_MEASURES = ("管控中", "在外人员", "今日返乡", "今日应检", "未销号问题", "待核查线索", "重点场所", "网格")


class CountyModel(PageModel):
    """State of the county overview."""

    filters = ("measure",)
    live_map = True  # another measure recolours the map shown, the document stays
    measure = t.Unicode("管控中")
    township = t.Unicode("")  # the township chosen to open ("" = the county)
    table_html = t.Unicode("")

    def __init__(self, data, **kwargs):
        self.table = None
        self._shapes = None
        super().__init__(data, **kwargs)

    @t.validate("measure")
    def _check_measure(self, proposal):
        return self.one_of(proposal["value"], MAP_MEASURES, "指标") or "管控中"

    @t.validate("township")
    def _check_township(self, proposal):
        return self.one_of(proposal["value"], self.townships, "乡镇")

    @property
    def townships(self) -> list[str]:
        from ...dataset import county_table  # noqa: F401  (the read side)
        return [] if self.table is None else [n for n in self.table.index if n != "合计"]

    @property
    def day(self):
        return self.data.today

    def compute(self) -> str:
        from ...dataset import county_shapes, county_table

        # counted by the database once per day and data generation: another measure only recolours the map
        day = self.day
        self.table = table = self.memo(("county_table", day), lambda: county_table(self.data, day))
        total = table.loc["合计"]
        kpis = {key: int(total[col]) for key, (_, col) in COUNTY_KPIS.items() if col}
        self.kpis = {"townships": len(table) - 1, **kpis}
        self.table_html = frame_html(table, index=True, css_class="fk-table fk-village", max_rows=100)
        if self._shapes is None:
            self._shapes = county_shapes(self.data)
        values = table.drop(index="合计")[self.measure]
        note = f"数据来源：{SYNTHETIC_NOTE}" if self.data.synthetic else "数据来源：各乡镇台账"
        self.show_live_map(
            (), lambda: render_map(make_county_map(
                self._shapes, self.data.villages, values, county=COUNTY_NAME, measure=self.measure,
                day=self.day, note=note, live=True)),
            lambda: county_map_update(self._shapes, values, county=COUNTY_NAME, measure=self.measure, day=self.day),
            height=560, title="全县态势图")
        return f"{COUNTY_NAME} {len(table) - 1} 个乡镇 · {self.day.isoformat()} · 地图按「{self.measure}」着色"
