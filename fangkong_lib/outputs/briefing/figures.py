"""What the daily briefing says (the numbers): :func:`summarize_briefing`.

Every figure and list comes from the domain functions behind the dashboards
(:mod:`fangkong_lib.domain.overview`, ``alerts``, ``daily``, ``problems``,
``supplies``), so the briefing's numbers are theirs. Lists are masked here,
with every kind of personal data (they leave the command centre).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Mapping

import numpy as np
import pandas as pd

from ...policy import fever_threshold
from ...dataset import Dataset
from ...domain import alerts, problems, supplies
from ...domain.daily import (
    REPORT_DEADLINE, REPORT_ON_TIME, REPORT_ZERO, arrivals_on, control_history, per_village, releases_on,
    report_cutoff, village_report_status,
)
from ...domain.command import COMMAND_KPI_LABELS, task_table
from ...domain.overview import CONTROL_MEASURES, Overview, summarize_overview
from ...ingest.normalize import mask_frame
from ...ledgers import OUTBOUND_PII_KINDS, get_ledger
from ...policy.stock_levels import load_stock_policy
from .chart import control_chart_png

__all__ = ["HEADLINE", "ActionList", "Briefing", "summarize_briefing", "overdue_tests", "fever_readings",
           "overdue_pushes", "overdue_problems", "overdue_tasks", "supply_alerts", "village_table_with_total",
           "TEST_COLUMNS", "FEVER_COLUMNS", "PUSH_COLUMNS", "PROBLEM_COLUMNS", "TASK_COLUMNS", "SUPPLY_COLUMNS"]

#: Headline figures in reading order: (key, Chinese label). One place.
HEADLINE = (
    ("away", "在外人员"),
    ("arriving_3d", "3日内预计返乡"),
    ("arrived_today", "今日返乡"),
    ("under_control", "管控中"),
    *((m, f"　其中：{m}" if i == 0 else f"　　　　{m}") for i, m in enumerate(CONTROL_MEASURES)),
    ("tests_due", "今日应检（人次）"),
    ("tests_done_today", "今日已检（人次）"),
    ("tests_overdue", "逾期未检（人次）"),
    ("fevers", "发热"),
    ("releases", "今日解除管控"),
    ("open_problems", "未销号督查问题"),
    *COMMAND_KPI_LABELS.items(),  # 指挥调度: duty gaps, open and overdue tasks, villages' late and missing reports
)
#: Unverified big-data pushes become overdue after this long (DOMAIN.md §3).
PUSH_LIMIT = timedelta(hours=24)


def _columns(ledger_key: str, keys: tuple[str, ...], **computed: str) -> dict[str, str]:
    """Chinese headers: the ledger's own labels, plus those of computed columns."""
    labels = get_ledger(ledger_key).labels
    return {key: computed.get(key) or labels[key] for key in keys}


#: Columns of each list to act on with their Chinese headers (labels from the ledgers).
TEST_COLUMNS = _columns("controls", ("name", "village", "grid", "id_number", "measure", "planned", "days_late"),
                        measure="当前措施", planned="计划采样日", days_late="逾期天数")
FEVER_COLUMNS = _columns("controls", ("name", "village", "grid", "id_number", "measure", "slot", "temperature",
                                      "symptoms"),
                         measure="当前措施", slot="时段", temperature="体温(℃)", symptoms="症状")
PUSH_COLUMNS = _columns("pushes", ("batch", "pushed_at", "source", "name", "id_number", "village", "risk_category",
                                   "hours"), hours="已推送(小时)")
PROBLEM_COLUMNS = dict(problems.OVERDUE_COLUMNS)
TASK_COLUMNS = _columns("tasks", ("task_no", "date", "source", "description", "village", "unit", "person",
                                  "deadline", "days_overdue"), days_overdue="逾期天数")
SUPPLY_COLUMNS = {"kind": "预警", **_columns("donations", ("item", "quantity", "unit")), "minimum": "最低储备",
                  "expiry": get_ledger("donations").labels["expiry"], "detail": "说明"}


