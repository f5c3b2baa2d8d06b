"""The command line (指挥调度, 1+17+N): the HQ, the 17 village branches and
the working groups and departments; two weeks of the daily rhythm (早会商,
the branches' 08:00 meetings, 晚汇报) and the tasks their decisions became,
each with its way through the loop.

Draws from a generator of its own (``[seed, 13]``), so the sections built
before it stay as they are.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from .context import Township
from .draws import Names, pick
from .duty import hq_post

#: This section's own random stream: [seed, SECTION].
SECTION = 13
#: Days of meetings and tasks before the demo day.
DAYS = 14

#: The N of 1+17+N: (unit, kind, lead's title, duty, members).
GROUPS = (
    ("综合协调组", "工作专班", "乡党委副书记", "会议组织、信息汇总、值班调度、交办督办", 6),
    ("排查管控组", "工作专班", "乡党委委员", "在外人员排查、返乡报备审核、居家隔离管控", 9),
    ("卡点值守组", "工作专班", "乡武装部长", "路口卡点 24 小时值守、人员车辆查验", 12),
    ("核酸检测组", "工作专班", "乡卫生院院长", "上门采样、集中核酸、样本转运", 15),
    ("物资保障组", "工作专班", "乡财政所所长", "捐赠物资接收发放、隔离户生活保障", 5),
    ("宣传引导组", "工作专班", "乡宣传委员", "村村通广播、微信群、宣传单、入户宣传", 5),
    ("督查问责组", "工作专班", "乡纪委书记", "三个督查组明察暗访、问题整改、问责", 9),
    ("大数据核查组", "工作专班", "乡派出所副所长", "大数据推送信息核查、协查函落实", 4),
    ("城郊派出所", "职能部门", "所长", "聚集管控牵头、一村一警、卡点警力", 18),
    ("乡综治办", "职能部门", "主任", "联合执法、矛盾调处", 4),
    ("乡综合执法大队", "职能部门", "大队长", "红白事管控执法、场所停业整改", 10),
    ("乡卫生院", "职能部门", "院长", "发热哨点、四类药品监测、隔离点医疗", 26),
)

#: Decisions a meeting hands out, by whom they go to ({v}: a village, {c}: a checkpoint).
HQ_DECISIONS = (
    ("排查管控组", "对{v}近3日返乡人员逐户再核查，落实报备"),
    ("核酸检测组", "组织{v}居家隔离人员上门采样，当日出结果"),
    ("卡点值守组", "补齐{c}夜班值守人员"),
    ("物资保障组", "为{v}居家隔离户配送生活物资"),
    ("宣传引导组", "{v}村村通广播每日不少于3次，播放非必要不返乡"),
    ("督查问责组", "对{v}值班值守情况开展暗访"),
    ("大数据核查组", "核查省平台最新推送批次，24小时内反馈"),
    ("乡综合执法大队", "劝导{v}拟办婚宴事主红事缓办"),
    ("branch", "完善{v}在外人员动态管理台账"),
    ("branch", "{v}落实党员联户每日走访并登记"),
)
BRANCH_DECISIONS = ("组织网格员入户走访，摸排新返乡人员", "检查村口卡点值守和登记", "督促居家隔离户落实每日两次测温")


def add_command(t: Township) -> None:
    """The structure, meetings and tasks (with their history)."""
    rng = np.random.default_rng([t.seed, SECTION])
    names = Names(rng)
    units = command_units(t, names)
    meetings, tasks, events = rhythm(t, units, rng, names)
    t.out["command_units"] = pd.DataFrame(units)
    t.out["meetings"] = pd.DataFrame(meetings)
    t.out["tasks"] = pd.DataFrame(tasks)
    t.out["task_events"] = pd.DataFrame(events)


def group_unit(t: Township, unit: str) -> str:
    """A working group's or department's name, qualified by the township in a county build."""
    return unit if not t.unit_prefix else t.unit_prefix + unit.replace("城郊派出所", "派出所")


def command_units(t: Township, names: Names) -> list[dict]:
    """1 HQ, 17 village branches, 12 groups and departments."""
    HQ = hq_post(t)
    leaders = [s for s in t.staff if s["level"] == "大网格长"]
    chief = leaders[0] if leaders else {"name": names.person(), "phone": names.phone(), "duty": "乡党委书记"}
    rows = [dict(
        unit=HQ, kind="乡指挥部", parent=None, village=None, lead=chief["name"], lead_title=f"指挥长（{chief['duty']}）",
        lead_phone=chief["phone"], liaison=names.person(), liaison_phone=names.phone(),
        duty="统筹全乡疫情防控，24小时值班值守，早会商、晚汇报", members=15,
        lon=round(t.seat[1] + 0.004, 5), lat=round(t.seat[0] - 0.003, 5), note="乡政府院内",
    )]
    for v, row in enumerate(t.village_rows):
        rows.append(dict(
            unit=f"{row['name']}党支部", kind="村党支部", parent=HQ, village=row["name"], lead=row["secretary"],
            lead_title="党支部书记", lead_phone=row["secretary_phone"], liaison=names.person(),
            liaison_phone=names.phone(), duty="村级疫情防控指挥部：每日 08:00 支部会商，17:00 前日报告",
            members=int(7 + v % 5), lon=None, lat=None, note=None,
        ))
    for unit, kind, title, duty, members in GROUPS:
        rows.append(dict(
            unit=group_unit(t, unit), kind=kind, parent=HQ, village=None, lead=names.person(), lead_title=title,
            lead_phone=names.phone(), liaison=names.person(), liaison_phone=names.phone(), duty=duty,
            members=members, lon=None, lat=None, note=None,
        ))
    return rows


def _at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute))


def rhythm(t: Township, units: list[dict], rng, names: Names):
    """Meetings of the last ``DAYS`` days up to the demo day, the tasks they
    decided and each task's steps. On the demo day the evening report is
    still to come and two branches have not recorded their 08:00 meeting."""
    today, HQ = t.today, hq_post(t)
    leads = {u["unit"]: u["lead"] for u in units}
    branches = [u for u in units if u["kind"] == "村党支部"]
    missing_today = {int(i) for i in rng.choice(len(branches), size=2, replace=False)}
    meetings, tasks, events = [], [], []

    def decide(day, kind, unit, at, unit_to, text, village):
        number = f"JB{day.year}-{len(tasks) + 1:03d}"
        deadline = day + timedelta(days=int(rng.integers(1, 4)))
        tasks.append(dict(task_no=number, date=day, source=kind, meeting_unit=unit, description=text,
                          village=village, unit=unit_to, person=leads.get(unit_to), deadline=deadline))
        return tasks[-1], at

    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        day_tasks = []
        # 早会商 at HQ, 07:30
        at = _at(day, 7, 30 + int(rng.integers(0, 10)))
        expected = 15
        present = int(expected - rng.integers(0, 3))
        texts = []
        for _ in range(int(rng.integers(1, 4))):
            owner, pattern = HQ_DECISIONS[int(rng.integers(len(HQ_DECISIONS)))]
            v = int(rng.integers(len(t.village_names)))
            text = pattern.format(v=t.village_names[v], c=pick(rng, t.checkpoints))
            unit_to = f"{t.village_names[v]}党支部" if owner == "branch" else group_unit(t, owner)
            village = t.village_names[v] if "{v}" in pattern else None
            day_tasks.append(decide(day, "早会商", HQ, at, unit_to, text, village))
            texts.append(text)
        meetings.append(dict(date=day, kind="早会商", unit=HQ, village=None, held_at=at, host=leads[HQ],
                             expected=expected, present=present, absent="、".join(names.person() for _ in range(
                                 expected - present)) + ("（下村走访）" if present < expected else ""),
                             topics="前一日疫情形势、返乡人员管控、卡点值守", decisions="；".join(texts),
                             recorder=names.person(), note=None))
        # the branches' 08:00 meetings
        for i, b in enumerate(branches):
            if back == 0 and i in missing_today:
                continue
            if back > 0 and rng.random() < 0.03:
                continue  # an occasional day without a record
            at = _at(day, 8, int(rng.integers(0, 15)))
            expected = int(b["members"])
            present = int(expected - rng.integers(0, 2 if rng.random() < 0.9 else 4))
            text = None
            if rng.random() < 0.12:
                text = BRANCH_DECISIONS[int(rng.integers(len(BRANCH_DECISIONS)))]
                day_tasks.append(decide(day, "支部会商", b["unit"], at, b["unit"], text, b["village"]))
            meetings.append(dict(date=day, kind="支部会商", unit=b["unit"], village=b["village"], held_at=at,
                                 host=b["lead"], expected=expected, present=present,
                                 absent="有事请假" if present < expected else None,
                                 topics="传达乡指挥部早会商要求，安排当日走访", decisions=text,
                                 recorder=names.person(), note=None))
        # 晚汇报 at HQ, 18:00 (the demo day's is still to come)
        if back > 0:
            at = _at(day, 18, int(rng.integers(0, 20)))
            meetings.append(dict(date=day, kind="晚汇报", unit=HQ, village=None, held_at=at, host=leads[HQ],
                                 expected=15, present=int(15 - rng.integers(0, 2)), absent=None,
                                 topics="各村17:00日报告、交办事项办理情况", decisions=None,
                                 recorder=names.person(), note=None))
        for task, at in day_tasks:
            events.extend(_progress(task, at, today, rng))
    return meetings, tasks, events


def _progress(task: dict, at: datetime, today: date, rng) -> list[dict]:
    """Move ``task`` along the loop as far as its age allows; returns its
    events (and sets its stage, done date and checker)."""
    age = (today - task["date"]).days
    deadline_passed = task["deadline"] < today
    if age >= 5:
        stage = "销号" if rng.random() < 0.9 else "整改中"
    elif age >= 2:
        stage = pick(rng, ("整改中", "复查", "销号"), p=(0.35, 0.15, 0.5))
    else:
        stage = pick(rng, ("反馈", "整改中"), p=(0.6, 0.4))
    order = ("发现", "反馈", "整改中", "复查", "销号")
    steps = list(order[: order.index(stage) + 1])
    end = datetime.combine(min(today, task["deadline"] + timedelta(days=1 if deadline_passed else 0)),
                           time(17, 0))
    span = max(end - at, timedelta(hours=1))
    rows = []
    for k, step in enumerate(steps):
        when = at if k < 2 else at + span * k / len(steps)
        when = (when + timedelta(minutes=k)).replace(second=0, microsecond=0)
        rows.append(dict(
            task_no=task["task_no"], step=step, time=when,
            who=task["meeting_unit"] if step in ("发现", "反馈", "复查", "销号") else task["unit"],
            unit=task["unit"] if step == "反馈" else None, person=task["person"] if step == "反馈" else None,
            deadline=task["deadline"] if step == "反馈" else None,
            note={"发现": task["description"], "反馈": "会议议定，交办落实", "整改中": "正在办理",
                  "复查": "核验办理情况", "销号": "办理到位，予以办结"}[step],
            evidence="办理情况报告" if step in ("复查", "销号") else None,
        ))
    done = stage in ("复查", "销号")
    task.update(stage=stage, done_date=rows[-1]["time"].date() if done else None,
                evidence="办理情况报告" if done else None,
                rechecker="综合协调组" if done else None, note=None)
    return rows
