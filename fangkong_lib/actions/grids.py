"""Grid responsibility (网格责任): who answers for a node of the six-level
tree, and which party member links which household.

Both actions run under the ``grids`` lock in one transaction, audited:

- :func:`reassign_post` puts a new person (and phone) on a node of the tree
  (or fills a vacant one), keeps the copies of that person in the villages,
  natural villages and grid ledgers in step, and writes the change to the
  history (``grid_assignments``: who was there, who is now, why, by whom);
- :func:`link_households` links households to a party member of their
  village and keeps each grid's 已联户数 in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

import pandas as pd
import sqlalchemy as sa

from .. import store
from ..ledgers import GRID_LEVELS
from .base import ActionError, Tx, transaction

__all__ = ["GRID_SUBJECT", "Reassigned", "link_households", "reassign_post", "recount_grids"]

#: The lock every write of the grid ledgers takes.
GRID_SUBJECT = "grids"
VACANT_PREFIX = "空缺:"


@dataclass(frozen=True)
class Reassigned:
    """A node's new person (责任人编号) and the message to show."""

    staff_no: str
    message: str

    def __str__(self) -> str:
        return self.message


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()


def _change_time(tx: Tx, day: date, staff_no: str) -> datetime:
    """Now on the data's day, strictly after the node's last recorded change."""
    when = datetime.combine(day, datetime.now().time()).replace(microsecond=0)
    table = store.TABLES["grid_assignments"]
    last = tx.conn.execute(sa.select(sa.func.max(table.c.time)).where(table.c.staff_no == staff_no)).scalar()
    if last is not None and pd.Timestamp(last) >= pd.Timestamp(when):
        when = pd.Timestamp(last).to_pydatetime() + timedelta(seconds=1)
    return when


def reassign_post(db, node: str, *, name: str, phone: str, reason: str = "", user: str,
                  today: date | None = None) -> Reassigned:
    """Put ``name`` (phone ``phone``) on tree node ``node``.

    ``node`` is a 责任人编号 (staff_no) of the tree, or a vacant node's key
    (``空缺:level:scope`` from :func:`fangkong_lib.domain.grids.grid_tree`),
    which gets a new staff row. The person's copies elsewhere follow: a
    党支部书记 in 行政村, a 自然村干部 in 自然村, a 联户党员 in 网格, a
    下沉乡干部 in the grids that name them. The change goes to the history
    with the previous person.

    Raises
    ------
    ActionError
        For an unknown node, a blank name, a bad phone, or no change.
    """
    node = _text(node)
    with transaction(db, GRID_SUBJECT, user=user) as tx:
        day = today or tx.today()
        if node.startswith(VACANT_PREFIX):
            current = _vacant_row(tx, node)
        else:
            current = tx.row("staff", staff_no=node)
            if current is None or current.get("level") not in GRID_LEVELS:
                raise ActionError.refused("node", "网格节点", "不是六级网格中的节点", node)
        old_name, old_phone = _text(current.get("name")), _text(current.get("phone"))
        record = tx.clean("staff", {**current, "name": name, "phone": phone}, villages=tx.villages(), today=day,
                          prefix="调整责任人：")
        if record["name"] == old_name and _text(record.get("phone")) == old_phone:
            raise ActionError.about("name", "新责任人", "新责任人与现任相同，无需调整", name)
        tx.upsert("staff", record)
        _follow(tx, record, old_name)
        when = _change_time(tx, day, record["staff_no"])
        history = tx.clean("grid_assignments", {
            "time": when, "staff_no": record["staff_no"], "level": record["level"], "scope": _scope_text(record),
            "old_name": old_name or None, "old_phone": old_phone or None, "new_name": record["name"],
            "new_phone": record.get("phone"), "reason": _text(reason) or None, "operator": tx.user,
        }, villages=None, today=day)
        tx.upsert("grid_assignments", history)
    was = f"（原为 {old_name}）" if old_name else "（原空缺）"
    return Reassigned(record["staff_no"],
                      f"已调整：{_scope_text(record)} {record['level']} 改由 {record['name']} 负责{was}")


def _scope_text(row) -> str:
    parts = [_text(row.get(k)) for k in ("village", "natural_village", "grid")]
    parts = [p for p in parts if p] or [_text(row.get("area"))]
    return " · ".join(p for p in parts if p) or "全乡"


def _vacant_row(tx: Tx, node: str) -> dict:
    """A new staff row for the vacant node ``空缺:level:scope``."""
    try:
        _, level, scope = node.split(":", 2)
    except ValueError:
        raise ActionError.refused("node", "网格节点", "不是六级网格中的节点", node) from None
    if level not in GRID_LEVELS:
        raise ActionError.refused("node", "网格节点", "不是六级网格中的节点", node)
    row: dict = {"level": level, "duty": {"党员联户": "联户党员", "党支部书记": "村党支部书记"}.get(level, level)}
    if level == "网格长":
        row["area"] = scope
    elif level == "党支部书记":
        village = tx.row("villages", name=scope)
        if village is None:
            raise ActionError.refused("node", "网格节点", "没有这个村", scope)
        row.update(village=scope, area=village.get("area"))
    elif level == "自然村干部":
        nat = tx.row("natural_villages", name=scope)
        if nat is None:
            raise ActionError.refused("node", "网格节点", "没有这个自然村", scope)
        row.update(village=nat["village"], natural_village=scope)
    elif level == "党员联户":
        grid = tx.row("grids", code=scope)
        if grid is None:
            raise ActionError.refused("node", "网格节点", "没有这个网格", scope)
        row.update(village=grid["village"], natural_village=grid["natural_village"], grid=scope)
    elif level == "下沉乡干部":
        naturals = scope.split("（")[0].split("、")
        nat = tx.row("natural_villages", name=naturals[0])
        if nat is None:
            raise ActionError.refused("node", "网格节点", "没有这个自然村", naturals[0])
        row.update(village=nat["village"], natural_village="、".join(naturals))
    table = store.TABLES["staff"]
    numbers = [_text(n) for (n,) in tx.conn.execute(sa.select(table.c.staff_no))]
    used = [int(n[1:]) for n in numbers if n[:1] == "S" and n[1:].isdigit()]
    row["staff_no"] = f"S{max(used, default=0) + 1:04d}"
    return row