@dataclass
class ActionList:
    """One list to act on: rows already masked, with Chinese headers.
    ``count`` is the figure in the heading (rows, or people when a person
    has several rows)."""

    key: str
    title: str
    rows: pd.DataFrame
    rule: str
    unit: str = "项"
    count: int | None = None

    def __post_init__(self):
        if self.count is None:
            self.count = len(self.rows)


@dataclass
class Briefing:
    """What the daily briefing says for one date."""

    day: date
    township: str
    synthetic: bool
    source_note: str
    kpis: dict[str, float]
    kpis_yesterday: dict[str, float]
    headline: pd.DataFrame
    villages: pd.DataFrame
    reports: pd.DataFrame
    actions: list[ActionList]
    history: pd.DataFrame
    chart_png: bytes
    map_png: bytes | None = None
    #: Rows of the data the figures had to leave out (unreadable values), as
    #: sentences naming each row: the briefing says so instead of failing.
    notes: list[str] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    @property
    def cutoff(self) -> pd.Timestamp:
        return report_cutoff(self.day)

    def action(self, key: str) -> ActionList:
        return next(a for a in self.actions if a.key == key)

    @property
    def summary(self) -> str:
        """The lead paragraph a meeting reads first."""
        k = self.kpis
        measures = "、".join(f"{m}{int(k[m])}" for m in CONTROL_MEASURES if k[m])
        reports = self.reports["status"]
        on_time = int(reports.isin([REPORT_ON_TIME, REPORT_ZERO]).sum())
        zero = int((reports == REPORT_ZERO).sum())
        missing = reports.index[~reports.isin([REPORT_ON_TIME, REPORT_ZERO])].tolist()
        text = (
            f"截至{self.day.month}月{self.day.day}日{REPORT_DEADLINE:%H:%M}，全乡在外人员{int(k['away'])}人，"
            f"3日内预计返乡{int(k['arriving_3d'])}人，今日返乡{int(k['arrived_today'])}人；"
            f"管控中{int(k['under_control'])}人" + (f"（{measures}）" if measures else "") +
            f"，今日解除管控{int(k['releases'])}人；今日应检{int(k['tests_due'])}人次、已检{int(k['tests_done_today'])}人次，"
            f"逾期未检{int(k['tests_overdue'])}人次；发热{int(k['fevers'])}人。"
            f"{len(reports)}个村中{on_time}个按时报告（其中零报告{zero}个）"
        )
        text += f"，{len(missing)}个未按时报告：{'、'.join(missing)}。" if missing else "，全部按时报告。"
        return text


def _masked(frame: pd.DataFrame, ledger_key: str, columns: Mapping[str, str]) -> pd.DataFrame:
    """``frame[columns]`` with every kind of personal data masked and Chinese headers."""
    out = frame[[c for c in columns if c in frame.columns]].copy()
    out = mask_frame(out, get_ledger(ledger_key), kinds=OUTBOUND_PII_KINDS)
    return out.rename(columns=dict(columns)).reset_index(drop=True)


