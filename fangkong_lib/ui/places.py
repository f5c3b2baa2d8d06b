"""Key places (重点场所, gate 4): a traitlets model and its widget view.

The model (:class:`PlacesModel`) never imports ipywidgets: set the filter
traits (``village``, ``category``, ``item``, ``place_status``, ``overdue``,
``query``, ``day``) and read ``kpis``, ``map_html``, ``table_html`` and
``status``; call :meth:`PlacesModel.record_inspection` and
:meth:`PlacesModel.place_code` for the forms. The view (:class:`PlacesPage`)
is a VBox linked to it.
"""

from __future__ import annotations

import base64
from datetime import date

import ipywidgets as w
import pandas as pd
import traitlets as t

from ..dataset import Dataset
from ..domain.geo import points_from_lonlat
from ..domain.places import (
    CHECKLIST, KPI_LABELS, STATUS_COLOURS, applicable_items, filter_places, place_table, summarize_places,
)
from ..ledgers import PLACE_CATEGORIES, PLACE_STATUSES, get_ledger
from ..ingest.normalize import mask_frame
from ..actions.records import record_inspection
from ..views.maps import (
    add_legend, add_notes, add_points_layer, add_title, add_village_labels, add_village_layer, make_base_map,
    map_iframe, render_map,
)
from ..views.place_code import make_place_code_png, place_code_filename
from ..views.tables import frame_html, kpi_cards_html
from .exportbar import ExportBar, MapExportBar
from .common import page_header, status_html, village_choices
from .forms import EXTRA_CSS, download_link, form_box, labelled, operator_field, row, section
from .state import LRUCache, PageState

ALL = ""
ACTIONS = ("无", "现场整改", "限期整改", "停业整改")

TABLE_COLUMNS = {
    "code": "场所码编号", "name": "场所名称", "category": "类别", "village": "村", "manager": "负责人",
    "manager_phone": "负责人电话", "code_status": "场所码", "last_date": "最近检查", "last_action": "处理",
    "failed_text": "未落实项", "status": "状态", "recheck_due": "应复查", "overdue_text": "复查",
}


