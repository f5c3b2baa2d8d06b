"""Returnee control (返乡人员管控, gates 1-3): a traitlets model and its view.

The model (:class:`ReturneeModel`) never imports ipywidgets. Set the filter
traits (``village``, ``grid``, ``category``, ``measure``, ``person_status``,
``date_from``/``date_to``, ``only_overdue``, ``day``, ``clock``) and read
``kpis``, ``map_html``, ``table_html``, ``alerts_html``, ``person_options``
and ``status``; set ``selected`` (an ID number, kernel side only) and read
``detail_html``; call the ``record_*`` methods for the forms and read
``messages``. Every write checks in Python who may do what (an operator is
required, the page can be read-only, the step must fit the person), goes
through validation and the audit log, then the plans and every figure are
refreshed at once. The view (:class:`ReturneePage`) is a VBox linked to it.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, time
from typing import Callable, Mapping

import ipywidgets as w
import pandas as pd
import traitlets as t

from ..actions import returnees as workflow
from ..dataset import Dataset
from ..domain.alerts import summarize_alerts
from ..domain.overview import CONTROL_MEASURES
from ..domain.returnees import (
    KPI_LABELS, PERSON_STATUSES, person_days, person_table, regime_name, summarize_returnees, team_of,
)
from ..ledgers import HEALTH_CODES, RISK_CATEGORIES, TEST_RESULTS, get_ledger
from ..ingest.normalize import clean_text
from ..policy import load_regimes
from ..views.maps import escape_text, map_iframe, render_map
from ..views.returnees import (
    alerts_html, make_returnee_map, person_detail_html, person_label, returnee_table_html,
)
from ..views.tables import kpi_cards_html
from .exportbar import ExportBar, MapExportBar
from .state import LRUCache
from .common import page_header, status_html, village_choices
from .forms import EXTRA_CSS, form_box, labelled, operator_field, row, section

ALL = ""  # the "全部" choice of a filter
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

CSS = """
<style>
.fk-rt tr:last-child td{font-weight:normal}
.fk-rt td{text-align:left}
.fk-alerts{max-height:640px;overflow:auto}
.fk-alert-list{margin:0 0 8px 0}
.fk-alert-title{font-weight:bold;font-size:14px;color:#243b53;margin:4px 0 2px 0}
.fk-alert-list[data-alert="fevers"] .fk-alert-title,
.fk-alert-list[data-alert="tests_overdue"] .fk-alert-title{color:#b8322a}
.fk-count{display:inline-block;background:#b8322a;color:#fff;border-radius:9px;padding:0 7px;margin-left:6px;
  font-size:12px}
.fk-alert-none{color:#52606d;font-size:12px;margin:6px 0}
.fk-person{font-size:13px}
.fk-person-head{font-size:17px;margin:4px 0}
.fk-badge{display:inline-block;background:#1d4f91;color:#fff;border-radius:3px;padding:0 6px;margin-left:8px;
  font-size:12px}
.fk-badge[data-status="管控中"]{background:#b8322a}.fk-badge[data-status="已解除"]{background:#2f6f3e}
.fk-flags{color:#b8322a;margin-left:8px;font-size:13px}
.fk-dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 10px;margin:4px 0}
.fk-dl dt{color:#52606d}.fk-dl dd{margin:0}
.fk-sub{font-weight:bold;color:#243b53;margin:8px 0 2px 0}
.fk-team-table{width:auto}
.fk-days{border-collapse:collapse;font-size:12px}
.fk-days th,.fk-days td{border:1px solid #d9e2ec;padding:2px 8px;text-align:center;white-space:nowrap}
.fk-days tr.fk-today th{background:#fff3c4}
.fk-d-done{background:#d9f2dd}.fk-d-due{background:#fff3c4}.fk-d-late{background:#f8c9c4;color:#8c1d18}
.fk-d-abnormal{background:#b8322a;color:#fff;font-weight:bold}
.fk-d-planned{background:#f5f7fa;color:#7b8794}
.fk-d-absent{background:#e4e7eb;color:#7b8794}
.fk-days-legend span{display:inline-block;padding:0 6px;margin:4px 4px 0 0;border:1px solid #d9e2ec;font-size:12px}
.fk-form-msg .err{color:#b8322a}.fk-form-msg .ok{color:#2f6f3e}
.fk-form-msg ul{margin:2px 0;padding-left:18px}
</style>
"""


def _form_message_html(text: str, error: bool) -> str:
    if not text:
        return ""
    if error:
        items = "".join(f"<li>{escape_text(s)}</li>" for s in text.split("\n") if s)
        return f'<div class="err"><b>未保存：</b><ul>{items}</ul></div>'
    return f'<div class="ok">{escape_text(text)}</div>'


class ReturneeModel(t.HasTraits):
    """State of the returnee page: filters and the chosen person in, figures,
    lists and the person's detail out; forms through ``record_*``."""

    village = t.Unicode(ALL)
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
    operator = t.Unicode("")
    selected = t.Unicode("")  # ID number of the person shown; never sent to the browser

    kpis = t.Dict()
    map_html = t.Unicode("")
    table_html = t.Unicode("")
    alerts_html = t.Unicode("")
    detail_html = t.Unicode("")
    grid_options = t.List()
    person_options = t.List()  # (masked label, ID number); the view shows labels only
    messages = t.Dict()  # form key -> (text, is_error); text lines are problems
    status = t.Unicode("")
    error = t.Bool(False)
    version = t.Int(0)  # bumped after every write

    def __init__(self, data: Dataset, *, read_only: bool | None = None, **kwargs):
        self.data = data
        self.read_only = (os.environ.get(READ_ONLY_ENV) == "1") if read_only is None else read_only
        self._startup_note = self._plans_current()  # before anything reads the rules
        self._regimes = load_regimes()
        self._base_cache = LRUCache(8)
        self._map_cache = LRUCache(16)
        self._quiet = False
        self.people = pd.DataFrame()
        self.summary = None
        kwargs.setdefault("day", data.today)
        kwargs.setdefault("clock", DEMO_CLOCK if data.synthetic else "")
        super().__init__(**kwargs)
        self.grid_options = self._grid_options()
        self.refresh()

    # -- Options --------------------------------------------------------------

    @property
    def village_options(self) -> list[tuple[str, str]]:
        return village_choices(self.data)

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

    def _one_of(self, value: str, allowed, what: str) -> str:
        if value and value not in allowed:
            raise t.TraitError(f"未知的{what}：{value}")
        return value

    @t.validate("village")
    def _check_village(self, proposal):
        return self._one_of(proposal["value"], self.data.village_names, "村")

    @t.validate("grid")
    def _check_grid(self, proposal):
        return self._one_of(proposal["value"], set(self.data.ledgers["grids"]["code"]), "网格")

    @t.validate("category")
    def _check_category(self, proposal):
        return self._one_of(proposal["value"], RISK_CATEGORIES, "风险类别")

    @t.validate("measure")
    def _check_measure(self, proposal):
        return self._one_of(proposal["value"], CONTROL_MEASURES, "管控措施")

    @t.validate("person_status")
    def _check_status(self, proposal):
        return self._one_of(proposal["value"], PERSON_STATUSES, "状态")

    @t.validate("selected")
    def _check_selected(self, proposal):
        value = proposal["value"]
        if value and not self.people.empty and value not in set(self.people["id_number"]):
            raise t.TraitError("未知的人员")
        return value

    @t.observe("village", "grid", "category", "measure", "person_status", "date_from", "date_to",
               "only_overdue", "day", "clock", "basemap")
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

    def filters(self) -> dict:
        return dict(village=self.village, grid=self.grid, category=self.category, measure=self.measure,
                    status=self.person_status, date_from=self.date_from, date_to=self.date_to,
                    only_overdue=self.only_overdue)

    def refresh(self) -> None:
        """Recompute everything for the current filters; errors go to ``status``."""
        try:
            if self.day is None:
                raise ValueError("请选择日期")
            if self.date_from and self.date_to and self.date_to < self.date_from:
                raise ValueError("日期范围的结束早于开始")
            people, alerts = self._base()
            self.people = people
            summary = summarize_returnees(people, alerts, self.data.ledgers["grids"]["code"], **self.filters())
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
            self.status = f"已更新：{self._scope()} · {len(summary.people)} 人 · {self.now:%Y-%m-%d %H:%M}{note}"
            self.error = False
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            self.status = f"出错：{exc}"
            self.error = True

    def _scope(self) -> str:
        parts = [self.village or "全乡", self.grid, self.category, self.measure, self.person_status,
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
        key = (counts, self.village, self.basemap)
        cached = self._map_cache.get(key)
        if cached is not None:
            return cached
        title = f"{self.data.township}返乡人员分布"
        m = make_returnee_map(self.data.grids, self.data.villages, self.data.naturals, by_grid,
                              village=self.village or None, basemap=self.basemap, title=title,
                              subtitle=f"{self._scope()} · {self.day.isoformat()}", note=self.data.source_note)
        doc = map_iframe(render_map(m), height=540, title=title)
        return self._map_cache.put(key, doc)

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

    def _refuse(self, needs_person: bool) -> workflow.Outcome | None:
        """Who may write: checked here, whatever the widgets show."""
        if self.read_only:
            return workflow.Outcome.refused("operator", "操作人", "本页面为只读模式，不能录入")
        user = clean_text(self.operator)
        if not user:
            return workflow.Outcome.refused("operator", "操作人", "请先填写操作人（谁录入的）")
        if len(user) > 32:
            return workflow.Outcome.refused("operator", "操作人", "过长（最多 32 个字）", user[:40])
        if needs_person and not self.selected:
            return workflow.Outcome.refused("id_number", "人员", "请先在“人员详情”中选择人员")
        return None

    def _run(self, form: str, action: Callable[[str], workflow.Outcome], *, needs_person: bool = True) -> bool:
        try:
            outcome = self._refuse(needs_person) or action(clean_text(self.operator))
        except Exception as exc:  # shown to the user: Voilà hides tracebacks
            outcome = workflow.Outcome.refused("form", FORMS[form], f"出错：{exc}")
        if outcome.ok:
            self.version += 1
            self.refresh()
            self.messages = {**self.messages, form: (outcome.message, False)}
            if not self.error:
                self.status = f"已保存：{outcome.message}"
        else:
            text = "\n".join(outcome.sentences())
            self.messages = {**self.messages, form: (text, True)}
            self.status, self.error = f"{FORMS[form]}未保存：{text.replace(chr(10), '；')}", True
        return outcome.ok

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
            outcome = workflow.record_preregistration(self.data, raw, user=user, away_id=away_id)
            if outcome.ok:
                self._pending_selection = away_id or clean_text(raw.get("id_number")).upper()
            return outcome

        self._pending_selection = ""
        ok = self._run("prereg", act, needs_person=False)
        if ok and self._pending_selection in set(self.people["id_number"]):
            self.selected = self._pending_selection
            self.person_options = self._person_options(self.summary.people)
        return ok


# -- The view ---------------------------------------------------------------------------------


def _date_picker(description: str, css: str, width: str = "210px") -> w.DatePicker:
    return labelled(w.DatePicker(description=description), css, width)


def _dropdown(options, description: str, css: str, width: str = "210px") -> w.Dropdown:
    return labelled(w.Dropdown(options=options, description=description), css, width)


def _text(description: str, css: str, width: str = "210px", placeholder: str = "") -> w.Text:
    return labelled(w.Text(description=description, placeholder=placeholder), css, width)


class ReturneePage(w.VBox):
    """The returnee dashboard: operator, filters, KPIs, map, lists to act on,
    the people table, one person's detail and the forms, status line."""

    def __init__(self, model: ReturneeModel | None = None, *, db=None, read_only: bool | None = None, **kwargs):
        self.model = model or ReturneeModel(Dataset.load(db), read_only=read_only)
        m = self.model
        self._operator = operator_field()
        self._village = _dropdown(m.village_options, "村", "fk-filter-village", "190px")
        self._grid = _dropdown(m.grid_options, "网格", "fk-filter-grid", "230px")
        self._category = _dropdown(m.category_options, "风险类别", "fk-filter-category", "250px")
        self._measure = _dropdown(m.measure_options, "管控措施", "fk-filter-measure", "230px")
        self._pstatus = _dropdown(m.status_options, "状态", "fk-filter-status", "170px")
        self._from = _date_picker("到达/预计 自", "fk-filter-from", "250px")
        self._to = _date_picker("至", "fk-filter-to", "190px")
        self._overdue = labelled(w.Checkbox(description="只看逾期", indent=False), "fk-filter-overdue", "100px")
        self._day = _date_picker("日期", "fk-filter-day", "200px")
        self._clock = labelled(w.Text(description="时刻", placeholder="现在", continuous_update=False),
                               "fk-filter-clock", "130px")
        for widget, trait in ((self._operator, "operator"), (self._village, "village"), (self._grid, "grid"),
                              (self._category, "category"), (self._measure, "measure"),
                              (self._pstatus, "person_status"), (self._from, "date_from"), (self._to, "date_to"),
                              (self._overdue, "only_overdue"), (self._day, "day"), (self._clock, "clock")):
            w.link((m, trait), (widget, "value"))

        self._status = w.HTML().add_class("fk-status")
        self._kpis = w.HTML().add_class("fk-kpis")
        self._map = w.HTML(layout=w.Layout(width="100%")).add_class("fk-map-box")
        self._alerts = w.HTML().add_class("fk-alerts")
        self._table = w.HTML().add_class("fk-returnee-table")
        self._person = _dropdown([], "人员", "fk-person-select", "640px")
        self._person.observe(self._on_person, names="value")
        self._detail = w.HTML().add_class("fk-person-detail")
        self._forms = self._build_forms()

        m.observe(self._render, names=["kpis", "map_html", "table_html", "alerts_html", "detail_html",
                                       "status", "error"])
        m.observe(self._sync_choices, names=["person_options", "grid_options", "selected"])
        m.observe(self._render_messages, names="messages")
        m.observe(self._on_day, names="day")
        m.observe(self._on_village_filter, names="village")
        self._render()
        self._sync_choices()
        self._render_messages()
        self._on_day()

        filters = w.VBox([
            row(self._village, self._grid, self._category, self._measure, self._pstatus),
            row(self._from, self._to, self._overdue, self._day, self._clock),
        ])
        body = w.HBox([
            w.VBox([self._map], layout=w.Layout(width="56%")),
            w.VBox([w.HTML("<h3 class='fk-h'>待办与预警</h3>"), self._alerts],
                   layout=w.Layout(width="44%", padding="0 0 0 12px")),
        ])
        writable = "" if not m.read_only else "（本页面为只读模式）"
        super().__init__(
            [
                w.HTML(page_header("返乡人员管控", m.data) + EXTRA_CSS + CSS),
                row(self._operator, w.HTML(f"<span class='fk-note'>保存表单前请填写操作人{writable}</span>")),
                filters,
                w.HBox([
                    ExportBar(lambda: ("returnees", m.data.ledgers["returnees"][
                        m.data.ledgers["returnees"]["id_number"].isin(
                            m.summary.people["id_number"] if m.summary is not None else [])]),
                        lambda: f"返乡人员{'-' + m.village if m.village else ''}", synthetic=m.data.synthetic),
                    MapExportBar(lambda: m.map_html, lambda: f"返乡人员分布图_{m.day.isoformat()}"),
                ]).add_class("fk-exports"),
                self._status,
                self._kpis,
                body,
                section("人员名单（身份证号、手机号已脱敏）"),
                self._table,
                section("人员详情与录入"),
                self._person,
                w.HBox([
                    w.VBox([self._detail], layout=w.Layout(width="50%")),
                    w.VBox(self._forms, layout=w.Layout(width="50%", padding="0 0 0 12px")),
                ]),
                section("返乡报备（新登记，或从在外人员中选择）"),
                self._prereg_box,
            ],
            **kwargs,
        )
        self.add_class("fk-page")
        self.add_class("fk-returnee-page")

    # -- Forms --------------------------------------------------------------------

    def _build_forms(self) -> list[w.Widget]:
        self._msg = {k: w.HTML().add_class("fk-form-msg").add_class(f"fk-msg-{k}") for k in FORMS}

        def save(label: str, css: str, handler) -> w.Button:
            button = w.Button(description=label, button_style="danger", icon="save").add_class(css)
            button.on_click(handler)
            return button

        self._t_date = _date_picker("采样日期", "fk-test-date")
        self._t_result = _dropdown(list(TEST_RESULTS), "结果", "fk-test-result", "150px")
        self._t_method = _dropdown(["上门", "集中", "卡点"], "方式", "fk-test-method", "150px")
        self._t_sampler = _text("采样人", "fk-test-sampler", "200px")
        test = form_box(FORMS["test"], [row(self._t_date, self._t_result, self._t_method, self._t_sampler),
                                        row(save("保存核酸", "fk-save-test", self._on_test), self._msg["test"])],
                        "fk-form-test")

        self._p_date = _date_picker("日期", "fk-temp-date")
        self._p_slot = _dropdown(["上午", "下午"], "时段", "fk-temp-slot", "140px")
        self._p_value = _text("体温(℃)", "fk-temp-value", "150px", "如 36.5")
        self._p_symptoms = _text("症状", "fk-temp-symptoms", "200px", "无则不填")
        temp = form_box(FORMS["temperature"], [row(self._p_date, self._p_slot, self._p_value, self._p_symptoms),
                                               row(save("保存体温", "fk-save-temp", self._on_temp),
                                                   self._msg["temperature"])], "fk-form-temp")

        self._r_date = _date_picker("解除日期", "fk-release-date")
        release = form_box(FORMS["release"], [row(self._r_date, save("解除管控", "fk-save-release", self._on_release),
                                                  self._msg["release"])], "fk-form-release")

        self._a_date = _date_picker("实际到达", "fk-arrival-date")
        self._a_result = _dropdown([("未采", "")] + [(r, r) for r in TEST_RESULTS], "落地核酸", "fk-arrival-test",
                                   "170px")
        self._a_code = _dropdown([("未查", "")] + [(c, c) for c in HEALTH_CODES], "健康码", "fk-arrival-code", "160px")
        arrival = form_box(FORMS["arrival"] + "（已报备、尚未到达的人员）",
                           [row(self._a_date, self._a_result, self._a_code),
                            row(save("登记到达", "fk-save-arrival", self._on_arrival), self._msg["arrival"])],
                           "fk-form-arrival")

        ledger = get_ledger("returnees")
        m = self.model
        self._g_away = _dropdown([], "在外人员", "fk-prereg-away", "560px")
        self._g_away.observe(self._on_away, names="value")
        self._g_name = _text("姓名", "fk-prereg-name", "170px")
        self._g_id = _text("身份证号", "fk-prereg-id", "280px")
        self._g_phone = _text("手机号", "fk-prereg-phone", "220px")
        self._g_village = _dropdown([("", "")] + [(v, v) for v in m.data.village_names], "村", "fk-prereg-village",
                                    "170px")
        self._g_grid = _dropdown([], "网格", "fk-prereg-grid", "230px")
        self._g_village.observe(self._on_prereg_village, names="value")
        self._g_category = _dropdown([("", "")] + [(c, c) for c in RISK_CATEGORIES], "风险类别", "fk-prereg-category",
                                     "260px")
        self._g_origin = _text("出发地", "fk-prereg-origin", "300px", "省市县（区）乡")
        self._g_left = _date_picker("离开风险地", "fk-prereg-left", "230px")
        self._g_expected = _date_picker("预计到达", "fk-prereg-expected", "220px")
        self._g_actual = _date_picker("实际到达", "fk-prereg-actual", "220px")
        self._g_transport = _dropdown([("", "")] + [(x, x) for x in ledger["transport"].choices], "交通方式",
                                      "fk-prereg-transport", "170px")
        self._g_vehicle = _text("车次/车牌", "fk-prereg-vehicle", "200px")
        self._g_channel = _dropdown([("", "")] + [(x, x) for x in ledger["report_channel"].choices], "报备方式",
                                    "fk-prereg-channel", "170px")
        self._g_test48 = _dropdown([("", "")] + [(x, x) for x in TEST_RESULTS], "48小时核酸", "fk-prereg-test48",
                                   "180px")
        self._g_code = _dropdown([("", "")] + [(x, x) for x in HEALTH_CODES], "健康码", "fk-prereg-code", "160px")
        self._g_note = _text("备注", "fk-prereg-note", "300px")
        title = "返乡报备：预计到达前至少 3 天报备；已到达的请同时填写实际到达（随即生成管控方案）"
        self._prereg_box = form_box(title, [
            self._g_away,
            row(self._g_name, self._g_id, self._g_phone, self._g_village, self._g_grid),
            row(self._g_category, self._g_origin, self._g_left),
            row(self._g_expected, self._g_actual, self._g_transport, self._g_vehicle),
            row(self._g_channel, self._g_test48, self._g_code, self._g_note),
            row(save("保存报备", "fk-save-prereg", self._on_prereg), self._msg["prereg"]),
        ], "fk-form-prereg")
        self._on_prereg_village()
        return [test, temp, release, arrival]

    def _on_day(self, _change=None):
        for picker in (self._t_date, self._p_date, self._r_date, self._a_date):
            picker.value = self.model.day

    def _on_village_filter(self, _change=None):
        if not self._g_away.value:  # a new registration most likely belongs to the village being looked at
            self._g_village.value = self.model.village

    def _on_away(self, _change=None):
        from_away = bool(self._g_away.value)
        for widget in (self._g_name, self._g_id, self._g_phone, self._g_village, self._g_grid):
            widget.disabled = from_away  # cosmetic: the model ignores them for a person away

    def _on_prereg_village(self, _change=None):
        options = [("", "")] + self.model.grids_of(self._g_village.value or "")
        self._g_grid.options = options

    def _on_test(self, _b=None):
        self.model.record_test({"sample_date": self._t_date.value, "result": self._t_result.value,
                                "method": self._t_method.value, "sampler": self._t_sampler.value})

    def _on_temp(self, _b=None):
        if self.model.record_temperature({"date": self._p_date.value, "slot": self._p_slot.value,
                                          "temperature": self._p_value.value, "symptoms": self._p_symptoms.value}):
            self._p_value.value = ""
            self._p_symptoms.value = ""

    def _on_release(self, _b=None):
        self.model.record_release({"released_date": self._r_date.value})

    def _on_arrival(self, _b=None):
        self.model.record_arrival({"actual_arrival": self._a_date.value,
                                   "landing_test_result": self._a_result.value, "health_code": self._a_code.value})

    def _on_prereg(self, _b=None):
        raw = {"risk_category": self._g_category.value, "origin": self._g_origin.value,
               "left_risk_date": self._g_left.value, "expected_arrival": self._g_expected.value,
               "actual_arrival": self._g_actual.value, "transport": self._g_transport.value,
               "vehicle_no": self._g_vehicle.value, "report_channel": self._g_channel.value,
               "test48_result": self._g_test48.value, "health_code": self._g_code.value, "note": self._g_note.value}
        if not self._g_away.value:
            raw.update(name=self._g_name.value, id_number=self._g_id.value, phone=self._g_phone.value,
                       village=self._g_village.value, grid=self._g_grid.value)
        if self.model.record_preregistration(raw, away_id=self._g_away.value or ""):
            for widget in (self._g_name, self._g_id, self._g_phone, self._g_origin, self._g_vehicle, self._g_note):
                widget.value = ""
            self._g_away.value = ""

    # -- Rendering ------------------------------------------------------------------

    def _on_person(self, change):
        if self._syncing:
            return
        try:
            self.model.selected = change["new"] or ""
        except t.TraitError as exc:
            self.model.status, self.model.error = f"出错：{exc}", True

    _syncing = False

    def _render(self, _change=None):
        m = self.model
        self._kpis.value = kpi_cards_html(m.kpis, KPI_LABELS)
        self._map.value = m.map_html
        self._alerts.value = m.alerts_html
        self._table.value = m.table_html
        self._detail.value = m.detail_html
        self._status.value = status_html(m.status, m.error)

    def _sync_choices(self, _change=None):
        m = self.model
        self._syncing = True
        try:
            grid_options = list(m.grid_options)
            if list(self._grid.options) != grid_options:
                self._grid.options = grid_options
                self._grid.value = m.grid
            options = [("—— 请选择人员（按筛选结果，最多 300 人）——", "")] + list(m.person_options)
            if list(self._person.options) != options:
                self._person.options = options
            if self._person.value != m.selected:
                self._person.value = m.selected
            away = [("（新登记：不在在外人员台账中）", "")] + m.away_options()
            if list(self._g_away.options) != away:
                current = self._g_away.value
                self._g_away.options = away
                self._g_away.value = current if current in {v for _, v in away} else ""
        finally:
            self._syncing = False

    def _render_messages(self, _change=None):
        m = self.model
        for key, box in self._msg.items():
            text, error = m.messages.get(key, ("", False))
            box.value = _form_message_html(text, error)
