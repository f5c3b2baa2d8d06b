"""The one-fist page's model (党员志愿者), no widgets.

Set the filter traits (``village``, ``category``, ``post``, ``state``,
``query``, ``day``) and read ``kpis``, ``map_html``, ``table_html``,
``households_html``, ``shifts_html``, ``postings_html`` and ``status``. The
forms call :meth:`VolunteersModel.save_volunteer`, :meth:`~VolunteersModel.assign`,
:meth:`~VolunteersModel.assign_shift`, :meth:`~VolunteersModel.end_posting`
and :meth:`~VolunteersModel.log_hours`; every one is validated and audited
by its action (:mod:`fangkong_lib.actions.volunteers`).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import traitlets as t

from ...actions import assign_volunteer, assign_volunteer_shift, end_assignment, log_hours, save_volunteer
from ...domain.duty import shifts_for
from ...domain.volunteers import (
    ASSIGNMENT_STATES, CATEGORIES, GRID, HOUSEHOLD, active_assignments, checkpoint_shifts, filter_roster,
    grid_volunteers, household_cover, kpi_labels, summarize_volunteers, volunteer_roster,
)
from ...ingest.normalize import mask_frame, mask_id
from ...ledgers import ASSIGNMENT_KINDS, VOLUNTEER_POSTS, get_ledger
from ...policy.volunteers import load_volunteer_policy
from ...views.maps import map_iframe, render_map
from ...views.tables import frame_html
from ...views.volunteer_maps import make_volunteers_map
from .base import ALL, PageModel

__all__ = ["GRID", "HOUSEHOLD", "KPI_LABELS", "POSTING_KINDS", "SHIFT", "VolunteersModel", "gap_list_html",
           "households_html", "shifts_html"]

KPI_LABELS = kpi_labels()
#: What the 派驻 form can post a volunteer to: the postings ledger's kinds
#: and a checkpoint shift (a row of the duty roster).
SHIFT = "卡口班次"
POSTING_KINDS = (*ASSIGNMENT_KINDS, SHIFT)

ROSTER_COLUMNS = {
    "volunteer_no": "编号", "name": "姓名", "team": "队伍", "identity": "身份", "village": "村", "post": "岗位",
    "phone": "联系电话", "hours": "服务时长(小时)", "state": "派驻状态", "grids": "派驻网格",
    "households": "服务隔离户", "shifts": "卡口班次",
}
POSTING_COLUMNS = {
    "assign_no": "派驻编号", "volunteer_no": "志愿者编号", "name": "姓名", "kind": "派驻类型", "role": "岗位",
    "village": "村", "grid": "网格", "household": "隔离人员", "start_date": "开始日期", "end_date": "结束日期",
}
SHIFT_COLUMNS = {"post": "卡口", "shift": "班次", "required": "应到", "assigned": "已排", "roles": "值班人员",
                 "volunteers": "志愿者", "reason": "缺员情况"}


def households_html(homes: pd.DataFrame, roles) -> str:
    """Households in home isolation with the volunteer in each required post
    and what is missing (masked)."""
    labels = {"name": "隔离人员", "village": "村", "grid": "网格", "reason": "缺岗", **{r: r for r in roles},
              "house_no": "门牌", "id_number": "身份证号", "current_measure": "当前措施", "end_date": "应解除日期"}
    shown = mask_frame(homes, get_ledger("controls"))[[c for c in labels if c in homes.columns]]
    return frame_html(shown.rename(columns=labels), css_class="fk-table fk-households", empty="没有居家隔离户")


def shifts_html(shifts: pd.DataFrame) -> str:
    """Checkpoint shifts with their people, volunteers and gap."""
    shown = shifts[list(SHIFT_COLUMNS)].rename(columns=SHIFT_COLUMNS)
    return frame_html(shown, css_class="fk-table fk-checkpoint-shifts", empty="没有卡口班次")


def gap_list_html(key: str, rows: pd.DataFrame) -> str:
    """The rows behind one of the overview's volunteer figures
    (:func:`fangkong_lib.domain.volunteers.volunteer_gap_figures`)."""
    if key == "checkpoint_short_shifts":
        return shifts_html(rows)
    return households_html(rows, load_volunteer_policy().household_roles)


class VolunteersModel(PageModel):
    """State of the volunteers page: filters in, figures out."""

    filters = ("village", "category", "post", "state", "query", "day")
    kpi_lists = tuple(KPI_LABELS)

    category = t.Unicode(ALL)
    post = t.Unicode(ALL)
    state = t.Unicode(ALL)
    query = t.Unicode("")
    day = t.Instance(date)

    count = t.Int(0)
    table_html = t.Unicode("")
    households_html = t.Unicode("")
    shifts_html = t.Unicode("")
    postings_html = t.Unicode("")
    volunteer_options = t.List()  # (label, 编号) of the filtered roster
    household_options = t.List()  # (label, ID) of the households in home isolation
    posting_options = t.List()  # (label, 派驻编号) of the postings in force

    def __init__(self, data, **kwargs):
        self.policy = load_volunteer_policy()
        self.rows = self.households = self.shifts = self.postings = pd.DataFrame()
        kwargs.setdefault("day", data.today)
        super().__init__(data, **kwargs)

    # -- Options ------------------------------------------------------------

    @property
    def category_options(self):
        return [("全部类别", ALL)] + [(c, c) for c in CATEGORIES]

    @property
    def post_options(self):
        return [("全部岗位", ALL)] + [(p, p) for p in VOLUNTEER_POSTS]

    @property
    def state_options(self):
        return [("全部", ALL)] + [(s, s) for s in ASSIGNMENT_STATES]

    @property
    def grid_options(self):
        grids = self.data.ledgers["grids"]
        if self.village:
            grids = grids[grids["village"] == self.village]
        return [(f"{c}（{v}{n}）", c) for c, v, n in zip(grids["code"], grids["village"], grids["natural_village"])]

    @property
    def checkpoint_options(self):
        posts = self.data.ledgers["duty_posts"]
        return posts[posts["kind"] == self.policy.checkpoint_kind]["name"].tolist()

    @property
    def shift_names(self):
        return [s.name for s in shifts_for(self.policy.checkpoint_kind)]

    @t.validate("category")
    def _check_category(self, proposal):
        return self.one_of(proposal["value"], CATEGORIES, "类别")

    @t.validate("post")
    def _check_post(self, proposal):
        return self.one_of(proposal["value"], VOLUNTEER_POSTS, "岗位")

    @t.validate("state")
    def _check_state(self, proposal):
        return self.one_of(proposal["value"], ASSIGNMENT_STATES, "派驻状态")

    # -- Figures --------------------------------------------------------------

    def compute(self) -> str:
        if self.day is None:
            raise ValueError("请选择日期")
        led = self.data.ledgers
        roster = volunteer_roster(led["volunteers"], led["volunteer_assignments"], led["duty_shifts"], self.day,
                                  self.policy)
        self.rows = rows = filter_roster(roster, village=self.village or None, category=self.category or None,
                                         post=self.post or None, state=self.state or None, query=self.query or None)
        controls = led["controls"]
        if self.village:
            controls = controls[controls["village"] == self.village]
        self.households = household_cover(controls, led["volunteer_assignments"], self.day, self.policy)
        self.shifts = checkpoint_shifts(led["duty_posts"], led["duty_shifts"], self.day, self.policy)
        postings = active_assignments(led["volunteer_assignments"], self.day)
        self.postings = postings[postings["volunteer_no"].isin(rows["volunteer_no"])]
        self.count = len(rows)
        self.kpis = summarize_volunteers(rows, self.households, self.shifts)
        self.table_html = self._roster_html(rows)
        self.households_html = self._households_html(self.households)
        self.shifts_html = self._shifts_html(self.shifts)
        self.postings_html = self._postings_html(self.postings)
        self.map_html = self._map()
        self.volunteer_options = [(f"{n}（{no}，{v}，{p or '未定岗'}）", no) for n, no, v, p in
                                  zip(rows["name"], rows["volunteer_no"], rows["village"], rows["post"].fillna(""))]
        self.household_options = [
            (f"{n}（{v} {g}，{mask_id(i)}）" + (f" {r}" if r else ""), i) for n, v, g, i, r in
            zip(self.households["name"], self.households["village"], self.households["grid"],
                self.households["id_number"], self.households["reason"])]
        self.posting_options = [(f"{no} {n} {k} {r} {g or ''}{('·' + h) if isinstance(h, str) and h else ''}", no)
                                for no, n, k, r, g, h in zip(self.postings["assign_no"], self.postings["name"],
                                                             self.postings["kind"], self.postings["role"],
                                                             self.postings["grid"], self.postings["household"])]
        missing = self.kpis["households_missing"]
        return (f"已更新：{self._scope()} · {len(rows)} 名志愿者 · {self.day.isoformat()}"
                + (f" · {missing} 户居家隔离户缺岗" if missing else ""))

    def _scope(self) -> str:
        parts = [self.shown_area, self.category, self.post, self.state, self.query and f"“{self.query}”"]
        return " · ".join(p for p in parts if p)

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in self.kpi_lists:
            return None
        rows, label = self.rows, KPI_LABELS[key]
        if key in ("households", "households_missing"):
            homes = self.households
            return label, self._households_html(homes if key == "households" else homes[homes["missing"] != ""])
        if key == "short_shifts":
            return label, self._shifts_html(self.shifts[self.shifts["missing"] > 0])
        chosen = {
            "assault": rows[rows["team"] == "党员干部突击队"],
            "service": rows[rows["team"] == "基层党员服务队"],
            "probationary": rows[(rows["team"] == "基层党员服务队") & (rows["identity"] == "预备党员")],
            "activists": rows[(rows["team"] == "基层党员服务队") & (rows["identity"] == "入党积极分子")],
            "hours": rows.sort_values("hours", ascending=False),
            "unassigned": rows[rows["state"] == ASSIGNMENT_STATES[1]],
        }[key]
        return label, self._roster_html(chosen)

    def _roster_html(self, rows: pd.DataFrame) -> str:
        shown = mask_frame(rows, get_ledger("volunteers"))[list(ROSTER_COLUMNS)].rename(columns=ROSTER_COLUMNS)
        return frame_html(shown, css_class="fk-table fk-volunteers", max_rows=500, empty="没有符合条件的志愿者")

    def _households_html(self, homes: pd.DataFrame) -> str:
        return households_html(homes, self.policy.household_roles)

    def _shifts_html(self, shifts: pd.DataFrame) -> str:
        return shifts_html(shifts)

    def _postings_html(self, postings: pd.DataFrame) -> str:
        shown = mask_frame(postings, get_ledger("volunteer_assignments"))[list(POSTING_COLUMNS)]
        return frame_html(shown.rename(columns=POSTING_COLUMNS), css_class="fk-table fk-postings", max_rows=300,
                          empty="没有在岗的派驻")

    def _map(self) -> str:
        posted = grid_volunteers(self.data.ledgers["grids"], self.postings, self.day)
        gaps = self.households[self.households["missing"] != ""]
        flags = gaps.groupby("grid").apply(
            lambda g: "；".join(f"{n}家{r}" for n, r in zip(g["name"], g["reason"])), include_groups=False) \
            if len(gaps) else pd.Series(dtype=object)
        posts = self.data.ledgers["duty_posts"]
        posts = posts[posts["kind"] == self.policy.checkpoint_kind]
        short = self.shifts[self.shifts["missing"] > 0].groupby("post")["reason"].agg(
            lambda r: "；".join(r)) if len(self.shifts) else pd.Series(dtype=object)
        points = posts.assign(short=posts["name"].isin(short.index),
                              tip=[f"{n}：{short.get(n, '当日班次齐全')}" for n in posts["name"]])
        key = (tuple(posted["count"]), tuple(flags.items()), tuple(points["tip"]), self.village, self._scope(),
               self.day)
        return self.cached_map(key, lambda: map_iframe(render_map(make_volunteers_map(
            self.data.grids, self.data.villages, posted, flags, points, township=self.data.township,
            day=self.day, scope=self._scope(), village=self.village or None, note=self.data.source_note)),
            height=520, title=f"{self.data.township}党员志愿者派驻"))

    def roster_rows(self) -> pd.DataFrame:
        """The volunteers ledger's rows as filtered (the rows export)."""
        vols = self.data.ledgers["volunteers"]
        return vols[vols["volunteer_no"].isin(self.rows["volunteer_no"])] if len(self.rows) else vols.iloc[0:0]

    # -- Forms --------------------------------------------------------------------

    def volunteer(self, number: str) -> dict:
        vols = self.data.ledgers["volunteers"]
        match = vols[vols["volunteer_no"] == number]
        if match.empty:
            raise ValueError(f"没有编号为 {number} 的志愿者")
        return match.iloc[0].to_dict()

    def save_volunteer(self, fields: dict) -> bool:
        """Add a volunteer (blank 编号) or edit one."""
        return self.run(lambda: save_volunteer(self.data, fields, user=self.operator, today=self.data.today),
                        reload=("volunteers",))

    def assign(self, volunteer_no: str, kind: str, target: str, role: str, *, start=None, end=None,
               shift: str = "") -> bool:
        """Post a volunteer: to a grid (``target`` a grid code), a household
        (``target`` the ID number of the person in home isolation) or a
        checkpoint shift (``target`` the checkpoint, ``shift`` its shift,
        ``start`` the day)."""
        def act():
            if kind not in POSTING_KINDS:
                raise ValueError(f"未知的派驻类型：{kind}")
            if kind == SHIFT:
                return assign_volunteer_shift(self.data, volunteer_no, start or self.day, target, shift,
                                              user=self.operator, today=self.data.today)
            raw = {"volunteer_no": volunteer_no, "kind": kind, "role": role, "start_date": start or self.day,
                   "end_date": end, "grid" if kind == GRID else "household_id": target}
            return assign_volunteer(self.data, raw, user=self.operator, today=self.data.today)
        reload = ("duty_shifts",) if kind == SHIFT else ("volunteer_assignments", "controls")
        return self.run(act, reload=reload)

    def end_posting(self, assign_no: str, end=None) -> bool:
        return self.run(lambda: end_assignment(self.data, assign_no, end or self.day, user=self.operator),
                        reload=("volunteer_assignments",))

    def log_hours(self, volunteer_no: str, hours, *, day=None, note: str = "") -> bool:
        return self.run(lambda: log_hours(self.data, volunteer_no, hours, user=self.operator, day=day or self.day,
                                          note=note), reload=("volunteers",))