class PlacesModel(PageState):
    """State of the key-places page: filters in, figures out."""

    village = t.Unicode(ALL)
    category = t.Unicode(ALL)
    item = t.Unicode(ALL)  # a checklist key: places failing it
    place_status = t.Unicode(ALL)
    overdue = t.Bool(False)
    query = t.Unicode("")
    day = t.Instance(date)

    kpis = t.Dict()
    count = t.Int(0)
    map_html = t.Unicode("")
    table_html = t.Unicode("")
    place_options = t.List()  # (label, code) of the filtered places, for the forms

    def __init__(self, data: Dataset, **kwargs):
        self.data = data
        self._map_cache = LRUCache(16)
        self.table = pd.DataFrame()
        kwargs.setdefault("day", data.today)
        super().__init__(**kwargs)
        self.refresh()

    # -- Options ------------------------------------------------------------

    @property
    def village_options(self):
        return village_choices(self.data)

    @property
    def category_options(self):
        present = set(self.data.ledgers["places"]["category"].dropna())
        return [("全部类别", ALL)] + [(c, c) for c in PLACE_CATEGORIES if c in present]

    @property
    def item_options(self):
        return [("全部检查项", ALL)] + [(f"未落实：{label}", key) for key, label in CHECKLIST.items()]

    @property
    def status_options(self):
        return [("全部状态", ALL)] + [(s, s) for s in PLACE_STATUSES]

    @t.validate("village")
    def _check_village(self, proposal):
        if proposal["value"] and proposal["value"] not in self.data.village_names:
            raise t.TraitError(f"未知的村：{proposal['value']}")
        return proposal["value"]

    @t.validate("item")
    def _check_item(self, proposal):
        if proposal["value"] and proposal["value"] not in CHECKLIST:
            raise t.TraitError(f"未知的检查项：{proposal['value']}")
        return proposal["value"]

    @t.validate("place_status")
    def _check_status(self, proposal):
        if proposal["value"] and proposal["value"] not in PLACE_STATUSES:
            raise t.TraitError(f"未知的状态：{proposal['value']}")
        return proposal["value"]

    @t.observe("village", "category", "item", "place_status", "overdue", "query", "day")
    def _on_filter(self, _change):
        self.refresh()

    # -- Figures --------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute table, KPIs and map for the filters; errors go to ``status``."""
        try:
            if self.day is None:
                raise ValueError("请选择日期")
            ledgers = self.data.ledgers
            full = place_table(ledgers["places"], ledgers["inspections"], self.day)
            rows = filter_places(full, village=self.village, category=self.category, failed_item=self.item,
                                 status=self.place_status, overdue=self.overdue, query=self.query)
            self.table = rows
            self.count = len(rows)
            self.kpis = summarize_places(rows, ledgers["inspections"], self.day)
            self.table_html = self._table_html(rows)
            self.map_html = self._map_for(rows)
            self.place_options = [(f"{n}（{c}）", c) for n, c in zip(rows["name"], rows["code"])]
            self.status = f"已更新：{self._scope()} · {len(rows)} 处场所 · {self.day.isoformat()}"
            self.error = False
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.status, self.error = f"出错：{exc}", True

    def _scope(self) -> str:
        parts = [self.village or "全乡", self.category, CHECKLIST.get(self.item, "") and f"未落实{CHECKLIST[self.item]}",
                 self.place_status, "逾期未复查" if self.overdue else "", self.query and f"“{self.query}”"]
        return " · ".join(p for p in parts if p)

    def _table_html(self, rows: pd.DataFrame) -> str:
        shown = mask_frame(rows, get_ledger("places")).assign(
            failed_text=rows["failed"].map("、".join),
            overdue_text=rows["recheck_overdue"].map({True: "逾期未复查", False: ""}),
        )
        shown = shown[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-places", max_rows=500, empty="没有符合条件的场所")

    def _map_for(self, rows: pd.DataFrame) -> str:
        key = (tuple(rows["code"]), tuple(rows["status"]), self.village)
        cached = self._map_cache.get(key)
        if cached is not None:
            return cached
        villages = self.data.villages
        focus = villages[villages["name"] == self.village] if self.village else villages
        m = make_base_map(focus.total_bounds)
        add_village_layer(m, villages)
        add_village_labels(m, villages)
        points = points_from_lonlat(rows)
        if len(points):
            points = points.assign(
                tip=[f"{n}（{c}）{s}" for n, c, s in zip(points["name"], points["category"], points["status"])],
                colour=points["status"].map(STATUS_COLOURS).fillna("#7b8794"),
            )
            add_points_layer(m, points, label="tip", name="重点场所", cluster=True, color="colour",
                             severity=list(STATUS_COLOURS.values()))
        title = f"{self.data.township}重点场所分布"
        add_title(m, title, f"{self._scope()} · {len(points)} 处 · {self.day.isoformat()}")
        add_legend(m, "场所状态（圆圈数字为聚合个数，颜色取其中最严重者）",
                   list((c, s) for s, c in STATUS_COLOURS.items()))
        add_notes(m, self.data.source_note)
        doc = map_iframe(render_map(m), height=520, title=title)
        return self._map_cache.put(key, doc)

    # -- Forms --------------------------------------------------------------------

    def place(self, code: str) -> dict:
        places = self.data.ledgers["places"]
        match = places[places["code"] == code]
        if match.empty:
            raise ValueError(f"没有场所码编号为 {code} 的场所")
        return match.iloc[0].to_dict()

    def checklist_for(self, code: str) -> list[str]:
        """Checklist keys that apply to the place ``code``."""
        return applicable_items(self.place(code)["category"]) if code else list(CHECKLIST)

    def record_inspection(self, place_code: str, checks: dict, *, day: date | None = None, action: str = "",
                          deadline: date | None = None, scans_today=None, inspector: str = "",
                          findings: str = "") -> bool:
        """Save an inspection (and open its problems); the outcome goes to ``status``."""
        def act():
            raw = {"date": day or self.day, "place_code": place_code, **checks, "action": action or None,
                   "deadline": deadline, "scans_today": scans_today, "inspector": inspector or self.operator,
                   "findings": findings or None}
            result = record_inspection(self.data.engine, raw, user=self.operator,
                                       villages=self.data.village_names, today=self.data.today)
            opened = f"，新开问题 {len(result.problem_nos)} 个：{'、'.join(result.problem_nos)}" if result.problem_nos else ""
            failed = f"（未落实：{'、'.join(result.failed)}）" if result.failed else "（各项均已落实）"
            return (f"已保存 {result.place_code} 于 {result.date.isoformat()} 的检查{failed}，"
                    f"处理：{result.action}，场所状态：{result.status}{opened}")
        return self._act(act, reload=("inspections", "places", "problems", "problem_events"))

    def place_code(self, code: str) -> tuple[str, bytes]:
        """The printable venue code of a place: (file name, PNG bytes)."""
        place = self.place(code)
        return place_code_filename(place), make_place_code_png(place, township=self.data.township)


# -- The view -----------------------------------------------------------------------------


class PlacesPage(w.VBox):
    """The key-places dashboard: filters, KPIs, map, table, inspection form,
    printable venue codes, status line."""

    def __init__(self, model: PlacesModel | None = None, *, db=None, **kwargs):
        self.model = model or PlacesModel(Dataset.load(db))
        m = self.model
        self._village = labelled(w.Dropdown(options=m.village_options, description="村"), "fk-filter-village", "200px")
        self._category = labelled(w.Dropdown(options=m.category_options, description="类别"), "fk-filter-category", "200px")
        self._item = labelled(w.Dropdown(options=m.item_options, description="检查项"), "fk-filter-item", "280px")
        self._pstatus = labelled(w.Dropdown(options=m.status_options, description="状态"), "fk-filter-status", "200px")
        self._overdue = labelled(w.Checkbox(description="只看逾期未复查", indent=False), "fk-filter-overdue", "150px")
        self._query = labelled(w.Text(description="查找", placeholder="场所名称、编号、负责人", continuous_update=False),
                               "fk-filter-query", "260px")
        self._day = labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px")
        self._operator = operator_field()
        for widget, trait in ((self._village, "village"), (self._category, "category"), (self._item, "item"),
                              (self._pstatus, "place_status"), (self._overdue, "overdue"), (self._query, "query"),
                              (self._day, "day"), (self._operator, "operator")):
            w.link((m, trait), (widget, "value"))

        self._status = w.HTML().add_class("fk-status")
        self._kpis = w.HTML().add_class("fk-kpis")
        self._map = w.HTML(layout=w.Layout(width="100%")).add_class("fk-map-box")
        self._table = w.HTML().add_class("fk-places-table")

        # The place the forms act on: one of the filtered places.
        self._place = labelled(w.Dropdown(description="场所"), "fk-place-select", "420px")
        self._place.observe(self._on_place, names="value")

        # Inspection form (DOMAIN.md §2 checklist).
        self._checks, cells = {}, []
        for key, label in CHECKLIST.items():
            toggle = w.ToggleButtons(options=[("落实", True), ("未落实", False)], style={"button_width": "64px"})
            toggle.index = None
            toggle.add_class("fk-check")
            toggle.add_class(f"fk-check-{key}")
            self._checks[key] = toggle
            cells.append(w.HBox([w.HTML(f"<span class='fk-check-label'>{label}</span>"), toggle]))
        checklist = w.Box(cells).add_class("fk-checklist")
        self._all_ok = w.Button(description="全部落实", icon="check").add_class("fk-check-all")
        self._all_ok.on_click(self._set_all_ok)
        self._insp_day = labelled(w.DatePicker(description="检查日期"), "fk-insp-date", "230px")
        self._action = labelled(w.Dropdown(options=[("按检查项自动", "")] + [(a, a) for a in ACTIONS],
                                           description="处理"), "fk-insp-action", "230px")
        self._deadline = labelled(w.DatePicker(description="整改期限"), "fk-insp-deadline", "230px")
        self._scans = labelled(w.IntText(description="当日扫码人次", value=0), "fk-insp-scans", "200px")
        self._inspector = labelled(w.Text(description="检查人", placeholder="默认为操作人"), "fk-insp-inspector", "220px")
        self._findings = labelled(w.Text(description="发现问题", placeholder="默认按未落实项填写"), "fk-insp-findings", "420px")
        self._save = w.Button(description="保存检查记录", button_style="danger", icon="save").add_class("fk-insp-save")
        self._save.on_click(self._on_save)

        # Printable venue code.
        self._print = w.Button(description="打印场所码", icon="qrcode").add_class("fk-print-code")
        self._print.on_click(self._on_print)
        self._code_out = w.HTML().add_class("fk-code-preview")

        m.observe(self._render, names=["kpis", "map_html", "table_html", "status", "place_options"])
        self._render()
        self._insp_day.value = m.day

        filters = row(self._village, self._category, self._item, self._pstatus, self._overdue, self._query, self._day)
        inspection = form_box("记录检查（未落实的每一项自动新开一个整改问题）", [
            row(self._insp_day, self._all_ok),
            checklist,
            row(self._action, self._deadline, self._scans),
            row(self._inspector, self._findings),
            self._save,
        ], "fk-inspection-form")
        printing = form_box("场所码", [self._print, self._code_out], "fk-print-form")
        super().__init__(
            [
                w.HTML(page_header("重点场所", m.data) + EXTRA_CSS),
                row(self._operator, w.HTML("<span class='fk-note'>保存表单前请填写操作人</span>")),
                filters,
                w.HBox([
                    ExportBar(lambda: ("places", m.data.ledgers["places"][
                        m.data.ledgers["places"]["code"].isin(m.table["code"] if len(m.table) else [])]),
                        lambda: f"重点场所{'-' + m.village if m.village else ''}", synthetic=m.data.synthetic),
                    MapExportBar(lambda: m.map_html, lambda: f"重点场所分布图_{m.day.isoformat()}"),
                ]).add_class("fk-exports"),
                self._status,
                self._kpis,
                self._map,
                section("场所列表"),
                self._table,
                section("检查与场所码"),
                self._place,
                w.HBox([inspection, printing], layout=w.Layout(align_items="flex-start")).add_class("fk-gap"),
            ],
            **kwargs,
        )
        self.add_class("fk-page")

    def _render(self, _change=None):
        m = self.model
        self._kpis.value = kpi_cards_html(m.kpis, KPI_LABELS)
        self._map.value = m.map_html
        self._table.value = m.table_html
        self._status.value = status_html(m.status, m.error)
        options = m.place_options
        if list(self._place.options) != options:
            current = self._place.value
            self._place.options = options
            codes = [c for _, c in options]
            self._place.value = current if current in codes else (codes[0] if codes else None)

    def _on_place(self, _change=None):
        code = self._place.value
        applies = set(self.model.checklist_for(code)) if code else set(CHECKLIST)
        for key, toggle in self._checks.items():
            toggle.disabled = key not in applies
            if key not in applies:
                toggle.index = None
        self._code_out.value = ""

    def _set_all_ok(self, _b=None):
        for toggle in self._checks.values():
            if not toggle.disabled:
                toggle.value = True

    def _on_save(self, _b=None):
        code = self._place.value
        if not code:
            self.model.status, self.model.error = "操作未完成：请先选择场所", True
            return
        checks = {k: toggle.value for k, toggle in self._checks.items() if not toggle.disabled}
        ok = self.model.record_inspection(
            code, checks, day=self._insp_day.value, action=self._action.value, deadline=self._deadline.value,
            scans_today=self._scans.value, inspector=self._inspector.value.strip(), findings=self._findings.value.strip())
        if ok:
            for toggle in self._checks.values():
                toggle.index = None
            self._findings.value = ""

    def _on_print(self, _b=None):
        code = self._place.value
        try:
            if not code:
                raise ValueError("请先选择场所")
            name, png = self.model.place_code(code)
        except Exception as exc:
            self.model.status, self.model.error = f"操作未完成：{exc}", True
            return
        link = download_link(name, png, "image/png", "fk-code-link", f"下载 {name}")
        self._code_out.value = (f"{link}<br><img alt='场所码' src='data:image/png;base64,"
                                f"{base64.b64encode(png).decode()}'>")
