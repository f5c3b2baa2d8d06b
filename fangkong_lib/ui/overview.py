"""The overview dashboard (态势总览): a traitlets model and its widget view.

The model (:class:`OverviewModel`) never imports ipywidgets: set its filter
traits (``village``, ``measure``, ``day``) and read ``kpis``, ``map_html``,
``table_html`` and ``status``. The view (:class:`OverviewPage`) is a VBox whose
controls are linked to the model. Tests drive the model without a browser.
"""

from __future__ import annotations

from datetime import date

import ipywidgets as w
import traitlets as t

from ..domain.overview import CONTROL_MEASURES, KPI_LABELS, summarize_overview
from ..views.maps import make_overview_map, map_iframe, render_map
from ..views.tables import kpi_cards_html, people_table_html, village_table_html
from ..dataset import Dataset
from .exportbar import ExportBar
from .state import LRUCache
from .common import page_header, status_html, village_choices

ALL = ""  # the "全部" choice of a filter


class OverviewModel(t.HasTraits):
    """State of the overview: filters in, figures out."""

    village = t.Unicode(ALL)
    measure = t.Unicode(ALL)
    day = t.Instance(date)
    basemap = t.Unicode("none")

    kpis = t.Dict()
    map_html = t.Unicode("")
    table_html = t.Unicode("")
    actions_html = t.Unicode("")
    status = t.Unicode("")
    error = t.Bool(False)

    def __init__(self, data: Dataset, **kwargs):
        self.data = data
        self.overview = None  # the last Overview computed
        self._map_cache = LRUCache(32)
        kwargs.setdefault("day", data.today)
        super().__init__(**kwargs)
        self.refresh()

    @property
    def village_options(self) -> list[tuple[str, str]]:
        return village_choices(self.data)

    @property
    def measure_options(self) -> list[tuple[str, str]]:
        return [("全部管控措施", ALL)] + [(m, m) for m in CONTROL_MEASURES]

    @t.validate("village")
    def _check_village(self, proposal):
        value = proposal["value"]
        if value and value not in self.data.village_names:
            raise t.TraitError(f"未知的村：{value}")
        return value

    @t.validate("measure")
    def _check_measure(self, proposal):
        value = proposal["value"]
        if value and value not in CONTROL_MEASURES:
            raise t.TraitError(f"未知的管控措施：{value}")
        return value

    @t.observe("village", "measure", "day", "basemap")
    def _on_filter(self, _change):
        self.refresh()

    def refresh(self) -> None:
        """Recompute everything for the current filters; errors go to ``status``."""
        try:
            if self.day is None:
                raise ValueError("请选择日期")
            ov = summarize_overview(self.data.ledgers, self.day, village=self.village or None,
                                    measure=self.measure or None)
            self.overview = ov
            self.kpis = dict(ov.kpis)
            self.table_html = village_table_html(ov.by_village)
            self.actions_html = people_table_html(ov, masked=True)
            self.map_html = self._map_for(ov)
            scope = self.village or "全乡"
            measure = f" · {self.measure}" if self.measure else ""
            self.status = f"已更新：{scope}{measure} · {self.day.isoformat()}"
            self.error = False
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.status = f"出错：{exc}"
            self.error = True

    def _map_for(self, ov) -> str:
        key = (self.village, self.measure, self.day, self.basemap)
        cached = self._map_cache.get(key)
        if cached is not None:
            return cached
        title = f"{self.data.township}疫情防控态势图"
        subtitle = " · ".join(x for x in (self.village, self.measure, self.day.isoformat()) if x)
        m = make_overview_map(
            self.data.grids, self.data.villages, self.data.naturals, ov.by_grid,
            village=self.village or None, basemap=self.basemap, title=title, subtitle=subtitle,
            note=self.data.source_note,
        )
        doc = map_iframe(render_map(m), height=560, title=title)
        return self._map_cache.put(key, doc)


