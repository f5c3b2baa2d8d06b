"""The key-places page's model (重点场所, gate 4), no widgets.

Set the filter traits (``village``, ``category``, ``item``, ``place_status``,
``overdue``, ``query``, ``day``) and read ``kpis``, ``map_html``,
``table_html`` and ``status``; :meth:`PlacesModel.record_inspection` saves an
inspection, :meth:`PlacesModel.place_code` draws a printable venue code.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import traitlets as t

from ...actions import record_inspection
from ...domain.places import (
    CHECKLIST, CLOSED, FIX, KPI_LABELS, OPEN, applicable_items, filter_places, place_table,
    summarize_places,
)
from ...ingest.normalize import mask_frame
from ...ledgers import PLACE_CATEGORIES, PLACE_STATUSES, get_ledger
from ...views.maps import map_iframe, render_map
from ...views.page_maps import make_places_map
from ...views.place_code import make_place_code_png, place_code_filename
from ...views.tables import frame_html
from .base import ALL, PageModel

ACTIONS = ("无", "现场整改", "限期整改", "停业整改")

TABLE_COLUMNS = {
    "code": "场所码编号", "name": "场所名称", "category": "类别", "village": "村", "manager": "负责人",
    "manager_phone": "负责人电话", "code_status": "场所码", "last_date": "最近检查", "last_action": "处理",
    "failed_text": "未落实项", "status": "状态", "recheck_due": "应复查", "overdue_text": "复查",
}


class PlacesModel(PageModel):
    """State of the key-places page: filters in, figures out."""

    filters = ("village", "category", "item", "place_status", "overdue", "query", "day")
    kpi_lists = ("places", OPEN, FIX, CLOSED, "code_missing", "recheck_overdue", "never_inspected")

    category = t.Unicode(ALL)
    item = t.Unicode(ALL)  # a checklist key: places failing it
    place_status = t.Unicode(ALL)
    overdue = t.Bool(False)
    query = t.Unicode("")
    day = t.Instance(date)

    count = t.Int(0)
    table_html = t.Unicode("")
    place_options = t.List()  # (label, code) of the filtered places, for the forms

    def __init__(self, data, **kwargs):
        self.table = pd.DataFrame()
        kwargs.setdefault("day", data.today)
        super().__init__(data, **kwargs)

    # -- Options ------------------------------------------------------------

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

    @t.validate("item")
    def _check_item(self, proposal):
        return self.one_of(proposal["value"], CHECKLIST, "检查项")

    @t.validate("place_status")
    def _check_status(self, proposal):
        return self.one_of(proposal["value"], PLACE_STATUSES, "状态")

    # -- Figures --------------------------------------------------------------

    def compute(self) -> str:
        """Recompute table, KPIs and map for the filters."""
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
        return f"已更新：{self._scope()} · {len(rows)} 处场所 · {self.day.isoformat()}"

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        """The places a KPI counts, from the filtered table."""
        if key not in self.kpi_lists:
            return None
        rows = self.table
        if rows.empty or key == "places":
            chosen = rows
        elif key == "code_missing":
            chosen = rows[rows["code_posted"].eq(False).fillna(False)]
        elif key == "recheck_overdue":
            chosen = rows[rows["recheck_overdue"].astype(bool)]
        elif key == "never_inspected":
            chosen = rows[rows["last_date"].isna()]
        else:
            chosen = rows[rows["status"] == key]
        return KPI_LABELS[key], self._table_html(chosen)

    def _scope(self) -> str:
        parts = [self.shown_area, self.category, CHECKLIST.get(self.item, "") and f"未落实{CHECKLIST[self.item]}",
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
        key = (tuple(rows["code"]), tuple(rows["status"]), self.village, self._scope(), self.day)
        return self.cached_map(key, lambda: self._build_map(rows))

    def _build_map(self, rows: pd.DataFrame) -> str:
        title = f"{self.data.township}重点场所分布"
        m = make_places_map(self.data.villages, rows, township=self.data.township, day=self.day,
                            scope=self._scope(), village=self.village or None, note=self.data.source_note)
        return map_iframe(render_map(m), height=520, title=title)

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
        return self.run(act, reload=("inspections", "places", "problems", "problem_events"))

    def place_code(self, code: str) -> tuple[str, bytes]:
        """The printable venue code of a place: (file name, PNG bytes)."""
        place = self.place(code)
        return place_code_filename(place), make_place_code_png(place, township=self.data.township)