def _follow(tx: Tx, person: dict, old_name: str) -> None:
    """The person's copies in the other ledgers follow the staff row."""
    level, name, phone = person["level"], person["name"], person.get("phone")
    if level == "党支部书记" and person.get("village"):
        if tx.row("villages", name=person["village"]) is not None:
            tx.upsert("villages", {"name": person["village"], "secretary": name, "secretary_phone": phone})
    elif level == "自然村干部" and person.get("natural_village"):
        for code in _codes(tx, "natural_villages", name=person["natural_village"]):
            tx.upsert("natural_villages", {"code": code, "cadre": name, "cadre_phone": phone})
    elif level == "党员联户" and person.get("grid"):
        if tx.row("grids", code=person["grid"]) is not None:
            tx.upsert("grids", {"code": person["grid"], "member": name, "member_phone": phone})
    elif level == "下沉乡干部" and person.get("village"):
        table = store.TABLES["grids"]
        cond = [table.c.village == person["village"]]
        if old_name:
            cond.append(table.c.cadre == old_name)
        else:  # a vacant node: the grids of its natural villages
            cond.append(table.c.natural_village.in_(_text(person.get("natural_village")).split("、")))
        for (code,) in tx.conn.execute(sa.select(table.c.code).where(*cond)).fetchall():
            tx.upsert("grids", {"code": code, "cadre": name})


def _codes(tx: Tx, key: str, **equal) -> list[str]:
    table = store.TABLES[key]
    cond = [table.c[k] == v for k, v in equal.items()]
    return [c for (c,) in tx.conn.execute(sa.select(table.c.code).where(*cond)).fetchall()]


def link_households(db, household_nos: Iterable[str], member_no: str, *, user: str) -> str:
    """Link the households ``household_nos`` to party member ``member_no``
    (党员联户), each grid's 已联户数 kept in step.

    Raises
    ------
    ActionError
        For no household chosen, an unknown member or household, or a
        household of another village than the member's (each named).
    """
    numbers = list(dict.fromkeys(_text(n) for n in household_nos if _text(n)))
    if not numbers:
        raise ActionError.about("household_no", "户编号", "请选择要联系的农户")
    with transaction(db, GRID_SUBJECT, user=user) as tx:
        member = tx.row("party_members", member_no=_text(member_no))
        if member is None:
            raise ActionError.refused("member_no", "联户党员编号", "不在联户党员名册中", member_no)
        problems, rows = [], []
        for number in numbers:
            row = tx.row("households", household_no=number)
            if row is None:
                problems.append(f"户编号「{number}」：没有这一户")
            elif _text(row.get("village")) != _text(member.get("village")):
                problems.append(f"户编号「{number}」：属于{row.get('village')}，联户党员 {member['name']} "
                                f"是{member.get('village')}的党员，应由本村党员联系")
            else:
                rows.append(row)
        if problems:
            raise ActionError("；".join(problems))
        changed = [r for r in rows if _text(r.get("member_no")) != member["member_no"]]
        for row in changed:
            tx.upsert("households", {"household_no": row["household_no"], "member_no": member["member_no"],
                                     "member": member["name"]})
        recount_grids(tx, {_text(r.get("grid")) for r in changed})
    if not changed:
        return f"所选农户已由 {member['name']} 联系，未变更"
    return f"已将 {len(changed)} 户交由联户党员 {member['name']}（{member['member_no']}）联系"


#: Ledgers whose rows (a form or an import) change each grid's 户数 and 已联户数.
COUNT_LEDGERS = ("households", "party_members")


def recount_grids(tx: Tx, codes: Iterable[str] | None = None) -> int:
    """Each grid's 户数 and 已联户数 from its household rows (a household is
    linked when its 联户党员编号 is on the roster), for ``codes`` (every grid
    with households when None); grids without household rows keep their own
    figures. Returns the number of grids changed."""
    households, members = store.TABLES["households"], store.TABLES["party_members"]
    on_roster = households.c.member_no.in_(sa.select(members.c.member_no))
    query = sa.select(households.c.grid, sa.func.count(),
                      sa.func.sum(sa.case((on_roster, 1), else_=0))).group_by(households.c.grid)
    if codes is not None:
        query = query.where(households.c.grid.in_(sorted(c for c in codes if c)))
    changed = 0
    for code, total, linked in tx.conn.execute(query).fetchall():
        if code and tx.row("grids", code=code) is not None:
            action = tx.upsert("grids", {"code": code, "households": int(total), "linked": int(linked or 0)})
            changed += action != "unchanged"
    return changed
