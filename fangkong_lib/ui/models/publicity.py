"""The publicity page's model (宣传网, surface 1), no widgets.

Set the filter traits (``village``, ``channel``, ``topic``, ``start``,
``end``, ``behind_only``) and read ``kpis``, ``map_html``, ``coverage_html``,
``rows_html`` and ``status``; :meth:`PublicityModel.record` saves a day's
publicity work of a village (validated like an import row).

Not to be confused with :mod:`fangkong_lib.outputs.publicity`, the donors'
public list (捐赠公示).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import traitlets as t

from ...actions import save_record
from ...domain.publicity_work import COVERAGE_COLUMNS, KPI_LABELS, filter_publicity, publicity_coverage, summarize_publicity
from ...ledgers import PUBLICITY_CHANNELS, get_ledger
from ...policy.community import load_publicity_policy
from ...views.community_maps import make_publicity_map
from ...views.maps import map_iframe, render_map
from ...views.tables import frame_html
from .base import ALL, PageModel

__all__ = ["PublicityModel"]

ROW_COLUMNS = ("date", "village", "channel", "topic", "quantity", "households", "groups", "members", "reporter",
               "note")


class PublicityModel(PageModel):
    """State of the publicity page: filters in, coverage and work out."""

    filters = ("village", "channel", "topic", "start", "end", "behind_only")
    kpi_lists = ("villages", "behind", "broadcasts", "leaflet_households", "door_households", "banners", "records")

    channel = t.Unicode(ALL)
    topic = t.Unicode(ALL)
    start = t.Instance(date, allow_none=True)
    end = t.Instance(date, allow_none=True)
    behind_only = t.Bool(False)

    coverage_html = t.Unicode("")
    rows_html = t.Unicode("")

    def __init__(self, data, **kwargs):
        self.policy = load_publicity_policy()
        self.coverage = pd.DataFrame()
        self.rows = data.ledgers["publicity"].iloc[0:0]
        kwargs.setdefault("end", data.today)
        super().__init__(data, **kwargs)

    @property
    def day(self) -> date:
        """The day coverage is counted up to: the end of the range, else today."""
        return self.end or self.data.today

    # -- Options ----------------------------------------------------------------------

    @property
    def channel_options(self):
        return [("全部渠道", ALL)] + [(c, c) for c in PUBLICITY_CHANNELS]

    @property
    def topic_options(self):
        return [("全部主题", ALL)] + [(x, x) for x in self.policy.topics]

    def unit_of(self, channel: str) -> str:
        return self.policy.units.get(channel, "")

    @t.validate("channel")
    def _check_channel(self, proposal):
        return self.one_of(proposal["value"], PUBLICITY_CHANNELS, "宣传渠道")

    @t.validate("topic")
    def _check_topic(self, proposal):
        return self.one_of(proposal["value"], self.policy.topics, "宣传主题")

    # -- Figures ----------------------------------------------------------------------

    def compute(self) -> str:
        if self.start and self.end and self.start > self.end:
            raise ValueError("开始日期晚于结束日期")
        ledgers = self.data.ledgers
        coverage = publicity_coverage(ledgers["publicity"], ledgers["villages"], self.day, policy=self.policy)
        if self.village:
            coverage = coverage[coverage["village"] == self.village]
        if self.behind_only:
            coverage = coverage[coverage["behind"]]
        rows = filter_publicity(ledgers["publicity"], village=self.village, channel=self.channel, topic=self.topic,
                                start=self.start, end=self.day)
        if self.behind_only:
            rows = rows[rows["village"].isin(coverage["village"])]
        rows = rows.sort_values(["date", "village"], ascending=[False, True], kind="stable")
        self.coverage, self.rows = coverage, rows
        self.kpis = summarize_publicity(coverage, rows)
        self.coverage_html = self._coverage_html(coverage)
        self.rows_html = self._rows_html(rows)
        full = coverage if not (self.village or self.behind_only) else publicity_coverage(
            ledgers["publicity"], ledgers["villages"], self.day, policy=self.policy)
        self.map_html = self.cached_map((self.day, self.village, tuple(full["coverage"]), tuple(full["behind"])),
                                        lambda: self._build_map(full))
        behind = coverage.loc[coverage["behind"], "village"].tolist()
        note = f"，宣传滞后：{'、'.join(behind)}" if behind else "，各村均达标"
        return f"已更新：{self.shown_area} · 截至 {self.day.isoformat()}{note}"

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in self.kpi_lists:
            return None
        if key == "villages":
            return KPI_LABELS[key], self._coverage_html(self.coverage)
        if key == "behind":
            return KPI_LABELS[key], self._coverage_html(self.coverage[self.coverage["behind"]])
        channel = {"broadcasts": "村村通广播", "leaflet_households": "宣传单", "door_households": "入户宣传",
                   "banners": "横幅标语"}.get(key)
        rows = self.rows if channel is None else self.rows[self.rows["channel"] == channel]
        return KPI_LABELS[key], self._rows_html(rows)

    def _coverage_html(self, coverage: pd.DataFrame) -> str:
        shown = coverage.assign(**{c: coverage[c].map(lambda v: f"{v:.0%}")
                                   for c in ("leaflet_share", "door_share")})
        shown = shown[list(COVERAGE_COLUMNS)].rename(columns=COVERAGE_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-coverage", max_rows=100, empty="没有村",
                          cell_class=lambda col, value: "fk-flag" if col == "未达标项" and value else None)

    def _rows_html(self, rows: pd.DataFrame) -> str:
        labels = get_ledger("publicity").labels
        shown = rows[list(ROW_COLUMNS)].assign(
            unit=rows["channel"].map(self.policy.units).fillna("")).rename(columns=labels | {"unit": "单位"})
        return frame_html(shown, css_class="fk-table fk-publicity", max_rows=300, empty="没有符合条件的宣传记录")

    def _build_map(self, coverage: pd.DataFrame) -> str:
        title = f"{self.data.township}宣传覆盖情况"
        m = make_publicity_map(self.data.villages, coverage, township=self.data.township, day=self.day,
                               village=self.village or None, note=self.data.source_note)
        return map_iframe(render_map(m), height=480, title=title)

    # -- Form -------------------------------------------------------------------------

    def record(self, raw: dict) -> bool:
        """Save a village's publicity work of a day (one channel, one topic)."""
        return self.run(lambda: save_record(self.data.engine, "publicity", raw, user=self.operator,
                                            today=self.data.today), reload=("publicity",))