def overdue_tests(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Planned tests missed by people still under control (逾期未检), one row
    per missed test: :func:`fangkong_lib.domain.alerts.tests_overdue`."""
    return alerts.tests_overdue(data["controls"], data["tests"], day)


def fever_readings(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Readings at or above the fever threshold on ``day`` of people under
    control, one row per reading: :func:`fangkong_lib.domain.alerts.fevers`."""
    return alerts.fevers(data["controls"], data["daily_checks"], day)


def overdue_pushes(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Big-data pushes (大数据推送) not verified at the day's cut-off (17:00)
    although pushed more than 24 hours before it, oldest first, with
    ``hours`` since the push.

    A push counts as verified once it has a result other than 待核查 and its
    verification time (when recorded) is not after the cut-off, so a past
    day's briefing shows what was open then.
    """
    pushes = data["pushes"]
    cutoff = report_cutoff(day)
    pushed = pd.to_datetime(pushes["pushed_at"])
    verified = (pushes["result"].fillna("待核查") != "待核查") & (
        pushes["verified_at"].isna() | (pd.to_datetime(pushes["verified_at"]) <= cutoff))
    late = pushes[(~verified & (pushed <= cutoff - PUSH_LIMIT)).to_numpy(dtype=bool)]
    hours = ((cutoff - pd.to_datetime(late["pushed_at"])).dt.total_seconds() // 3600).astype(int)
    return late.assign(hours=hours).sort_values("pushed_at").reset_index(drop=True)


def overdue_problems(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Supervision problems past their deadline and not closed:
    :func:`fangkong_lib.domain.problems.overdue_problems`."""
    return problems.overdue_problems(data["problems"], day)


def overdue_tasks(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Assigned tasks (交办事项) past their deadline and not done on ``day``,
    most overdue first, with ``days_overdue``."""
    rows = task_table(data["tasks"], day)
    rows = rows[rows["overdue"]]
    rows = rows.assign(days_overdue=(pd.Timestamp(day) - pd.to_datetime(rows["deadline"])).dt.days.astype(int))
    return rows.sort_values(["days_overdue", "task_no"], ascending=[False, True]).reset_index(drop=True)


def supply_alerts(data: Mapping[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """Supplies below their minimum level (最低储备, policy data), expired or
    expiring within the warning period while still in stock (first-expired-
    first-out lots): :func:`fangkong_lib.domain.supplies.flag_stock`.
    Columns: the keys of :data:`SUPPLY_COLUMNS`."""
    if (pd.to_datetime(data["donations"]["date"]) > pd.Timestamp(day)).all():
        # nothing received yet: no minimum level can be missed
        return pd.DataFrame(columns=list(SUPPLY_COLUMNS))
    policy = load_stock_policy()
    flags = supplies.flag_stock(data["donations"], data["distributions"], day, minimum=policy.minimum,
                                warning_days=policy.expiry_warning_days)
    rows: list[dict] = []
    for r in flags.below_minimum.itertuples(index=False):
        rows.append(dict(kind="低于最低储备", item=r.item, quantity=r.item_stock, unit=r.unit, minimum=r.minimum,
                         expiry=pd.NaT, detail=f"需补充 {r.minimum - r.item_stock:g}{r.unit or ''}"))
    for kind, lots in (("已过期", flags.expired), ("临近过期", flags.expiring)):
        for r in lots.itertuples(index=False):
            days = int(r.days_left)
            when = f"{days} 天后到期" if days >= 0 else f"已过期 {-days} 天"
            rows.append(dict(kind=kind, item=r.item, quantity=r.remaining, unit=r.unit, minimum=np.nan,
                             expiry=r.expiry, detail=f"{r.donor} 捐赠（{r.voucher_no}，{r.location}），{when}"))
    return pd.DataFrame(rows, columns=list(SUPPLY_COLUMNS))


def _action_lists(data: Dataset, day: date) -> list[ActionList]:
    """The five lists, each with the rule it follows (shown under it)."""
    ledgers = data.ledgers
    fevers = fever_readings(ledgers, day)
    return [
        ActionList("tests_overdue", "逾期未检", _masked(overdue_tests(ledgers, day), "controls", TEST_COLUMNS),
                   "管控人员计划核酸日期已过、截至当日仍未采样，每次漏检一行（与“态势总览”的逾期未检同口径）", "人次"),
        ActionList("fevers", "发热人员", _masked(fevers, "controls", FEVER_COLUMNS),
                   f"管控人员当日上午或下午体温 ≥ {fever_threshold(day)} ℃，每次读数一行", "人",
                   fevers["id_number"].nunique()),
        ActionList("pushes", "大数据推送超24小时未核查", _masked(overdue_pushes(ledgers, day), "pushes", PUSH_COLUMNS),
                   f"截至当日 {REPORT_DEADLINE:%H:%M}，推送已超过 24 小时仍未核查反馈", "条"),
        ActionList("problems", "超期未整改问题", _masked(overdue_problems(ledgers, day), "problems", PROBLEM_COLUMNS),
                   "整改时限已过、尚未销号的督查问题，逾期最久的在前", "个"),
        ActionList("supplies", "物资预警", supply_alerts(ledgers, day).rename(columns=SUPPLY_COLUMNS),
                   f"低于最低储备、已过期或 {load_stock_policy().expiry_warning_days} 天内到期且仍有库存的捐赠物资",
                   "项"),
        ActionList("tasks", "逾期未办结交办事项", _masked(overdue_tasks(ledgers, day), "tasks", TASK_COLUMNS),
                   "会议议定交办的事项，完成时限已过、尚未办结，逾期最久的在前", "件"),
    ]


def _headline(today: Mapping[str, float], yesterday: Mapping[str, float]) -> pd.DataFrame:
    rows = []
    for key, label in HEADLINE:
        a, b = int(today.get(key, 0)), int(yesterday.get(key, 0))
        rows.append({"key": key, "指标": label, "今日": a, "昨日": b, "较昨日": a - b})
    return pd.DataFrame(rows)


def _village_table(data: Dataset, ov: Overview, day: date, reports: pd.DataFrame) -> pd.DataFrame:
    names = data.village_names
    t = ov.by_village
    table = pd.DataFrame(index=pd.Index(names, name="村"))
    table["报告情况"] = reports["status"]
    table["上报时间"] = reports["reported_at"].dt.strftime("%H:%M").fillna("—")
    table["在外人员"] = t["在外人员"]
    table["3日内预计返乡"] = t["3日内预计返乡"]
    table["今日返乡"] = per_village(arrivals_on(data.ledgers, day), names)
    table["管控中"] = t["管控中"]
    for m in CONTROL_MEASURES:
        table[m] = t[m]
    table["今日应检"] = t["今日应检"]
    table["今日已检"] = t["今日应检"] - t["今日待检"]
    table["逾期未检"] = t["逾期未检"]
    table["发热"] = t["发热"]
    table["今日解除"] = per_village(releases_on(data.ledgers, day), names)
    table["未销号问题"] = t["未销号问题"]
    table["村报在管"] = reports["reported_under_control"].astype("Int64")
    return table


def village_table_with_total(table: pd.DataFrame) -> pd.DataFrame:
    """The village table with a 合计 row (counts summed; report columns
    summarised as "n/N 按时")."""
    numeric = table.select_dtypes("number")
    total = numeric.sum().to_frame("合计").T.astype("Int64")
    on_time = int(table["报告情况"].isin([REPORT_ON_TIME, REPORT_ZERO]).sum())
    total.insert(0, "上报时间", "")
    total.insert(0, "报告情况", f"{on_time}/{len(table)} 按时")
    out = pd.concat([table, total[table.columns]])
    out.index.name = table.index.name
    return out


def summarize_briefing(data: Dataset, day: date) -> Briefing:
    """The figures, tables and lists of the briefing for ``day`` (no map
    image yet: that needs Chromium, see :func:`~fangkong_lib.outputs.briefing.briefing_files`).

    Figures come from :func:`~fangkong_lib.domain.overview.summarize_overview`,
    the function behind the overview dashboard, for ``day`` and the day
    before. A date without data gives an all-zero briefing.
    """
    ov = summarize_overview(data.ledgers, day)
    ov_before = summarize_overview(data.ledgers, day - timedelta(days=1))
    kpis = dict(ov.kpis, releases=len(releases_on(data.ledgers, day)))
    kpis_before = dict(ov_before.kpis, releases=len(releases_on(data.ledgers, day - timedelta(days=1))))
    reports = village_report_status(data.ledgers, day)
    history = control_history(data.ledgers, day)
    return Briefing(
        day=day, township=data.township, synthetic=data.synthetic, source_note=data.source_note,
        kpis=kpis, kpis_yesterday=kpis_before, headline=_headline(kpis, kpis_before),
        villages=_village_table(data, ov, day, reports), reports=reports,
        actions=_action_lists(data, day), history=history, chart_png=control_chart_png(history),
        notes=list(ov.notes),
    )
