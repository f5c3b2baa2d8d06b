"""The duty roster's writes (值班排班): putting a person on a shift and
taking them off it.

A shift assignment is a plain ``duty_shifts`` row, validated like an import
of that ledger, plus the rules a ledger field cannot state: the post must be
a known post (``duty_posts``), the shift one of its kind's shifts
(``policy/duty.toml``), and nobody can be on two posts at the same time.
Posts themselves are saved with :func:`~.records.save_record`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Mapping

import sqlalchemy as sa

from .. import store
from ..domain.duty import shifts_for
from ..ingest.validate import Problem
from ..ledgers import get_ledger
from ..policy.duty import load_duty_policy
from .base import ActionError, as_date, transaction

__all__ = ["assign_duty", "unassign_duty"]

SUBJECT = "duty"
_WORDS = {"inserted": "已排班", "updated": "已更新", "unchanged": "内容未变，未写入"}


def _post_kind(tx, post: str) -> str:
    found = tx.row("duty_posts", name=post)
    if found is None:
        raise ActionError.refused("post", "点位", "不是已登记的值守点位（请先在值守点位表中登记）", post)
    return found["kind"]


def assign_duty(db, raw: Mapping, *, user: str, today: date | None = None) -> str:
    """Put one person on one shift of one post on one day (a ``duty_shifts``
    row: 日期, 点位, 班次, 姓名, 联系电话, 身份, 备注), audited.

    Refused, with nothing written, when a field is invalid, the post is not
    registered, the shift is not one of its kind's, or the same person
    (same name and phone) is already on another post's shift that overlaps.
    Returns the message to show.
    """
    policy = load_duty_policy()
    with transaction(db, SUBJECT, user=user) as tx:
        day = today or tx.today()
        record = tx.clean("duty_shifts", raw, villages=None, today=day)
        kind = _post_kind(tx, record["post"])
        shifts = shifts_for(kind, policy)
        shift = next((s for s in shifts if s.name == record["shift"]), None)
        if shift is None:
            names = "、".join(s.name for s in shifts) or "（该类点位不排班）"
            raise ActionError.refused("shift", "班次", f"{kind}的班次为 {names}", record["shift"])
        begin, end = shift.span(record["date"])
        table = store.TABLES["duty_shifts"]
        one_day = timedelta(days=1)
        near = tx.frame("duty_shifts", table.c.name == record["name"],
                        table.c.date.between(record["date"] - one_day, record["date"] + one_day))
        for other in near.to_dict("records"):
            if other["post"] == record["post"] and other["shift"] == record["shift"] \
                    and as_date(other["date"]) == record["date"]:
                continue
            if record.get("phone") and other.get("phone") and other["phone"] != record["phone"]:
                continue  # a namesake
            other_post = tx.row("duty_posts", name=other["post"])
            other_shift = next((s for s in shifts_for(other_post["kind"], policy) if s.name == other["shift"]),
                               None) if other_post else None
            if other_shift is None:
                continue
            o_begin, o_end = other_shift.span(as_date(other["date"]))
            if o_begin < end and begin < o_end:
                raise ActionError.of([Problem(
                    "name", "姓名", record["name"],
                    f"{as_date(other['date']):%m月%d日} 已在 {other['post']} 值{other['shift']}，时间重叠")],
                    "值班排班：")
        action = tx.upsert("duty_shifts", record)
    return f"{get_ledger('duty_shifts').label}：{record['name']} {record['date']:%m月%d日} {record['post']} " \
           f"{record['shift']} {_WORDS.get(action, action)}"


def unassign_duty(db, day, post: str, shift: str, name: str, *, user: str) -> str:
    """Take a person off a shift (the row is deleted, the audit keeps it)."""
    day = as_date(day)
    with transaction(db, SUBJECT, user=user) as tx:
        table = store.TABLES["duty_shifts"]
        key = dict(date=day, post=post, shift=shift, name=(name or "").strip())
        found = tx.row("duty_shifts", **key)
        if found is None:
            raise ActionError.about("name", "姓名", f"{day:%m月%d日} {post} {shift} 没有排 {name}", name)
        tx.conn.execute(table.delete().where(*(table.c[k] == v for k, v in key.items())))
        store.audit(tx.conn, user=tx.user, ledger="duty_shifts", action="delete",
                    row_key={k: str(v) for k, v in key.items()}, before=found)
        tx.touched.add("duty_shifts")
    return f"值班排班：已撤下 {name} {day:%m月%d日} {post} {shift}"
