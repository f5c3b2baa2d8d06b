"""The gatherings page's model (聚集管控: 红白事报备与联合执法), no widgets.

Set the filter traits (``village``, ``kind``, ``state``, ``breaches_only``,
``query``, ``day``) and read ``kpis``, ``map_html``, ``table_html``,
``enforcement_html`` and ``status``. :meth:`GatheringsModel.report` records a
report (its breaches are named in ``status`` and ``breaches_html``),
:meth:`~GatheringsModel.review` is the village's or the township's decision,
:meth:`~GatheringsModel.log_enforcement` logs the joint team's action.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import traitlets as t

from ... import actions
from ...domain.gatherings import (
    KPI_LABELS, PENDING, VILLAGE_APPROVED, filter_gatherings, gathering_table, kpi_rows,
    summarize_gatherings,
)
from ...ingest.normalize import mask_frame
from ...ledgers import GATHERING_APPROVALS, get_ledger
from ...views.community_maps import make_gatherings_map
from ...views.html import html
from ...views.maps import map_iframe, render_map
from ...views.tables import frame_html
from .base import ALL, PageModel

__all__ = ["GatheringsModel", "KINDS", "combine"]

KINDS = ("红事", "白事")

TABLE_COLUMNS = {
    "host": "事主", "phone": "电话", "village": "村", "kind": "类型", "date": "日期", "place": "地点",
    "expected_people": "预计人数", "tables": "桌数", "reported_at": "报备时间", "supervisor": "监管员",
    "state": "审批", "village_reviewer": "村审批人", "township_reviewer": "乡审批人", "refusal": "不予批准理由",
    "breach_text": "不符合项", "enforcements": "联合执法",
}
ENFORCEMENT_COLUMNS = ("time", "unit", "village", "target_type", "target", "action", "people", "description",
                       "officers", "result")


class GatheringsModel(PageModel):
    """State of the gatherings page: filters in, figures out."""

    filters = ("village", "kind", "state", "breaches_only", "query", "day")
    kpi_lists = tuple(KPI_LABELS)

    kind = t.Unicode(ALL)
    state = t.Unicode(ALL)
    breaches_only = t.Bool(False)
    query = t.Unicode("")
    day = t.Instance(date)

    count = t.Int(0)
    table_html = t.Unicode("")
    enforcement_html = t.Unicode("")
    breaches_html = t.Unicode("")  # the breaches of the report just saved
    #: (label, index into ``choices``) of the filtered gatherings waiting for a decision / all filtered
    pending_options = t.List()
    gathering_options = t.List()

    def __init__(self, data, **kwargs):
        self.table = pd.DataFrame()
        self.enforcements = pd.DataFrame()
        self.choices: list[dict] = []  # the gatherings the forms may name (keys), as last computed
        kwargs.setdefault("day", data.today)
        super().__init__(data, **kwargs)

    # -- Options --------------------------------------------------------------------

    @property
    def kind_options(self):
        return [("全部类型", ALL)] + [(k, k) for k in KINDS]

    @property
    def state_options(self):
        return [("全部审批状态", ALL)] + [(s, s) for s in GATHERING_APPROVALS]

    @property
    def place_options(self) -> list[tuple[str, str]]:
        places = self.data.ledgers["places"]
        if self.village:
            places = places[places["village"] == self.village]
        return [(f"{n}（{c}）", c) for n, c in zip(places["name"], places["code"])]

    @t.validate("kind")
    def _check_kind(self, proposal):
        return self.one_of(proposal["value"], KINDS, "类型")

    @t.validate("state")
    def _check_state(self, proposal):
        return self.one_of(proposal["value"], GATHERING_APPROVALS, "审批状态")

    # -- Figures --------------------------------------------------------------------

    def compute(self) -> str:
        if self.day is None:
            raise ValueError("请选择日期")
        ledgers = self.data.ledgers
        full = gathering_table(ledgers["gatherings"], ledgers["enforcements"])
        rows = filter_gatherings(full, village=self.village, kind=self.kind, state=self.state,
                                 breaches_only=self.breaches_only, query=self.query)
        rows = rows.sort_values(["date", "host"], ascending=[False, True], kind="stable")
        enforcements = ledgers["enforcements"]
        if self.village:
            enforcements = enforcements[enforcements["village"] == self.village]
        enforcements = enforcements.sort_values("time", ascending=False, kind="stable")
        self.table, self.enforcements, self.count = rows, enforcements, len(rows)
        self.kpis = summarize_gatherings(rows, enforcements, self.day)
        self.table_html = self._table_html(rows)
        self.enforcement_html = self._enforcement_html(enforcements)
        self.map_html = self._map_for(rows, enforcements)
        self.choices = [dict(host=r["host"], date=pd.Timestamp(r["date"]).date(), kind=r["kind"], label=r["label"],
                             state=r["state"]) for r in rows.to_dict("records")]
        self.gathering_options = [(f"{c['label']}（{c['state']}）", i) for i, c in enumerate(self.choices)]
        self.pending_options = [(f"{c['label']}（{c['state']}）", i) for i, c in enumerate(self.choices)
                                if c["state"] in (PENDING, VILLAGE_APPROVED)]
        breaching = int(self.kpis["breaching"])
        note = f"，其中 {breaching} 起不符合防控规定" if breaching else ""
        return f"已更新：{self._scope()} · 红白事 {len(rows)} 起{note} · {self.day.isoformat()}"

    def _scope(self) -> str:
        parts = [self.shown_area, self.kind, self.state, "只看不符合项" if self.breaches_only else "",
                 self.query and f"“{self.query}”"]
        return " · ".join(p for p in parts if p)

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in self.kpi_lists:
            return None
        if key == "enforcements":
            return KPI_LABELS[key], self._enforcement_html(self.enforcements)
        rows = self.table if self.table.empty else kpi_rows(self.table, key, self.day)
        return KPI_LABELS[key], self._table_html(rows)

    def _table_html(self, rows: pd.DataFrame) -> str:
        if rows.empty:
            return frame_html(rows, empty="没有符合条件的红白事报备")
        shown = mask_frame(rows, get_ledger("gatherings"))[list(TABLE_COLUMNS)].rename(columns=TABLE_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-gatherings", max_rows=500, empty="没有符合条件的红白事报备",
                          cell_class=lambda col, value: "fk-flag" if col == "不符合项" and value else None)

    def _enforcement_html(self, rows: pd.DataFrame) -> str:
        ledger = get_ledger("enforcements")
        shown = rows[list(ENFORCEMENT_COLUMNS)].rename(columns=ledger.labels)
        return frame_html(shown, css_class="fk-table fk-enforcements", max_rows=300, empty="没有联合执法记录")

    def _map_for(self, rows: pd.DataFrame, enforcements: pd.DataFrame) -> str:
        counts = rows.groupby("village").size() if len(rows) else pd.Series(dtype=int)
        on_places = enforcements[enforcements["target_type"] == "重点场所"]
        key = (tuple(counts.items()), tuple(on_places["place_code"]), self.village, self._scope(), self.day)
        return self.cached_map(key, lambda: self._build_map(counts, on_places))

    def _build_map(self, counts: pd.Series, on_places: pd.DataFrame) -> str:
        places = self.data.ledgers["places"]
        acted = places[places["code"].isin(on_places["place_code"])]
        last = on_places.drop_duplicates("place_code").set_index("place_code")
        acted = acted.assign(tip=[f"{n}：{last.at[c, 'unit']} {last.at[c, 'action']}"
                                  for n, c in zip(acted["name"], acted["code"])])
        title = f"{self.data.township}红白事与联合执法分布"
        m = make_gatherings_map(self.data.villages, counts, acted, township=self.data.township, day=self.day,
                                scope=self._scope(), village=self.village or None, note=self.data.source_note)
        return map_iframe(render_map(m), height=480, title=title)

    # -- Forms ------------------------------------------------------------------------

    def choice(self, index) -> dict:
        """The gathering a form names by its option index."""
        if not isinstance(index, int) or not 0 <= index < len(self.choices):
            raise ValueError("请选择红白事报备")
        return self.choices[index]

    def report(self, raw: dict, *, reported: tuple = (None, ""), deceased: tuple = (None, "")) -> bool:
        """Record a report; the breaches it carries go to ``status`` and
        ``breaches_html``. ``reported`` and ``deceased`` are (date, "时:分")
        pairs for 报备时间 and 去世时间 (白事)."""
        def act():
            values = dict(raw, reported_at=combine(*reported), deceased_at=combine(*deceased))
            result = actions.report_gathering(self.data.engine, values, user=self.operator, today=self.data.today)
            self.breaches_html = _breaches_html(result.label, result.breaches)
            return result
        self.breaches_html = ""
        return self.run(act, reload=("gatherings",))

    def review(self, index, level: str, *, approve: bool, reason: str = "") -> bool:
        """The village's (村) or the township's (乡) decision on a report."""
        def act():
            key = self.choice(index)
            return actions.review_gathering(self.data.engine, key, level, approve=approve, reason=reason,
                                            user=self.operator, today=self.data.today)
        return self.run(act, reload=("gatherings",))

    def log_enforcement(self, raw: dict, *, gathering=None) -> bool:
        """Log the joint team's action; ``gathering`` is an option index when
        the object is a gathering."""
        def act():
            values = dict(raw)
            if values.get("target_type") == "红白事":
                key = self.choice(gathering)
                values.update(host=key["host"], event_date=key["date"], kind=key["kind"])
            return actions.log_enforcement(self.data.engine, values, user=self.operator, today=self.data.today)
        return self.run(act, reload=("enforcements",))

    def rows_for_export(self) -> pd.DataFrame:
        """The gatherings shown, as ledger rows (the export carries 不符合项)."""
        ledger = self.data.ledgers["gatherings"]
        if self.table.empty:
            return ledger.iloc[0:0]
        return ledger.loc[self.table.index]


def _breaches_html(label: str, breaches: list[str]) -> str:
    if not breaches:
        return str(html("<div class='fk-ok fk-breaches'>{label}：符合防控规定</div>", label=label))
    return str(html("<div class='fk-flag fk-breaches'>{label} 不符合防控规定：{items}</div>", label=label,
                    items="、".join(breaches)))


def combine(day: date | None, clock: str) -> datetime | None:
    """A date and a typed time (08:30) as one time stamp; None when no date.

    >>> combine(date(2022, 4, 7), "8:05")
    datetime.datetime(2022, 4, 7, 8, 5)
    """
    if day is None:
        return None
    text = (clock or "").strip().replace("：", ":")
    if not text:
        return datetime.combine(day, datetime.min.time())
    try:
        hour, minute = (int(x) for x in text.split(":"))
        return datetime(day.year, day.month, day.day, hour, minute)
    except ValueError:
        raise ValueError(f"时间「{clock}」应写作 时:分，如 08:30") from None

