"""One fist (党员志愿者): the volunteer roster's writes.

- :func:`save_volunteer`: add or edit a volunteer (编号 ``ZY…`` for the
  service team, ``TJ…`` for the assault team when left blank);
- :func:`assign_volunteer`: post a volunteer to a grid or to a household in
  home isolation (a ``volunteer_assignments`` row, 派驻编号 ``PZ…``); a
  household's posting also names the volunteer on the person's 五包一 team
  when the team's volunteer is not one posted to that household;
- :func:`end_assignment`: a posting ends (结束日期);
- :func:`assign_volunteer_shift`: put a volunteer on a checkpoint shift, a
  row of the one duty roster (:func:`~.duty.assign_duty`, 身份 志愿者);
- :func:`log_hours`: add hours served (服务时长), audited.

Each is one transaction under the ``volunteers`` lock; a refusal raises
:class:`~.base.ActionError` and writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Mapping

import sqlalchemy as sa

from .. import store
from ..domain.supplies import next_voucher_no
from ..domain.volunteers import DEFAULT_TEAM, GRID, HOUSEHOLD
from ..ingest.normalize import clean_text
from ..policy.volunteers import load_volunteer_policy
from .base import ActionError, Tx, as_date, transaction
from .duty import assign_duty
from .plans import team_sources

__all__ = ["assign_volunteer", "assign_volunteer_shift", "end_assignment", "log_hours", "save_volunteer"]

SUBJECT = "volunteers"
#: Number prefixes of new volunteers, per team, and of postings.
NUMBER_PREFIX = {"党员干部突击队": "TJ", DEFAULT_TEAM: "ZY"}
ASSIGN_PREFIX = "PZ"
_WORDS = {"inserted": "已新增", "updated": "已更新", "unchanged": "内容未变，未写入"}


def _next_no(tx: Tx, key: str, column: str, prefix: str, width: int = 4) -> str:
    existing = [r[0] for r in tx.conn.execute(sa.select(store.TABLES[key].c[column]))]
    number = next_voucher_no(existing, prefix)[len(prefix):]
    return f"{prefix}{int(number):0{width}d}"


def _volunteer(tx: Tx, number) -> dict:
    number = clean_text(number)
    if not number:
        raise ActionError.about("volunteer_no", "志愿者", "请选择志愿者")
    found = tx.row("volunteers", volunteer_no=number)
    if found is None:
        raise ActionError.refused("volunteer_no", "志愿者编号", "志愿者名册中没有这个编号", number)
    return found


def save_volunteer(db, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """Add a volunteer, or edit one (same 编号), validated like an import of
    the volunteers ledger. A blank 编号 gets the next number of the team."""
    raw = dict(raw)
    with transaction(db, SUBJECT, user=user) as tx:
        day = today or tx.today()
        if not clean_text(raw.get("volunteer_no")):
            prefix = NUMBER_PREFIX.get(clean_text(raw.get("team")) or DEFAULT_TEAM, "ZY")
            raw["volunteer_no"] = _next_no(tx, "volunteers", "volunteer_no", prefix)
        record = tx.clean("volunteers", raw, villages=tx.villages(), today=day)
        action = tx.upsert("volunteers", record)
    return f"志愿者 {record['volunteer_no']} {record['name']}：{_WORDS.get(action, action)}"


def _overlaps(a_start: date, a_end: date | None, b_start: date, b_end: date | None) -> bool:
    return a_start <= (b_end or date.max) and b_start <= (a_end or date.max)


def _five_in_one_volunteer(tx: Tx, household_id: str, name: str, day: date) -> bool:
    """Name ``name`` as the 志愿者 of the person's 五包一 team unless the team
    already names a volunteer posted to this household; True when changed."""
    slot = next((i for i, s in enumerate(team_sources()) if s.kind == "volunteer"), None)
    control = tx.row("controls", id_number=household_id)
    if slot is None or control is None:
        return False
    team = [p.strip() for p in (control.get("team") or "").split(";")]
    team += [""] * (len(team_sources()) - len(team))
    table = store.TABLES["volunteer_assignments"]
    posted = tx.frame("volunteer_assignments", table.c.household_id == household_id, table.c.kind == HOUSEHOLD)
    current = {clean_text(n) for n, s, e in zip(posted["name"], posted["start_date"], posted["end_date"])
               if as_date(s) <= day and (as_date(e) is None or as_date(e) >= day)}
    if team[slot] in current - {name} or team[slot] == name:
        return False
    team[slot] = name
    tx.upsert("controls", {"id_number": household_id, "team": team})
    return True


def assign_volunteer(db, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """Post a volunteer to a grid (派驻类型 网格: 网格 required) or to a
    household in home isolation (居家隔离户: 隔离人员身份证号 of a person on the
    controls ledger), in a post (岗位), from 开始日期 (default today) to
    结束日期 (blank: open). Name, village and grid are taken from the roster
    and the controls ledger.

    Refused when the volunteer, grid or person is unknown, the end is before
    the start, or the volunteer already holds the same post there over an
    overlapping period.
    """
    raw = dict(raw)
    with transaction(db, SUBJECT, "returnees", user=user) as tx:
        day = today or tx.today()
        volunteer = _volunteer(tx, raw.get("volunteer_no"))
        raw["volunteer_no"], raw["name"] = volunteer["volunteer_no"], volunteer["name"]
        if not clean_text(raw.get("assign_no")):
            raw["assign_no"] = _next_no(tx, "volunteer_assignments", "assign_no", ASSIGN_PREFIX, 5)
        if raw.get("start_date") in (None, ""):
            raw["start_date"] = day
        kind = clean_text(raw.get("kind"))
        if kind == GRID:
            grid = tx.row("grids", code=clean_text(raw.get("grid")))
            if grid is None:
                raise ActionError.refused("grid", "网格", "不是已登记的网格", raw.get("grid"))
            raw.update(village=grid["village"], household_id=None, household=None)
        elif kind == HOUSEHOLD:
            idn = clean_text(raw.get("household_id")).upper()
            control = tx.row("controls", id_number=idn) if idn else None
            if control is None:
                raise ActionError.refused("household_id", "隔离人员", "管控台账中没有这个人（请选择居家隔离户）",
                                          raw.get("household_id"))
            if control.get("status") == "已解除":
                raise ActionError.about("household_id", "隔离人员", f"{control['name']} 已解除管控，无需派驻",
                                        idn)
            raw.update(household_id=idn, household=control["name"], village=control["village"],
                       grid=control["grid"])
        record = tx.clean("volunteer_assignments", raw, villages=tx.villages(), today=day)
        if record.get("end_date") and record["end_date"] < record["start_date"]:
            raise ActionError.refused("end_date", "结束日期", "早于开始日期", record["end_date"])
        table = store.TABLES["volunteer_assignments"]
        same = tx.frame("volunteer_assignments", table.c.volunteer_no == record["volunteer_no"],
                        table.c.kind == record["kind"], table.c.role == record["role"],
                        table.c.assign_no != record["assign_no"])
        target = "household_id" if record["kind"] == HOUSEHOLD else "grid"
        for other in same.to_dict("records"):
            if clean_text(other[target]) == clean_text(record[target]) and _overlaps(
                    as_date(other["start_date"]), as_date(other["end_date"]), record["start_date"],
                    record.get("end_date")):
                raise ActionError.about("volunteer_no", "志愿者",
                                        f"{record['name']} 已作为{record['role']}派驻于此（{other['assign_no']}），"
                                        f"无需重复派驻", record["volunteer_no"])
        tx.upsert("volunteer_assignments", record)
        where = record["grid"] if record["kind"] == GRID else f"{record['household']}家（{record['village']}）"
        message = f"已派驻：{record['name']} 任{record['role']} → {where}（{record['assign_no']}）"
        if record["kind"] == HOUSEHOLD and _five_in_one_volunteer(tx, record["household_id"], record["name"], day):
            message += "；五包一志愿者已更新"
    return message


def end_assignment(db, assign_no: str, end_date=None, *, user: str) -> str:
    """End a posting on ``end_date`` (default today): it no longer covers
    anything after that day."""
    with transaction(db, SUBJECT, user=user) as tx:
        found = tx.row("volunteer_assignments", assign_no=clean_text(assign_no))
        if found is None:
            raise ActionError.refused("assign_no", "派驻编号", "没有这条派驻记录", assign_no)
        record = tx.clean("volunteer_assignments", {**found, "end_date": end_date or tx.today()},
                          villages=None, today=tx.today())
        if record["end_date"] < record["start_date"]:
            raise ActionError.refused("end_date", "结束日期", f"早于开始日期 {record['start_date']:%m月%d日}",
                                      record["end_date"])
        tx.upsert("volunteer_assignments", record)
    return f"已结束派驻：{record['name']} {record['role']}（{record['assign_no']}），至 {record['end_date']:%m月%d日}"


def assign_volunteer_shift(db, volunteer_no: str, day, post: str, shift: str, *, user: str,
                           today: date | None = None) -> str:
    """Put a volunteer of the roster on a checkpoint shift: a row of the
    duty roster (值班排班) with the volunteer's name and phone and the 身份 of
    volunteers (policy ``checkpoints.roles``), checked by the duty roster's
    own rules (known post, its shifts, no overlapping shift elsewhere)."""
    policy = load_volunteer_policy()
    with transaction(db, SUBJECT, user=user) as tx:
        volunteer = _volunteer(tx, volunteer_no)
        found = tx.row("duty_posts", name=clean_text(post))
        if found is None or found["kind"] != policy.checkpoint_kind:
            raise ActionError.refused("post", "卡口", f"不是已登记的{policy.checkpoint_kind}", post)
    return assign_duty(db, {"date": day, "post": found["name"], "shift": shift, "name": volunteer["name"],
                            "phone": volunteer["phone"], "role": policy.shift_roles[0],
                            "note": f"志愿者 {volunteer['volunteer_no']}"}, user=user, today=today)


def log_hours(db, volunteer_no: str, hours, *, user: str, day=None, note: str = "") -> str:
    """Add ``hours`` served (more than 0, at most the policy's
    ``hours.max_per_entry``) to a volunteer's 服务时长; the audit keeps each
    entry with the day and note."""
    policy = load_volunteer_policy()
    try:
        amount = float(hours)
    except (TypeError, ValueError):
        raise ActionError.refused("hours", "服务时长", "应为小时数", hours) from None
    if not 0 < amount <= policy.max_hours:
        raise ActionError.refused("hours", "服务时长", f"每次登记应大于0且不超过{policy.max_hours:g}小时", hours)
    with transaction(db, SUBJECT, user=user) as tx:
        volunteer = _volunteer(tx, volunteer_no)
        when = as_date(day) or tx.today()
        if when > tx.today():
            raise ActionError.refused("date", "服务日期", "不能晚于今天", when)
        total = round(float(volunteer.get("hours") or 0) + amount, 2)
        tx.upsert("volunteers", {"volunteer_no": volunteer["volunteer_no"], "hours": total})
        store.audit(tx.conn, user=tx.user, ledger="volunteers", action="log_hours",
                    row_key={"volunteer_no": volunteer["volunteer_no"]},
                    after={"date": when.isoformat(), "hours": amount, "note": clean_text(note)})
    return (f"已登记服务时长：{volunteer['name']} {when:%m月%d日} {amount:g} 小时，"
            f"累计 {total:g} 小时")
