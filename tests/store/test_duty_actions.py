"""The duty roster's writes on SQLite and PostgreSQL: a person put on a
shift closes the gap, audited; an unknown post, a shift the post's kind does
not have, and a person already on an overlapping shift elsewhere are refused
with nothing written; taking someone off reopens the gap."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

import fangkong_lib.actions as A
from fangkong_lib import store
from fangkong_lib.domain.duty import on_duty, roster_gaps

DAY = date(2022, 4, 7)


@pytest.fixture
def engine(migrated_db_url):
    engine = store.get_engine(migrated_db_url)
    store.init_db(engine)
    store.write_ledger(engine, "duty_posts", pd.DataFrame([
        dict(name="城郊乡疫情防控指挥部", kind="指挥部", lon=115.19, lat=33.64),
        dict(name="东环路卡点", kind="卡口", lon=115.2, lat=33.63),
    ]), user="setup")
    store.write_ledger(engine, "duty_shifts", pd.DataFrame([
        dict(date=DAY, post="东环路卡点", shift="夜班", name="张伟", phone="13800000001", role="乡干部"),
        dict(date=DAY, post="东环路卡点", shift="夜班", name="李娜", phone="13800000002", role="志愿者"),
        dict(date=DAY, post="城郊乡疫情防控指挥部", shift="夜班", name="王强", phone="13800000003", role="乡干部"),
    ]), user="setup")
    store.set_meta(engine, today=DAY.isoformat())
    yield engine
    engine.dispose()


def gaps(engine):
    frames = store.load_ledgers(engine, ["duty_posts", "duty_shifts"])
    table = roster_gaps(frames["duty_posts"], frames["duty_shifts"], DAY)
    return {(r.post, r.shift): r.reason for r in table.itertuples()}


def test_assigning_the_missing_police_officer_closes_the_gap(engine):
    assert gaps(engine)[("东环路卡点", "夜班")] == "缺1人（缺民警或医护）"
    message = A.assign_duty(engine, dict(date="2022-04-07", post="东环路卡点", shift="夜班", name="赵警官",
                                         phone="13800000009", role="民警"), user="值班员")
    assert "赵警官" in message and "已排班" in message
    assert ("东环路卡点", "夜班") not in gaps(engine)
    frames = store.load_ledgers(engine, ["duty_posts", "duty_shifts"])
    now = on_duty(frames["duty_posts"], frames["duty_shifts"], datetime(2022, 4, 8, 2, 0))
    assert now.set_index("post").loc["东环路卡点", "names"] == "张伟、李娜、赵警官"
    audit = store.load_audit(engine, "duty_shifts")
    assert audit.iloc[-1]["user"] == "值班员" and audit.iloc[-1]["action"] == "insert"


@pytest.mark.parametrize("raw, message", [
    (dict(post="西环路卡点", shift="夜班"), "点位「西环路卡点」：不是已登记的值守点位"),
    (dict(post="东环路卡点", shift="白班"), "班次「白班」：卡口的班次为 早班、中班、夜班"),
    (dict(post="东环路卡点", shift="夜班", phone="1380000"), "联系电话"),
    (dict(post="东环路卡点", shift="夜班", role="保安"), "身份"),
    (dict(post="东环路卡点", shift="夜班", date="2021-13-01"), "日期"),
    # 王强 is on the HQ night shift (20:00–08:00): the checkpoint night shift overlaps it
    (dict(post="东环路卡点", shift="夜班", name="王强", phone="13800000003"), "已在 城郊乡疫情防控指挥部 值夜班，时间重叠"),
])
def test_refused_assignments_write_nothing(engine, raw, message):
    base = dict(date="2022-04-07", name="赵警官", phone="13800000009", role="民警")
    before = (store.count_rows(engine, "duty_shifts"), len(store.load_audit(engine)))
    with pytest.raises(A.ActionError, match=message):
        A.assign_duty(engine, base | raw, user="值班员")
    assert (store.count_rows(engine, "duty_shifts"), len(store.load_audit(engine))) == before


def test_a_namesake_with_another_phone_is_not_a_clash(engine):
    A.assign_duty(engine, dict(date="2022-04-07", post="东环路卡点", shift="夜班", name="王强",
                               phone="13900000000", role="民警"), user="值班员")
    assert ("东环路卡点", "夜班") not in gaps(engine)


def test_the_early_shift_after_a_night_shift_does_not_overlap(engine):
    A.assign_duty(engine, dict(date="2022-04-08", post="东环路卡点", shift="早班", name="张伟",
                               phone="13800000001", role="乡干部"), user="值班员")
    assert store.count_rows(engine, "duty_shifts") == 4


def test_taking_someone_off_reopens_the_gap_and_is_audited(engine):
    A.unassign_duty(engine, DAY, "东环路卡点", "夜班", "李娜", user="值班员")
    assert gaps(engine)[("东环路卡点", "夜班")] == "缺2人（缺民警或医护、缺志愿者或党员）"
    assert store.load_audit(engine, "duty_shifts").iloc[-1]["action"] == "delete"
    with pytest.raises(A.ActionError, match="没有排 李娜"):
        A.unassign_duty(engine, DAY, "东环路卡点", "夜班", "李娜", user="值班员")
