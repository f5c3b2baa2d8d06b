"""Returnee control (返乡人员管控, gates 1-3): the view of :class:`ReturneeModel`.

The model lives in :mod:`fangkong_lib.ui.models.returnees` (no widgets). The
view is a :class:`~fangkong_lib.ui.base.PageView`: operator, filters, KPI
cards (each opens its action list), map, lists to act on, the people table,
one person's detail and the forms.
"""

from __future__ import annotations

import ipywidgets as w
import traitlets as t

from ..domain.returnees import KPI_LABELS
from ..ledgers import HEALTH_CODES, RISK_CATEGORIES, TEST_RESULTS, get_ledger
from ..views.html import html, join_html
from .base import PageView, safe_html
from .forms import form_box, labelled, row, section
from .models.returnees import DEMO_CLOCK, FORMS, MAX_PERSON_OPTIONS, READ_ONLY_ENV, ReturneeModel

__all__ = ["DEMO_CLOCK", "FORMS", "MAX_PERSON_OPTIONS", "READ_ONLY_ENV", "ReturneeModel", "ReturneePage"]

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
    """A form's own message: what was saved, or each problem on its line."""
    if not text:
        return ""
    if error:
        items = join_html(html("<li>{line}</li>", line=line) for line in text.split("\n") if line)
        return str(html('<div class="err"><b>未保存：</b><ul>{items}</ul></div>', items=items))
    return str(html('<div class="ok">{text}</div>', text=text))



def _date_picker(description: str, css: str, width: str = "210px") -> w.DatePicker:
    return labelled(w.DatePicker(description=description), css, width)


def _dropdown(options, description: str, css: str, width: str = "210px") -> w.Dropdown:
    return labelled(w.Dropdown(options=options, description=description), css, width)


def _text(description: str, css: str, width: str = "210px", placeholder: str = "") -> w.Text:
    return labelled(w.Text(description=description, placeholder=placeholder), css, width)


class ReturneePage(PageView):
    """The returnee dashboard: operator, filters, KPIs, map, lists to act on,
    the people table, one person's detail and the forms, status line."""

    title = "返乡人员管控"
    model_class = ReturneeModel
    kpi_labels = KPI_LABELS
    extra_css = CSS
    _syncing = False

    def __init__(self, model: ReturneeModel | None = None, *, db=None, read_only: bool | None = None, **kwargs):
        self._read_only = read_only
        super().__init__(model, db=db, **kwargs)
        self.add_class("fk-returnee-page")

    @property
    def operator_note(self) -> str:
        return "保存表单前请填写操作人" + ("（本页面为只读模式）" if self.model.read_only else "")

    def make_model(self, data):
        return ReturneeModel(data, read_only=self._read_only)

    def build(self) -> None:
        m = self.model
        self._village = self.bind(_dropdown(m.village_options, "村", "fk-filter-village", "190px"), "village")
        self._grid = self.bind(_dropdown(m.grid_options, "网格", "fk-filter-grid", "230px"), "grid")
        self._category = self.bind(_dropdown(m.category_options, "风险类别", "fk-filter-category", "250px"),
                                   "category")
        self._measure = self.bind(_dropdown(m.measure_options, "管控措施", "fk-filter-measure", "230px"), "measure")
        self._pstatus = self.bind(_dropdown(m.status_options, "状态", "fk-filter-status", "170px"), "person_status")
        self._from = self.bind(_date_picker("到达/预计 自", "fk-filter-from", "250px"), "date_from")
        self._to = self.bind(_date_picker("至", "fk-filter-to", "190px"), "date_to")
        self._overdue = self.bind(labelled(w.Checkbox(description="只看逾期", indent=False), "fk-filter-overdue",
                                           "100px"), "only_overdue")
        self._day = self.bind(_date_picker("日期", "fk-filter-day", "200px"), "day")
        self._clock = self.bind(labelled(w.Text(description="时刻", placeholder="现在", continuous_update=False),
                                         "fk-filter-clock", "130px"), "clock")
        self._map = self.map_frame()
        self._alerts = self.html_view("alerts_html", "fk-alerts")
        self._table = self.html_view("table_html", "fk-returnee-table")
        self._detail = self.html_view("detail_html", "fk-person-detail")
        self._person = _dropdown([], "人员", "fk-person-select", "640px")
        self._person.observe(self._on_person, names="value")
        self._forms = self._build_forms()
        m.observe(self._sync_choices, names=["person_options", "grid_options", "selected"])
        m.observe(self._render_messages, names="messages")
        m.observe(self._on_day, names="day")
        m.observe(self._on_village_filter, names="village")
        self._sync_choices()
        self._render_messages()
        self._on_day()

    def filter_bar(self):
        return [w.VBox([
            row(self._village, self._grid, self._category, self._measure, self._pstatus),
            row(self._from, self._to, self._overdue, self._day, self._clock),
        ])]

    def export_bar(self):
        m = self.model

        def rows():
            returnees = m.data.ledgers["returnees"]
            shown = m.summary.people["id_number"] if m.summary is not None else []
            return "returnees", returnees[returnees["id_number"].isin(shown)]

        return [self.rows_export(rows, lambda: f"返乡人员{'-' + m.village if m.village else ''}"),
                self.map_export(lambda: f"返乡人员分布图_{m.day.isoformat()}")]

    def body(self):
        return [
            w.HBox([
                w.VBox([self._map], layout=w.Layout(width="56%")),
                w.VBox([safe_html("<h3 class='fk-h'>{t}</h3>", t="待办与预警"), self._alerts],
                       layout=w.Layout(width="44%", padding="0 0 0 12px")),
            ]),
            section("人员名单（身份证号、手机号已脱敏）"),
            self._table,
        ]

    def forms(self):
        return [
            section("人员详情与录入"),
            self._person,
            w.HBox([
                w.VBox([self._detail], layout=w.Layout(width="50%")),
                w.VBox(self._forms, layout=w.Layout(width="50%", padding="0 0 0 12px")),
            ]),
            section("返乡报备（新登记，或从在外人员中选择）"),
            self._prereg_box,
        ]

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
            self.say(f"出错：{exc}", True)

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
