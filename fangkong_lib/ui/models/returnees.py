"""The returnee page's model (返乡人员管控, gates 1-3), no widgets.

Set the filter traits (``village``, ``grid``, ``category``, ``measure``,
``person_status``, ``date_from``/``date_to``, ``only_overdue``, ``day``,
``clock``) and read ``kpis``, ``map_html``, ``table_html``, ``alerts_html``,
``person_options`` and ``status``; set ``selected`` (an ID number, kernel side
only) and read ``detail_html``; call the ``record_*`` methods for the forms
and read ``messages``. Every write checks in Python who may do what (an
operator is required, the page can be read-only, the step must fit the
person), goes through validation and the audit log, then the plans and every
figure are refreshed at once. ``open_kpi(key)`` shows the list a KPI counts.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time
from typing import Callable, Mapping

import pandas as pd
import traitlets as t

from ... import actions as workflow
from ...domain.alerts import summarize_alerts
from ...domain.controls import describe_bad_rows
from ...domain.overview import CONTROL_MEASURES
from ...domain.returnees import (
    KPI_LABELS, PERSON_STATUSES, person_days, person_table, regime_name, summarize_returnees, team_of,
)
from ...ingest.normalize import clean_text
from ...ingest.validate import Problem
from ...ledgers import RISK_CATEGORIES
from ...policy import load_regimes
from ...views.maps import map_iframe, render_map
from ...views.returnees import (
    alerts_html, make_returnee_map, person_detail_html, person_label, returnee_table_html,
)
from .base import ALL, LRUCache, PageModel, run_action, with_data_notes

#: Set to 1 to open the page read-only (a display screen in the command centre).
READ_ONLY_ENV = "FANGKONG_READONLY"
#: The demo township's clock: the day's figures as at the evening report.
DEMO_CLOCK = "17:00"
MAX_PERSON_OPTIONS = 300
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")

#: The forms and their names (keys of ``messages``).
FORMS = {
    "test": "记录核酸",
    "temperature": "记录体温",
    "release": "解除管控",
    "arrival": "登记到达",
    "prereg": "返乡报备",
}


class ReturneeModel(PageModel):
    """State of the returnee page: filters and the chosen person in, figures,
    lists and the person's detail out; forms through ``record_*``."""

    filters = ("village", "grid", "category", "measure", "person_status", "date_from", "date_to",
               "only_overdue", "day", "clock", "basemap")
    kpi_lists = tuple(k for k in KPI_LABELS if k != "people")

    grid = t.Unicode(ALL)
    category = t.Unicode(ALL)
    measure = t.Unicode(ALL)
    person_status = t.Unicode(ALL)
    date_from = t.Instance(date, allow_none=True)
    date_to = t.Instance(date, allow_none=True)
    only_overdue = t.Bool(False)
    day = t.Instance(date)
    clock = t.Unicode("")  # HH:MM on ``day``; empty: the current time
    basemap = t.Unicode("none")
    selected = t.Unicode("")  # ID number of the person shown; never sent to the browser

    table_html = t.Unicode("")
    alerts_html = t.Unicode("")
    detail_html = t.Unicode("")
    grid_options = t.List()
    person_options = t.List()  # (masked label, ID number); the view shows labels only
    messages = t.Dict()  # form key -> (text, is_error); text lines are problems
    version = t.Int(0)  # bumped after every write

    def __init__(self, data, *, read_only: bool | None = None, **kwargs):
        self.data = data
        self.read_only = (os.environ.get(READ_ONLY_ENV) == "1") if read_only is None else read_only
        self._startup_note = self._plans_current()  # before anything reads the rules
        self._regimes = load_regimes()
        self._base_cache = LRUCache(8)
        self._quiet = False
        self.people = pd.DataFrame()
        self.summary = None
        kwargs.setdefault("day", data.today)
        kwargs.setdefault("clock", DEMO_CLOCK if data.synthetic else "")
        super().__init__(data, **kwargs)

    # -- Options --------------------------------------------------------------

    def _grid_options(self) -> list[tuple[str, str]]:
        grids = self.data.ledgers["grids"]
        if self.village:
            grids = grids[grids["village"] == self.village]
        return [("全部网格", ALL)] + [(f"{c}（{n}）", c) for c, n in zip(grids["code"], grids["natural_village"])]

    @property
    def category_options(self) -> list[tuple[str, str]]:
        return [("全部风险类别", ALL)] + [(c, c) for c in RISK_CATEGORIES]

    @property
    def measure_options(self) -> list[tuple[str, str]]:
        return [("全部管控措施", ALL)] + [(m, m) for m in CONTROL_MEASURES]

    @property
    def status_options(self) -> list[tuple[str, str]]:
        return [("全部状态", ALL)] + [(s, s) for s in PERSON_STATUSES]

    def grids_of(self, village: str) -> list[tuple[str, str]]:
        """(label, code) of a village's grid cells, for the registration form."""
        grids = self.data.ledgers["grids"]
        grids = grids[grids["village"] == village]
        return [(f"{c}（{n}）", c) for c, n in zip(grids["code"], grids["natural_village"])]

    def away_options(self) -> list[tuple[str, str]]:
        """(masked label, ID) of people away in the village filter who have
        not registered yet: a registration can start from them (gate 1 → 2)."""
        people = self.people
        if people.empty:
            return []
        away = people[(people["status"] == "在外")]
        if self.village:
            away = away[away["village"] == self.village]
        away = away.sort_values(["expected", "village", "name"], na_position="last").head(MAX_PERSON_OPTIONS)
        return [(person_label(r) + (f" · 预计{r['expected']:%m-%d}" if pd.notna(r["expected"]) else ""),
                 r["id_number"]) for r in away.to_dict("records")]

    # -- Validation of what the browser can set -----------------------------------

    @t.validate("grid")
    def _check_grid(self, proposal):
        return self.one_of(proposal["value"], set(self.data.ledgers["grids"]["code"]), "网格")

    @t.validate("category")
    def _check_category(self, proposal):
        return self.one_of(proposal["value"], RISK_CATEGORIES, "风险类别")

    @t.validate("measure")
    def _check_measure(self, proposal):
        return self.one_of(proposal["value"], CONTROL_MEASURES, "管控措施")

    @t.validate("person_status")
    def _check_status(self, proposal):
        return self.one_of(proposal["value"], PERSON_STATUSES, "状态")

    @t.validate("selected")
    def _check_selected(self, proposal):
        value = proposal["value"]
        if value and not self.people.empty and value not in set(self.people["id_number"]):
            raise t.TraitError("未知的人员")
        return value

    def _on_filter(self, change):
        if self._quiet:
            return
        if change["name"] == "village":
            options = self._grid_options()
            if self.grid and self.grid not in {c for _, c in options}:
                self._quiet = True
                try:
                    self.grid = ALL
                finally:
                    self._quiet = False
            self.grid_options = options
        self.refresh()

    @t.observe("selected")
    def _on_selected(self, _change):
        self.detail_html = self._detail_html()

    # -- Time -------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        """The moment the lists are computed for: ``clock`` on ``day`` when
        ``day`` is today, the end of a past day, the start of a future one."""
        text = clean_text(self.clock)
        if text:
            match = _CLOCK.match(text)
            if not match:
                raise ValueError(f"时刻「{text}」应写作 时:分，如 17:00")
            clock = time(int(match.group(1)), int(match.group(2)))
        else:
            clock = datetime.now().time().replace(second=0, microsecond=0)
        if self.day == self.data.today:
            return datetime.combine(self.day, clock)
        return datetime.combine(self.day, time(23, 59) if self.day < self.data.today else time(0, 0))

    # -- Figures ------------------------------------------------------------------

    def _plans_current(self) -> str:
        """Recompute plans if the rule files changed since they were made."""
        try:
            result = workflow.ensure_plans_current(self.data.engine, day=self.data.today)
        except Exception as exc:  # a read-only database, a broken rule file: say so, keep showing
            return f"管控方案未能按最新政策更新：{exc}"
        if result is None:
            return ""
        if result.changed:
            self.data.reload("controls")
        return f"政策文件有变化，已重新计算管控方案（{result.summary()}）"

    def _base(self):
        """Everyone and every list for (day, now, data version), cached."""
        now = self.now
        key = (self.day, now, self.version)
        cached = self._base_cache.get(key)
        if cached is None:
            alerts = summarize_alerts(self.data.ledgers, self.day, now, regimes=self._regimes)
            people = person_table(self.data.ledgers, self.day, alerts)
            cached = self._base_cache.put(key, (people, alerts))
        return cached

    def current_filters(self) -> dict:
        return dict(village=self.village, grid=self.grid, category=self.category, measure=self.measure,
                    status=self.person_status, date_from=self.date_from, date_to=self.date_to,
                    only_overdue=self.only_overdue)

    def compute(self) -> str:
        """Recompute everything for the current filters."""
        if not self.grid_options:
            self.grid_options = self._grid_options()
        if self.day is None:
            raise ValueError("请选择日期")
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValueError("日期范围的结束早于开始")
        people, alerts = self._base()
        self.people = people
        summary = summarize_returnees(people, alerts, self.data.ledgers["grids"]["code"], **self.current_filters())
        self.summary = summary
        self.kpis = dict(summary.kpis)
        self.table_html = returnee_table_html(summary.people)
        self.alerts_html = alerts_html(summary.alerts)
        self.map_html = self._map_for(summary.by_grid)
        self.person_options = self._person_options(summary.people)
        if self.selected and self.selected not in set(people["id_number"]):
            self.selected = ALL
        self.detail_html = self._detail_html()
        note = f"；{self._startup_note}" if self._startup_note else ""
        shown = f"已更新：{self._scope()} · {len(summary.people)} 人 · {self.now:%Y-%m-%d %H:%M}{note}"
        return with_data_notes(shown, describe_bad_rows(summary.bad_rows))

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        """A status KPI lists its people; every other KPI its action list."""
        summary = self.summary
        if summary is None or key not in self.kpi_lists:
            return None
        if key in PERSON_STATUSES:
            return KPI_LABELS[key], returnee_table_html(summary.people[summary.people["status"] == key])
        rows = summary.alerts.get(key)
        if rows is None:
            return None
        return KPI_LABELS[key], alerts_html({key: rows})

    def _scope(self) -> str:
        parts = [self.shown_area, self.grid, self.category, self.measure, self.person_status,
                 "只看逾期" if self.only_overdue else ""]
        if self.date_from or self.date_to:
            parts.append(f"{self.date_from or '…'} 至 {self.date_to or '…'}")
        return " · ".join(p for p in parts if p)

    def _person_options(self, shown: pd.DataFrame) -> list[tuple[str, str]]:
        rows = shown.head(MAX_PERSON_OPTIONS)
        options = [(person_label(r), r["id_number"]) for r in rows.to_dict("records")]
        if self.selected and self.selected not in set(rows["id_number"]):
            person = self.people[self.people["id_number"] == self.selected]
            if len(person):  # keep the person being worked on, even if filtered out
                options.insert(0, (person_label(person.iloc[0].to_dict()) + "（不在筛选结果中）", self.selected))
        return options

    def _map_for(self, by_grid: pd.Series) -> str:
        counts = tuple(by_grid[by_grid > 0].items())
        subtitle = f"{self._scope()} · {self.day.isoformat()}"
        return self.cached_map((counts, self.village, self.basemap, subtitle),
                               lambda: self._build_map(by_grid, subtitle))

    def _build_map(self, by_grid: pd.Series, subtitle: str) -> str:
        title = f"{self.data.township}返乡人员分布"
        m = make_returnee_map(self.data.grids, self.data.villages, self.data.naturals, by_grid,
                              village=self.village or None, basemap=self.basemap, title=title,
                              subtitle=subtitle, note=self.data.source_note)
        return map_iframe(render_map(m), height=540, title=title)

    # -- One person -------------------------------------------------------------

    def person(self, id_number: str | None = None) -> dict | None:
        idn = id_number or self.selected
        rows = self.people[self.people["id_number"] == idn] if idn and len(self.people) else self.people.iloc[0:0]
        return rows.iloc[0].to_dict() if len(rows) else None

    def control(self, id_number: str | None = None) -> dict | None:
        controls = self.data.ledgers["controls"]
        rows = controls[controls["id_number"] == (id_number or self.selected)]
        return rows.iloc[-1].to_dict() if len(rows) else None

    def days(self, id_number: str | None = None) -> pd.DataFrame | None:
        """The person's day grid (see :func:`person_days`), None without a control."""
        idn = id_number or self.selected
        control = self.control(idn)
        if control is None or control.get("measure") in (None, "无") or pd.isna(control.get("start_date")):
            return None
        ledgers = self.data.ledgers
        returnee = ledgers["returnees"][ledgers["returnees"]["id_number"] == idn]
        arrival = returnee["actual_arrival"].iloc[-1] if len(returnee) else pd.NaT
        regime = next((r for r in self._regimes if r.key == control.get("regime")), None)
        return person_days(
            control, ledgers["tests"][ledgers["tests"]["id_number"] == idn],
            ledgers["daily_checks"][ledgers["daily_checks"]["id_number"] == idn], self.day, self.now,
            arrival=None if pd.isna(arrival) else arrival.date(),
            threshold=regime.fever_threshold if regime else None,
            checks_per_day=regime.temperature_checks_per_day if regime else 2,
        )

    def _detail_html(self) -> str:
        person = self.person()
        if person is None:
            return '<div class="fk-empty">请在上方选择一个人员查看管控方案、每日核酸与体温和五包一责任人。</div>'
        control = self.control()
        return person_detail_html(
            person, control=control, days=self.days(),
            team=team_of(control) if control is not None else (),
            regime=regime_name(control.get("regime"), self._regimes) if control is not None else "",
            today=self.day,
        )

    # -- Forms ------------------------------------------------------------------

    def _refuse(self, needs_person: bool) -> None:
        """Who may write: checked here, whatever the widgets show (a refusal
        raises ``ValueError`` with the sentence to show)."""
        def refuse(key: str, label: str, reason: str, value: str = ""):
            raise ValueError(Problem(key, label, value, reason).sentence())

        if self.read_only:
            refuse("operator", "操作人", "本页面为只读模式，不能录入")
        user = clean_text(self.operator)
        if not user:
            refuse("operator", "操作人", "请先填写操作人（谁录入的）")
        if len(user) > 32:
            refuse("operator", "操作人", "过长（最多 32 个字）", user[:40])
        if needs_person and not self.selected:
            refuse("id_number", "人员", "请先在“人员详情”中选择人员")

    def _run(self, form: str, action: Callable[[str], object], *, needs_person: bool = True) -> bool:
        def act():
            self._refuse(needs_person)
            return action(clean_text(self.operator))

        report = run_action(act)
        if report.ok:
            self.version += 1
            self.refresh()
            self.messages = {**self.messages, form: (report.message, False)}
            if not self.error:
                self.status = f"已保存：{report.message}"
        else:
            text = "\n".join(report.lines) or report.message
            self.messages = {**self.messages, form: (text, True)}
            self.status, self.error = f"{FORMS[form]}未保存：{text.replace(chr(10), '；')}", True
        return report.ok

    def record_test(self, raw: Mapping) -> bool:
        """核酸: ``sample_date``, ``result``, ``method``, ``sampler`` of the chosen person."""
        return self._run("test", lambda user: workflow.record_test(self.data, self.selected, raw, user=user))

    def record_temperature(self, raw: Mapping) -> bool:
        """体温: ``date``, ``slot`` (上午/下午), ``temperature``, ``symptoms``."""
        return self._run("temperature", lambda user: workflow.record_temperature(
            self.data, self.selected, raw, user=user, regimes=self._regimes))

    def record_release(self, raw: Mapping) -> bool:
        """解除: ``released_date``."""
        return self._run("release", lambda user: workflow.record_release(self.data, self.selected, raw, user=user))

    def record_arrival(self, raw: Mapping) -> bool:
        """到达: ``actual_arrival``, ``landing_test_result``, ``health_code``."""
        return self._run("arrival", lambda user: workflow.record_arrival(self.data, self.selected, raw, user=user))

    def record_preregistration(self, raw: Mapping, *, away_id: str = "") -> bool:
        """报备 (new, or from a person away); the registered person becomes the chosen one."""
        def act(user):
            message = workflow.record_preregistration(self.data, raw, user=user, away_id=away_id)
            self._pending_selection = away_id or clean_text(raw.get("id_number")).upper()
            return message

        self._pending_selection = ""
        ok = self._run("prereg", act, needs_person=False)
        if ok and self._pending_selection in set(self.people["id_number"]):
            self.selected = self._pending_selection
            self.person_options = self._person_options(self.summary.people)
        return ok