class OverviewPage(w.VBox):
    """The overview dashboard: filters, KPI cards, map, tables, status line."""

    def __init__(self, model: OverviewModel | None = None, *, db=None, **kwargs):
        self.model = model or OverviewModel(Dataset.load(db))
        m = self.model
        self._village = w.Dropdown(options=m.village_options, description="村", layout=w.Layout(width="220px"))
        self._measure = w.Dropdown(options=m.measure_options, description="管控措施",
                                   layout=w.Layout(width="260px"), style={"description_width": "70px"})
        self._day = w.DatePicker(description="日期", layout=w.Layout(width="230px"))
        for widget in (self._village, self._measure, self._day):
            widget.add_class("fk-filter")
        self._village.add_class("fk-filter-village")
        self._measure.add_class("fk-filter-measure")
        self._day.add_class("fk-filter-day")
        w.link((m, "village"), (self._village, "value"))
        w.link((m, "measure"), (self._measure, "value"))
        w.link((m, "day"), (self._day, "value"))

        self._kpis = w.HTML().add_class("fk-kpis")
        self._map = w.HTML(layout=w.Layout(width="100%")).add_class("fk-map-box")
        self._table = w.HTML().add_class("fk-village-table")
        self._actions = w.HTML().add_class("fk-actions")
        self._status = w.HTML().add_class("fk-status")
        m.observe(self._render, names=["kpis", "map_html", "table_html", "actions_html", "status", "error"])
        self._render()

        filters = w.HBox([self._village, self._measure, self._day], layout=w.Layout(flex_flow="row wrap"))
        self._export_map = w.Button(description="导出地图", icon="download",
                                    tooltip="按当前筛选导出态势图（HTML 与 PNG）").add_class("fk-export-map")
        self._export_map.on_click(self._on_export_map)
        self._map_download = w.HTML().add_class("fk-map-download")
        m.observe(lambda _change: setattr(self._map_download, "value", ""), names=["map_html"])
        body = w.HBox(
            [
                w.VBox([self._map, w.HBox([self._export_map, self._map_download])], layout=w.Layout(width="60%")),
                w.VBox([w.HTML("<h3 class='fk-h'>今日需处置名单</h3>"), self._actions],
                       layout=w.Layout(width="40%", padding="0 0 0 12px")),
            ]
        )
        super().__init__(
            [
                w.HTML(page_header("态势总览", self.model.data)),
                filters,
                ExportBar(lambda: ("controls", self.model.overview.controls if self.model.overview is not None
                                   else self.model.data.ledgers["controls"].iloc[0:0]),
                          lambda: f"管控人员{'-' + self.model.village if self.model.village else ''}"
                                  f"-{self.model.day.isoformat()}",
                          synthetic=self.model.data.synthetic).add_class("fk-exports"),
                self._status,
                self._kpis,
                body,
                w.HTML("<h3 class='fk-h'>各村情况</h3>"),
                self._table,
            ],
            **kwargs,
        )
        self.add_class("fk-page")

    def _on_export_map(self, _button=None) -> None:
        """The map as currently filtered, as HTML and PNG ``data:`` downloads."""
        from .briefing import map_download_links

        m = self.model
        try:
            links, problem = map_download_links(m.data, m.day, village=m.village, measure=m.measure,
                                                basemap=m.basemap)
        except Exception as exc:  # Voilà hides tracebacks: say it in the status line
            self._map_download.value = ""
            self._status.value = status_html(f"导出地图失败：{exc}", True)
            return
        self._map_download.value = links
        self._status.value = status_html(problem or "已导出地图（HTML、PNG）", bool(problem))

    def _render(self, _change=None):
        m = self.model
        self._kpis.value = kpi_cards_html(m.kpis, KPI_LABELS)
        self._map.value = m.map_html
        self._table.value = m.table_html
        self._actions.value = m.actions_html
        self._status.value = status_html(m.status, m.error)
