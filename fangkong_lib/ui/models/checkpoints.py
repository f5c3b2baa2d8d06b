"""The checkpoint page's model (卡口值守, gate 6), no widgets.

Set the filter traits (``day``, ``hour``, ``checkpoint``, ``shift``,
``outcome``) and read ``kpis``, ``map_html``, the tables' HTML and
``status``. :meth:`CheckpointsModel.assign` puts a person on a shift,
:meth:`CheckpointsModel.unassign` takes them off, :meth:`CheckpointsModel.record_log`
saves a checkpoint log row.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import traitlets as t

from ...actions import assign_duty, save_record, unassign_duty
from ...domain.checkpoints import (
    CHECKPOINT_KIND, WATCH_LABELS, watch_figures, OUTCOMES, checkpoint_posts, checkpoint_roster, duty_now, filter_logs, flows_by_checkpoint,
    logs_by_hour,
)
from ...domain.duty import ROSTER_LABELS, on_duty, roster_summary, shifts_for
from ...domain.leads import OPEN_STATUSES, OVERDUE, data_now, lead_status
from ...domain.sentinels import with_lead_status
from ...ingest.normalize import mask_frame
from ...ledgers import DUTY_ROLES, get_ledger
from ...views.html import html
from ...views.maps import map_iframe, render_map
from ...views.sentinel_maps import make_checkpoints_map
from ...views.tables import frame_html
from .base import ALL, PageModel

KPI_LABELS = {
    "checkpoints": "卡口", "on_duty": "当前在岗", "short_now": "当前缺员卡口", "gaps": "当日缺员班次",
    "checked": "当日查验", "unregistered": "未报备", "turned_back": "劝返", "isolated": "隔离/转运",
    "leads_open": "线索未办结", "leads_overdue": "线索逾期",
}
LEAD_COLUMNS = {
    "time": "检查时间", "checkpoint": "卡点", "name": "姓名", "id_number": "身份证号", "phone": "手机号",
    "origin": "出发地", "destination": "目的地(村)", "outcome": "处置结果", "lead_no": "线索编号",
    "lead_status": "核查状态", "deadline": "截止时间", "lead_outcome": "核查结果",
}
LOG_COLUMNS = {
    "time": "检查时间", "checkpoint": "卡点", "shift": "班次", "name": "姓名", "id_number": "身份证号",
    "phone": "手机号", "plate": "车牌号", "origin": "出发地", "destination": "目的地(村)", "temperature": "体温",
    "health_code": "健康码", "pre_registered": "已报备", "sampled": "现场采样", "outcome": "处置结果",
    "inspector": "检查人",
}
ROSTER_SHOWN = ("post", "shift", "start", "end", "required", "assigned", "roles", "reason")
FLOW_LABELS = {"checked": "查验人数", "unregistered": "未报备", "sampled": "现场采样"}
#: Log fields the form offers (the rest of the ledger stays empty).
LOG_FORM_FIELDS = ("time", "checkpoint", "name", "id_number", "phone", "plate", "transport", "passengers", "origin",
                   "destination", "temperature", "health_code", "trip_star", "test48", "pre_registered", "sampled",
                   "outcome", "inspector")


def _yes(value) -> str:
    return "" if value is None or value is pd.NA or value != value else ("是" if bool(value) else "否")


class CheckpointsModel(PageModel):
    """State of the checkpoint page: filters in, figures out."""

    filters = ("day", "hour", "checkpoint", "shift", "outcome")
    kpi_lists = tuple(KPI_LABELS)

    day = t.Instance(date)
    hour = t.Int(0, min=0, max=23)
    checkpoint = t.Unicode(ALL)
    shift = t.Unicode(ALL)
    outcome = t.Unicode(ALL)

    now_html = t.Unicode("")
    roster_html = t.Unicode("")
    hours_html = t.Unicode("")
    flows_html = t.Unicode("")
    logs_html = t.Unicode("")
    leads_html = t.Unicode("")
    checkpoint_names = t.List()
    shift_names = t.List()

    def __init__(self, data, **kwargs):
        self.logs = pd.DataFrame()
        self.roster = pd.DataFrame()
        self.now = pd.DataFrame()
        kwargs.setdefault("day", data.today)
        kwargs.setdefault("hour", datetime.now().hour)
        super().__init__(data, **kwargs)

    # -- Options ----------------------------------------------------------------------------

    def _posts(self) -> pd.DataFrame:
        return checkpoint_posts(self.data.ledgers["duty_posts"])

    @property
    def checkpoint_options(self):
        return [("全部卡口", ALL)] + [(n, n) for n in self._posts()["name"]]

    @property
    def shift_options(self):
        return [("全部班次", ALL)] + [(s.label, s.name) for s in shifts_for(CHECKPOINT_KIND)]

    @property
    def outcome_options(self):
        return [("全部处置结果", ALL)] + [(o, o) for o in OUTCOMES]

    @property
    def role_options(self):
        return [(r, r) for r in DUTY_ROLES]

    @t.validate("checkpoint")
    def _check_checkpoint(self, proposal):
        return self.one_of(proposal["value"], list(self._posts()["name"]), "卡口")

    @t.validate("shift")
    def _check_shift(self, proposal):
        return self.one_of(proposal["value"], [s.name for s in shifts_for(CHECKPOINT_KIND)], "班次")

    @t.validate("outcome")
    def _check_outcome(self, proposal):
        return self.one_of(proposal["value"], OUTCOMES, "处置结果")

    # -- Figures ------------------------------------------------------------------------------

    def compute(self) -> str:
        if self.day is None:
            raise ValueError("请选择日期")
        ledgers = self.data.ledgers
        posts = self._posts()
        chosen = posts[posts["name"] == self.checkpoint] if self.checkpoint else posts
        self.checkpoint_names = list(posts["name"])
        self.shift_names = [s.name for s in shifts_for(CHECKPOINT_KIND)]
        when = duty_now(self.day, self.hour)
        self.now = on_duty(chosen, ledgers["duty_shifts"], when)
        self.roster = checkpoint_roster(ledgers["duty_posts"], ledgers["duty_shifts"], self.day,
                                        checkpoint=self.checkpoint, shift=self.shift)
        logs = filter_logs(ledgers["checkpoint_logs"], self.day, checkpoint=self.checkpoint, shift=self.shift,
                           outcome=self.outcome)
        self.logs = with_lead_status(logs, lead_status(ledgers["leads"], self._lead_moment()), source="卡口",
                                     when="time")
        raised = self.logs[self.logs["lead_no"].notna()]
        flows = flows_by_checkpoint(self.logs, list(chosen["name"]))
        summary = roster_summary(self.roster)
        self.kpis = {
            "checkpoints": len(chosen),
            "on_duty": int(self.now["assigned"].sum()) if len(self.now) else 0,
            "short_now": int((self.now["missing"] > 0).sum()) if len(self.now) else 0,
            "gaps": summary["short"],
            "checked": len(self.logs),
            "unregistered": int((self.logs["pre_registered"] == False).sum()),  # noqa: E712 (nullable)
            "turned_back": int((self.logs["outcome"] == "劝返").sum()),
            "isolated": int(self.logs["outcome"].isin(("临时隔离", "点对点转运")).sum()),
            "leads_open": int(raised["lead_status"].isin(OPEN_STATUSES).sum()),
            "leads_overdue": int((raised["lead_status"] == OVERDUE).sum()),
        }
        self.now_html = self._roster_html(self.now, empty="此时没有卡口班次")
        self.roster_html = self._roster_html(self.roster, empty="当日没有卡口班次")
        self.hours_html = frame_html(logs_by_hour(self.logs), index=True, css_class="fk-table fk-cp-hours",
                                     max_rows=30)
        self.flows_html = frame_html(flows.rename(columns=FLOW_LABELS).rename_axis("卡口"), index=True,
                                     css_class="fk-table fk-cp-flows", empty="没有卡口")
        self.logs_html = self._logs_html(self.logs)
        self.leads_html = self._leads_html(raised)
        self.map_html = self._map_for(chosen, flows)
        return (f"已更新：{self._scope()} · {self.day.isoformat()} {self.hour:02d}:00 · 查验 {len(self.logs)} 人 · "
                f"缺员班次 {summary['short']} 个")

    def _scope(self) -> str:
        return " · ".join(p for p in (self.checkpoint or "全部卡口", self.shift, self.outcome) if p)

    def _lead_moment(self) -> datetime:
        """Leads are shown as they stand at the data's now, or at the end of a past day's last shift."""
        now = data_now(self.data.today)
        end = max(s.span(self.day)[1] for s in shifts_for(CHECKPOINT_KIND)) if shifts_for(CHECKPOINT_KIND) else now
        return min(now, end)

    def _leads_html(self, rows: pd.DataFrame, empty: str = "当日卡口未产生线索") -> str:
        if rows.empty:
            return frame_html(rows, empty=empty)
        shown = mask_frame(rows, get_ledger("checkpoint_logs")).assign(
            time=rows["time"].map(lambda v: f"{v:%m-%d %H:%M}"),
            deadline=rows["deadline"].map(lambda v: "" if pd.isna(v) else f"{v:%m-%d %H:%M}"))
        return frame_html(shown[list(LEAD_COLUMNS)].rename(columns=LEAD_COLUMNS), css_class="fk-table fk-cp-leads",
                          max_rows=300, empty=empty,
                          cell_class=lambda col, v: "fk-gap-cell" if col == "核查状态" and v == OVERDUE else None)

    def _roster_html(self, table: pd.DataFrame, *, empty: str) -> str:
        if table.empty:
            return frame_html(table, empty=empty)
        shown = table.assign(
            start=table["start"].map(lambda v: f"{v:%m-%d %H:%M}"), end=table["end"].map(lambda v: f"{v:%m-%d %H:%M}"),
            reason=table["reason"].where(table["reason"] != "", "齐全"),
        )[list(ROSTER_SHOWN)].rename(columns=ROSTER_LABELS)
        return frame_html(shown, css_class="fk-table fk-roster", max_rows=200, empty=empty,
                          cell_class=lambda col, v: ("fk-gap-cell" if col == "缺员情况" and v != "齐全" else None))

    def _logs_html(self, rows: pd.DataFrame, *, empty: str = "没有符合条件的查验记录") -> str:
        shown = mask_frame(rows, get_ledger("checkpoint_logs"))
        if shown.empty:
            return frame_html(shown, empty=empty)
        shown = shown.assign(time=shown["time"].map(lambda v: f"{v:%m-%d %H:%M}"),
                             pre_registered=shown["pre_registered"].map(_yes), sampled=shown["sampled"].map(_yes))
        return frame_html(shown[list(LOG_COLUMNS)].rename(columns=LOG_COLUMNS), css_class="fk-table fk-cp-logs",
                          max_rows=300, empty=empty)

    def _map_for(self, posts: pd.DataFrame, flows: pd.DataFrame) -> str:
        now = self.now.set_index("post") if len(self.now) else pd.DataFrame(
            columns=["shift", "names", "assigned", "missing", "reason"])
        rows = posts[["name", "lon", "lat"]].assign(
            checked=posts["name"].map(flows["checked"]).fillna(0).astype(int),
            unregistered=posts["name"].map(flows["unregistered"]).fillna(0).astype(int),
            shift=posts["name"].map(now["shift"]).fillna(""),
            on_duty=posts["name"].map(now["names"]).fillna(""),
            reason=posts["name"].map(now["reason"]).fillna(""),
        )
        assigned = posts["name"].map(now["assigned"]).fillna(0)
        missing = posts["name"].map(now["missing"]).fillna(0)
        rows["state"] = ["无人值守" if a == 0 else "缺员" if m > 0 else "在岗齐全" for a, m in zip(assigned, missing)]
        key = (tuple(map(tuple, rows.astype(str).to_numpy())), self.day, self.hour, self._scope())
        return self.cached_map(key, lambda: self._build_map(rows))

    def _build_map(self, rows: pd.DataFrame) -> str:
        m = make_checkpoints_map(self.data.villages, rows, township=self.data.township, day=self.day,
                                 scope=f"{self._scope()} · {self.hour:02d}:00", note=self.data.source_note)
        return map_iframe(render_map(m), height=520, title=f"{self.data.township}卡口值守与通行")

    def kpi_list(self, key: str) -> tuple[str, str] | None:
        if key not in self.kpi_lists:
            return None
        logs = self.logs
        if key == "checkpoints":
            body = self._roster_html(self.now, empty="没有卡口")
        elif key == "on_duty":
            body = self._roster_html(self.now[self.now["assigned"] > 0] if len(self.now) else self.now,
                                     empty="此时无人在岗")
        elif key == "short_now":
            body = self._roster_html(self.now[self.now["missing"] > 0] if len(self.now) else self.now,
                                     empty="此时各卡口在岗齐全")
        elif key == "gaps":
            body = self._roster_html(self.roster[self.roster["missing"] > 0], empty="当日班次齐全")
        elif key == "unregistered":
            body = self._logs_html(logs[logs["pre_registered"] == False])  # noqa: E712
        elif key == "turned_back":
            body = self._logs_html(logs[logs["outcome"] == "劝返"])
        elif key == "isolated":
            body = self._logs_html(logs[logs["outcome"].isin(("临时隔离", "点对点转运"))])
        elif key == "leads_open":
            body = self._leads_html(logs[logs["lead_status"].isin(OPEN_STATUSES)], empty="没有未办结的线索")
        elif key == "leads_overdue":
            body = self._leads_html(logs[logs["lead_status"] == OVERDUE], empty="没有逾期的线索")
        else:
            body = self._logs_html(logs)
        return KPI_LABELS[key], body

    # -- Forms ----------------------------------------------------------------------------------

    def assign(self, *, day: date | None, post: str, shift: str, name: str, phone: str = "", role: str = "",
               note: str = "") -> bool:
        """Put a person on a checkpoint shift (validated, audited as the operator)."""
        raw = dict(date=day, post=post, shift=shift, name=name, phone=phone or None, role=role or None,
                   note=note or None)
        return self.run(lambda: assign_duty(self.data.engine, raw, user=self.operator, today=self.data.today),
                        reload=("duty_shifts",))

    def unassign(self, *, day: date | None, post: str, shift: str, name: str) -> bool:
        """Take a person off a checkpoint shift."""
        return self.run(lambda: unassign_duty(self.data.engine, day, post, shift, name, user=self.operator),
                        reload=("duty_shifts",))

    def record_log(self, raw: dict) -> bool:
        """Save one checkpoint log row (卡点登记), validated like an import."""
        record = {k: v for k, v in raw.items() if k in LOG_FORM_FIELDS}
        return self.run(lambda: save_record(self.data.engine, "checkpoint_logs", record, user=self.operator,
                                            today=self.data.today), reload=("checkpoint_logs", "leads"))

    def people_on(self, day: date | None, post: str, shift: str) -> list[str]:
        """Names on a shift (for the form that takes someone off)."""
        if day is None or not post or not shift:
            return []
        rows = self.data.ledgers["duty_shifts"]
        keep = (pd.to_datetime(rows["date"]).dt.date == day) & (rows["post"] == post) & (rows["shift"] == shift)
        return list(rows.loc[keep, "name"])


def shift_help() -> str:
    """The checkpoint shifts as one line (for the form)."""
    return str(html("{s}", s="；".join(s.label for s in shifts_for(CHECKPOINT_KIND))))


# -- The overview's figures of checkpoints and sentinels -----------------------------------------


def _watch_moment(data, day: date) -> datetime:
    return min(data_now(data.today), datetime.combine(day, datetime.max.time()).replace(second=0, microsecond=0))


def watch_kpis(data, day: date) -> dict[str, int]:
    """The overview's KPI figures of gates 5 and 6 (:data:`WATCH_LABELS`)."""
    return watch_figures(data.ledgers, day, _watch_moment(data, day))[0]


def watch_list(data, day: date, key: str) -> str:
    """The rows one of those KPIs counts, masked."""
    rows = watch_figures(data.ledgers, day, _watch_moment(data, day))[1][key]
    ledger = "drug_buyers" if key == "buyers_untested" else "fever_reports"
    columns = (["date", "outlet", "name", "id_number", "phone", "village", "drug_class", "lead_status", "deadline"]
               if key == "buyers_untested" else
               ["reported_at", "clinic", "name", "id_number", "phone", "village", "temperature", "test_result"])
    labels = get_ledger(ledger).labels | {"lead_status": "线索状态", "deadline": "核酸时限"}
    shown = mask_frame(rows[columns], get_ledger(ledger)).rename(columns=labels)
    return frame_html(shown, css_class="fk-table fk-kpi-rows", empty="没有记录")
