"""The overview's model (态势总览): filters in, figures out (no widgets).

Set ``village``, ``measure``, ``day`` and read ``kpis``, ``map_html``,
``table_html``, ``actions_html`` and ``status``; ``open_kpi(key)`` puts the
rows a KPI counts in ``focus_html``.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import traitlets as t

from ...domain.command import COMMAND_KPI_LABELS
from ...domain.duty import ROSTER_LABELS
from ...domain.grids import BEHIND_COLUMNS, OVERVIEW_KPI_LABELS, overview_coverage, unlinked_households
from ...domain.overview import CONTROL_MEASURES, summarize_overview
from ...policy.grid_coverage import load_coverage_policy
from ...ingest.normalize import mask_frame
from ...ledgers import get_ledger
from ...views.maps import make_overview_map, overview_map_update, render_map, to_gcj02
from ...views.tables import frame_html, people_table_html, village_table_html
from ...domain.leads import lead_moment, lead_status
from ...views.leads import leads_summary_html
from .base import ALL, PageModel, with_data_notes
from .community_figures import LISTS as COMMUNITY_LISTS, community_figures, community_list
from .checkpoints import WATCH_LABELS, watch_kpis, watch_list
from ...domain.volunteers import gap_labels as volunteer_gap_labels
from .volunteers import gap_list_html as volunteer_gap_list

#: Columns of the lists the KPI cards open: who, where, what.
PERSON_COLUMNS = ["name", "village", "grid", "id_number", "phone", "current_measure"]


class OverviewModel(PageModel):
    """State of the overview: filters in, figures out."""

    filters = ("village", "measure", "day", "basemap")
    live_map = True  # a filter change updates the map shown, the document stays
    kpi_lists = ("away", "arriving_3d", "arrived_today", "under_control", *CONTROL_MEASURES, "tests_due",
                 "tests_done_today", "tests_overdue", "fevers", "open_problems", "stock_items", "stock_value",
                 *COMMUNITY_LISTS, *COMMAND_KPI_LABELS)
    kpi_lists += tuple(WATCH_LABELS)  # 卡口值守 and 医疗哨点
    kpi_lists += tuple(OVERVIEW_KPI_LABELS)  # 网格责任
    kpi_lists += tuple(volunteer_gap_labels())  # 党员志愿者

    measure = t.Unicode(ALL)
    day = t.Instance(date)
    basemap = t.Unicode("none")

    table_html = t.Unicode("")
    actions_html = t.Unicode("")

    def __init__(self, data, **kwargs):
        self.overview = None  # the last Overview computed
        kwargs.setdefault("day", data.today)
        super().__init__(data, **kwargs)

    @property
    def measure_options(self) -> list[tuple[str, str]]:
        return [("全部管控措施", ALL)] + [(m, m) for m in CONTROL_MEASURES]

    @t.validate("measure")
    def _check_measure(self, proposal):
        return self.one_of(proposal["value"], CONTROL_MEASURES, "管控措施")

    def compute(self) -> str:
        if self.day is None:
            raise ValueError("请选择日期")
        # what a village or measure filter does not change is computed once per day (and data)
        memo, day, village = self.memo, self.day, self.village or None
        ov = summarize_overview(self.data.ledgers, day, village=village, measure=self.measure or None, memo=memo)
        self.overview = ov
        # the map's update goes out first: the browser redraws the map while the rest is computed
        self.show_live_map(self.basemap, lambda: self._build_map(ov), lambda: self._map_update(ov),
                           height=560, title=self._map_title())
        kpis = dict(ov.kpis) | community_figures(self.data.ledgers, day, village, memo=memo)
        kpis |= memo(("watch_kpis", day), lambda: watch_kpis(self.data, day))  # 卡口值守 and 医疗哨点
        grid_kpis, self.incomplete_grids = overview_coverage(self.data.ledgers, load_coverage_policy(),
                                                             village=village, memo=memo)  # 网格责任
        self.kpis = kpis | grid_kpis  # one change: the cards are rendered once
        self.table_html = village_table_html(ov.by_village)
        self.actions_html = people_table_html(ov, masked=True) + self._leads_html()
        measure = f" · {self.measure}" if self.measure else ""
        return with_data_notes(f"已更新：{self.shown_area}{measure} · {self.day.isoformat()}", ov.notes)

    def _leads_html(self) -> str:
        """Open and overdue leads by source, and who must act (线索核查)."""
        day = self.day
        leads = self.memo(("lead_status", day),
                          lambda: lead_status(self.data.ledgers["leads"], lead_moment(day, self.data.today)))
        return leads_summary_html(leads[leads["village"] == self.village] if self.village else leads)

    def _map_title(self) -> str:
        return f"{self.data.township}疫情防控态势图"

    def _map_subtitle(self) -> str:
        return " · ".join(x for x in (self.village, self.measure, self.day.isoformat()) if x)

    def _build_map(self, ov) -> str:
        """The live map document (built again only for another basemap or new data)."""
        m = make_overview_map(
            self.data.grids, self.data.villages, self.data.naturals, ov.by_grid,
            village=self.village or None, basemap=self.basemap, title=self._map_title(),
            subtitle=self._map_subtitle(), note=self.data.source_note, live=True,
        )
        # the villages in the datum of the map shown (the bounds of later updates)
        self._map_villages = to_gcj02(self.data.villages) if self.basemap == "amap" else self.data.villages
        return render_map(m)

    def _map_update(self, ov) -> dict:
        """What the live map is told on a filter change: cell colours, outlines, tooltips, subtitle, bounds."""
        return overview_map_update(self.data.grids, self._map_villages, ov.by_grid, village=self.village or None,
                                   title=self._map_title(), subtitle=self._map_subtitle())

    def controlled_rows(self) -> pd.DataFrame:
        """The people under control as filtered (the rows export)."""
        if self.overview is None:
            return self.data.ledgers["controls"].iloc[0:0]
        return self.overview.controls

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        from ...domain.overview import KPI_LABELS

        if key in WATCH_LABELS:  # 卡口值守 and 医疗哨点
            return WATCH_LABELS[key], watch_list(self.data, self.day, key)
        if key in OVERVIEW_KPI_LABELS:  # 网格责任
            return OVERVIEW_KPI_LABELS[key], self._coverage_list(key)
        ov = self.overview
        if ov is None or key not in self.kpi_lists:
            return None
        if key in COMMUNITY_LISTS:  # gatherings and publicity
            return community_list(self.data.ledgers, key, self.day, self.village or None)
        controls = ov.controls
        if key in volunteer_gap_labels():  # 党员志愿者
            return KPI_LABELS[key], volunteer_gap_list(key, ov.rows[key])
        if key in ov.rows:
            return KPI_LABELS[key], _rows_list(key, ov.rows[key], controls)
        if key == "under_control":
            rows = controls
        elif key in CONTROL_MEASURES:
            rows = controls[controls["current_measure"] == key]
        elif key == "arrived_today":
            returnees = self.data.ledgers["returnees"]
            if self.village:
                returnees = returnees[returnees["village"] == self.village]
            rows = returnees[returnees["actual_arrival"] == pd.Timestamp(self.day)]
            return KPI_LABELS[key], _person_list(rows, "returnees", ["origin", "actual_arrival"])
        else:
            rows = getattr(ov, key).merge(controls[["id_number", "phone", "current_measure"]],
                                          on="id_number", how="left")
            extra = ["planned"] if key == "tests_overdue" else ["temp_am", "temp_pm"]
            return KPI_LABELS[key], _person_list(rows, "controls", extra)
        return KPI_LABELS[key], _person_list(rows, "controls", ["start_date", "end_date"])


    def _coverage_list(self, key: str) -> str:
        """The grids not fully linked, or the households not linked (read on this click)."""
        if key == "grid_incomplete":
            shown = self.incomplete_grids.rename(columns=BEHIND_COLUMNS)
        else:
            ledgers = self.data.ledgers
            rows = unlinked_households(ledgers["households"], ledgers["party_members"], village=self.village or None)
            shown = mask_frame(rows, get_ledger("households")).rename(
                columns={**get_ledger("households").labels, "link_problem": "原因"})
        return frame_html(shown, css_class="fk-table fk-kpi-rows", empty="各网格均已全覆盖")


#: KPI key → (ledger the rows mask by, columns shown, extra labels) for the
#: lists the overview's own figures hold in ``Overview.rows``.
_ROW_LISTS = {
    "away": ("away", ["name", "village", "grid", "id_number", "phone", "province", "city", "left_date",
                      "expected_return"], {}),
    "arriving_3d": ("returnees", ["name", "village", "grid", "id_number", "phone", "source", "origin", "expected"],
                    {"source": "来源", "origin": "出发地", "expected": "预计到达"}),
    "tests_due": ("controls", [*PERSON_COLUMNS, "planned", "state"], {"state": "状态"}),
    "tests_done_today": ("controls", [*PERSON_COLUMNS, "planned"], {}),
    "open_problems": ("problems", ["problem_no", "date", "team", "village", "target", "category", "stage", "unit",
                                   "person", "deadline"], {}),
    "stock_items": ("donations", ["item", "unit", "stock", "stock_value"], {"stock": "结存", "stock_value": "估值(元)"}),
    "stock_value": ("donations", ["item", "unit", "stock", "stock_value"], {"stock": "结存", "stock_value": "估值(元)"}),
    # 指挥调度
    "duty_gaps": ("duty_shifts", ["date", "post", "shift", "roles", "required", "assigned", "reason"], ROSTER_LABELS),
    **{key: ("tasks", ["task_no", "date", "description", "village", "unit", "person", "deadline", "stage_word"],
             {"stage_word": "办理状态"}) for key in ("tasks_open", "tasks_overdue")},
    **{key: ("village_reports", ["村", "status", "reported_at"], {"status": "报告情况"})
       for key in ("reports_late", "reports_missing")},
}
_TEST_STATES = {"done": "已采样", "due": "待采样", "overdue": "逾期"}


def _rows_list(key: str, rows: pd.DataFrame, controls: pd.DataFrame) -> str:
    """The rows behind one overview KPI as a masked table."""
    ledger_key, columns, extra = _ROW_LISTS[key]
    if ledger_key == "controls" and "current_measure" not in rows.columns:
        rows = rows.merge(controls[["id_number", "phone", "grid", "current_measure"]].drop_duplicates("id_number"),
                          on="id_number", how="left", suffixes=("_x", ""))
    if "state" in rows.columns:
        rows = rows.assign(state=rows["state"].map(_TEST_STATES).fillna(rows["state"]))
    ledger = get_ledger(ledger_key)
    labels = ledger.labels | {"current_measure": "当前措施", "planned": "计划采样"} | extra
    shown = mask_frame(rows[[c for c in columns if c in rows.columns]], ledger).rename(columns=labels)
    return frame_html(shown, css_class="fk-table fk-kpi-rows", empty="没有记录")


def _person_list(rows: pd.DataFrame, ledger_key: str, extra: list[str]) -> str:
    """A masked table of people (name, village, grid, ID, phone, measure, ``extra``)."""
    ledger = get_ledger(ledger_key)
    columns = [c for c in (*PERSON_COLUMNS, *extra) if c in rows.columns]
    labels = ledger.labels | {"current_measure": "当前措施", "planned": "计划采样", "temp_am": "上午体温",
                              "temp_pm": "下午体温"}
    shown = mask_frame(rows[columns], ledger).rename(columns=labels)
    return frame_html(shown, css_class="fk-table fk-people fk-kpi-rows", empty="没有记录")
