"""One fist (党员志愿者): the view of :class:`VolunteersModel`.

Filters, KPI cards (each opens the rows it counts), the map of postings and
gaps, the roster, the households in home isolation with their 代购员 and
守门员, the day's checkpoint shifts, the postings in force, and the forms:
add or edit a volunteer, post one (grid, household, checkpoint shift), end a
posting, log hours. The model lives in :mod:`fangkong_lib.ui.models.volunteers`.
"""

from __future__ import annotations

import ipywidgets as w

from ..ledgers import VOLUNTEER_IDENTITIES, VOLUNTEER_POSTS, VOLUNTEER_TEAMS
from .base import PageView
from .forms import form_box, labelled, row, section
from .models.volunteers import GRID, HOUSEHOLD, KPI_LABELS, POSTING_KINDS, SHIFT, VolunteersModel

__all__ = ["VolunteersModel", "VolunteersPage"]

CSS = """
<style>
.fk-volunteers td,.fk-households td,.fk-checkpoint-shifts td,.fk-postings td{text-align:left}
.fk-households td:nth-child(4),.fk-checkpoint-shifts td:last-child{color:#b8322a;font-weight:bold}
</style>
"""


class VolunteersPage(PageView):
    """The volunteers dashboard: filters, KPIs, map, tables, forms, status line."""

    title = "党员志愿者"
    model_class = VolunteersModel
    kpi_labels = KPI_LABELS
    operator_note = "保存表单前请填写操作人"
    extra_css = CSS

    def build(self) -> None:
        m = self.model
        self._village = self.bind(labelled(w.Dropdown(options=m.village_options, description="村"),
                                           "fk-filter-village", "200px"), "village")
        self._category = self.bind(labelled(w.Dropdown(options=m.category_options, description="类别"),
                                            "fk-filter-category", "220px"), "category")
        self._post = self.bind(labelled(w.Dropdown(options=m.post_options, description="岗位"),
                                        "fk-filter-post", "180px"), "post")
        self._state = self.bind(labelled(w.Dropdown(options=m.state_options, description="派驻状态"),
                                         "fk-filter-state", "200px"), "state")
        self._query = self.bind(labelled(w.Text(description="查找", placeholder="姓名、编号、网格",
                                                continuous_update=False), "fk-filter-query", "240px"), "query")
        self._day = self.bind(labelled(w.DatePicker(description="日期"), "fk-filter-day", "220px"), "day")
        self._map = self.map_frame()
        self._table = self.html_view("table_html", "fk-volunteer-table")
        self._households = self.html_view("households_html", "fk-household-table")
        self._shifts = self.html_view("shifts_html", "fk-shift-table")
        self._postings = self.html_view("postings_html", "fk-posting-table")
        self._volunteer_form = self._build_volunteer_form()
        self._assign_form = self._build_assign_form()
        self._hours_form = self._build_hours_form()
        m.observe(self._sync_choices, names=["volunteer_options", "household_options", "posting_options"])
        m.observe(self._sync_targets, names=["village"])
        self._sync_choices()

    def filter_bar(self):
        return [row(self._village, self._category, self._post, self._state, self._query, self._day)]

    def export_bar(self):
        m = self.model
        scope = lambda: f"{'-' + m.village if m.village else ''}-{m.day.isoformat()}"  # noqa: E731
        return [self.rows_export(lambda: ("volunteers", m.roster_rows()), lambda: f"志愿者名册{scope()}"),
                self.rows_export(lambda: ("volunteer_assignments", m.postings), lambda: f"志愿者派驻{scope()}"),
                self.map_export(lambda: f"党员志愿者派驻图{scope()}")]

    def body(self):
        return [
            w.HBox([
                w.VBox([self._map], layout=w.Layout(width="55%")),
                w.VBox([section("居家隔离户（每户须有代购员、守门员）"), self._households,
                        section("今日卡口班次（值班排班）"), self._shifts],
                       layout=w.Layout(width="45%", padding="0 0 0 12px")),
            ]),
            section("志愿者名册"), self._table,
            section("在岗派驻"), self._postings,
        ]

    def forms(self):
        return [section("登记与派驻"), self._assign_form,
                w.HBox([self._volunteer_form, self._hours_form], layout=w.Layout(align_items="flex-start"))
                .add_class("fk-gap")]

    # -- Forms ------------------------------------------------------------------------------

    def _build_assign_form(self) -> w.VBox:
        self._a_who = labelled(w.Dropdown(description="志愿者"), "fk-assign-volunteer", "420px")
        self._a_kind = labelled(w.Dropdown(options=list(POSTING_KINDS), value=HOUSEHOLD, description="派驻到"),
                                "fk-assign-kind", "200px")
        self._a_role = labelled(w.Dropdown(options=list(VOLUNTEER_POSTS), description="岗位"), "fk-assign-role",
                                "170px")
        self._a_household = labelled(w.Dropdown(description="隔离户"), "fk-assign-household", "480px")
        self._a_grid = labelled(w.Dropdown(description="网格"), "fk-assign-grid", "320px")
        self._a_post = labelled(w.Dropdown(options=self.model.checkpoint_options, description="卡口"),
                                "fk-assign-post", "260px")
        self._a_shift = labelled(w.Dropdown(options=self.model.shift_names, description="班次"), "fk-assign-shift",
                                 "160px")
        self._a_start = labelled(w.DatePicker(description="开始/值班日期", value=self.model.day), "fk-assign-start",
                                 "250px")
        self._a_end = labelled(w.DatePicker(description="结束日期"), "fk-assign-end", "230px")
        self._a_save = w.Button(description="派驻", button_style="danger", icon="user-plus").add_class(
            "fk-assign-save")
        self._a_save.on_click(self._on_assign)
        self._a_kind.observe(self._on_kind, names="value")
        self._e_posting = labelled(w.Dropdown(description="在岗派驻"), "fk-end-posting", "460px")
        self._e_day = labelled(w.DatePicker(description="结束日期", value=self.model.day), "fk-end-date", "230px")
        self._e_save = w.Button(description="结束派驻", icon="stop").add_class("fk-end-save")
        self._e_save.on_click(self._on_end)
        self._sync_targets()
        self._on_kind()
        return form_box("派驻志愿者（网格、居家隔离户、卡口班次）", [
            row(self._a_who, self._a_kind, self._a_role),
            row(self._a_household, self._a_grid, self._a_post, self._a_shift),
            row(self._a_start, self._a_end, self._a_save),
            row(self._e_posting, self._e_day, self._e_save),
        ], "fk-assign-form")

    def _build_volunteer_form(self) -> w.VBox:
        self._v = v = {
            "volunteer_no": labelled(w.Text(description="编号", placeholder="留空自动编号"), "fk-vol-no", "200px"),
            "name": labelled(w.Text(description="姓名"), "fk-vol-name", "180px"),
            "phone": labelled(w.Text(description="联系电话"), "fk-vol-phone", "220px"),
            "team": labelled(w.Dropdown(options=list(VOLUNTEER_TEAMS), value="基层党员服务队", description="队伍"),
                             "fk-vol-team", "240px"),
            "identity": labelled(w.Dropdown(options=list(VOLUNTEER_IDENTITIES), value="老党员", description="身份"),
                                 "fk-vol-identity", "200px"),
            "village": labelled(w.Dropdown(options=self.model.data.village_names, description="村"), "fk-vol-village",
                                "180px"),
            "post": labelled(w.Dropdown(options=list(VOLUNTEER_POSTS), description="岗位"), "fk-vol-post", "170px"),
            "households": labelled(w.Text(description="联系户"), "fk-vol-households", "220px"),
        }
        self._v_load = w.Button(description="载入所选志愿者", icon="pencil").add_class("fk-vol-load")
        self._v_load.on_click(self._on_load)
        self._v_save = w.Button(description="保存志愿者", button_style="success", icon="save").add_class("fk-vol-save")
        self._v_save.on_click(self._on_save_volunteer)
        return form_box("新增或修改志愿者（编号相同即修改）", [
            row(v["volunteer_no"], v["name"], v["phone"]), row(v["team"], v["identity"], v["village"]),
            row(v["post"], v["households"]), row(self._v_load, self._v_save)], "fk-volunteer-form")

    def _build_hours_form(self) -> w.VBox:
        self._h_hours = labelled(w.FloatText(description="服务时长(小时)", value=0), "fk-hours-value", "220px")
        self._h_day = labelled(w.DatePicker(description="服务日期", value=self.model.day), "fk-hours-date", "230px")
        self._h_note = labelled(w.Text(description="服务内容"), "fk-hours-note", "260px")
        self._h_save = w.Button(description="登记时长", icon="clock-o").add_class("fk-hours-save")
        self._h_save.on_click(self._on_hours)
        return form_box("登记服务时长（所选志愿者）", [row(self._h_hours, self._h_day), row(self._h_note, self._h_save)],
                        "fk-hours-form")

    # -- Keeping the choices in step ------------------------------------------------------------

    @staticmethod
    def _refill(dropdown: w.Dropdown, options) -> None:
        options = list(options)
        if list(dropdown.options) == options:
            return
        current = dropdown.value
        values = [v for _, v in options]
        dropdown.options = options
        dropdown.value = current if current in values else (values[0] if values else None)

    def _sync_choices(self, _change=None):
        m = self.model
        self._refill(self._a_who, m.volunteer_options)
        self._refill(self._a_household, m.household_options)
        self._refill(self._e_posting, m.posting_options)

    def _sync_targets(self, _change=None):
        self._refill(self._a_grid, self.model.grid_options)

    def _on_kind(self, _change=None):
        kind = self._a_kind.value
        for widget, shown in ((self._a_household, kind == HOUSEHOLD), (self._a_grid, kind == GRID),
                              (self._a_post, kind == SHIFT), (self._a_shift, kind == SHIFT),
                              (self._a_end, kind != SHIFT), (self._a_role, kind != SHIFT)):
            widget.layout.display = "" if shown else "none"

    # -- Actions ----------------------------------------------------------------------------------

    def _on_assign(self, _b=None):
        kind = self._a_kind.value
        if not self._a_who.value:
            self.say("操作未完成：请先选择志愿者", True)
            return
        target = {HOUSEHOLD: self._a_household.value, GRID: self._a_grid.value, SHIFT: self._a_post.value}[kind]
        if not target:
            self.say(f"操作未完成：请选择{'隔离户' if kind == HOUSEHOLD else ('网格' if kind == GRID else '卡口')}", True)
            return
        self.model.assign(self._a_who.value, kind, target, self._a_role.value, start=self._a_start.value,
                          end=self._a_end.value, shift=self._a_shift.value or "")

    def _on_end(self, _b=None):
        if not self._e_posting.value:
            self.say("操作未完成：请选择要结束的派驻", True)
            return
        self.model.end_posting(self._e_posting.value, self._e_day.value)

    def _on_load(self, _b=None):
        try:
            if not self._a_who.value:
                raise ValueError("请先在派驻表单中选择志愿者")
            found = self.model.volunteer(self._a_who.value)
        except Exception as exc:  # shown: Voilà hides tracebacks
            self.say(f"操作未完成：{exc}", True)
            return
        for key, widget in self._v.items():
            value = found.get(key)
            if isinstance(widget, w.Dropdown):
                if value in widget.options:
                    widget.value = value
            else:
                widget.value = "" if value is None or value != value else str(value)

    def _on_save_volunteer(self, _b=None):
        fields = {k: widget.value for k, widget in self._v.items()}
        number = fields["volunteer_no"].strip()
        if number:  # an edit keeps the hours served
            try:
                fields["hours"] = self.model.volunteer(number).get("hours")
            except ValueError:
                pass
        if self.model.save_volunteer(fields) and not number:
            for key in ("name", "phone", "households"):
                self._v[key].value = ""

    def _on_hours(self, _b=None):
        if not self._a_who.value:
            self.say("操作未完成：请先在派驻表单中选择志愿者", True)
            return
        if self.model.log_hours(self._a_who.value, self._h_hours.value, day=self._h_day.value,
                                note=self._h_note.value):
            self._h_hours.value, self._h_note.value = 0, ""
