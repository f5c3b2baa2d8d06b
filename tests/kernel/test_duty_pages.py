"""The checkpoint page's model (卡口值守) driven by setting traits and calling
its form methods — no browser. It writes, so it runs on a demo database of
this module's own."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.ingest.normalize import id_check_char
from fangkong_lib.ui.checkpoints import CheckpointsModel, CheckpointsPage

UNMASKED_PHONE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")
UNMASKED_ID = re.compile(r"(?<![\d*])\d{17}[\dX](?![\d*])")
DAY = date(2022, 4, 7)


@pytest.fixture(scope="module")
def data(tmp_path_factory, demo_db_copier) -> Dataset:
    path = demo_db_copier(tmp_path_factory.mktemp("duty-pages"))
    return Dataset.load(path, reload=True)


def test_the_night_shift_shows_who_is_on_and_where_it_is_short(data):
    m = CheckpointsModel(data, hour=23)
    assert not m.error and m.day == DAY
    assert m.kpis["checkpoints"] == 8
    assert set(m.now["shift"]) == {"夜班"} and len(m.now) == 8
    short = m.now[m.now["missing"] > 0]
    assert list(zip(short["post"], short["reason"])) == [("东环路卡点", "缺1人（缺民警或医护）")]
    assert m.kpis["short_now"] == 1 and m.kpis["gaps"] == 2
    assert m.kpis["on_duty"] == int(m.now["assigned"].sum())
    assert "缺1人（缺民警或医护）" in m.now_html and "fk-gap-cell" in m.roster_html
    # at 03:00 on the 8th the 7th's night shift is still on duty
    m.day, m.hour = date(2022, 4, 8), 3
    assert set(m.now["date"]) == {DAY} and m.kpis["short_now"] == 1


def test_filters_move_kpis_tables_and_map_together(data):
    m = CheckpointsModel(data, hour=10)
    total, map_before = m.kpis["checked"], m.map_html
    assert total == len(m.logs) > 0
    assert m.hours_html.count("<tr>") - 1 == 25  # 24 hours and 合计
    m.checkpoint = "郸城东收费站卡点"
    assert m.kpis["checkpoints"] == 1 and set(m.logs["checkpoint"]) <= {"郸城东收费站卡点"}
    assert m.kpis["checked"] < total and m.map_html != map_before
    assert len(m.roster) == 3
    m.checkpoint, m.shift = "", "夜班"
    assert len(m.roster) == 8 and set(m.logs["shift"]) <= {"夜班"}
    m.shift, m.outcome = "", "劝返"
    assert m.kpis["checked"] == m.kpis["turned_back"] == len(m.logs)
    with pytest.raises(Exception, match="未知的卡口"):
        m.checkpoint = "<script>"


def test_logs_are_masked_and_a_kpi_card_opens_its_rows(data):
    m = CheckpointsModel(data, hour=10)
    assert not UNMASKED_PHONE.search(m.logs_html) and not UNMASKED_ID.search(m.logs_html)
    assert re.search(r"1\d{2}\*{4}\d{4}", m.logs_html)
    m.open_kpi("unregistered")
    assert m.focus_title == f"未报备（{m.kpis['unregistered']}）"
    assert m.focus_html.count("<tr>") - 1 == m.kpis["unregistered"]
    assert ">否<" in m.focus_html and ">是<" not in m.focus_html.split("现场采样")[0]


def test_assigning_and_removing_from_the_page(data):
    m = CheckpointsModel(data, hour=23)
    raw = dict(day=DAY, post="东环路卡点", shift="夜班", name="赵警官", phone="13800000009", role="民警")
    assert not m.assign(**raw)  # no operator
    assert m.error and "请先填写操作人" in m.status
    m.operator = "值班员"
    assert not m.assign(**raw | {"shift": "白班"})
    assert m.error and "卡口的班次为 早班、中班、夜班" in m.status
    assert m.assign(**raw)
    assert not m.error and "已排班" in m.status
    assert m.kpis["short_now"] == 0 and "赵警官" in m.people_on(DAY, "东环路卡点", "夜班")
    assert m.unassign(day=DAY, post="东环路卡点", shift="夜班", name="赵警官")
    assert m.kpis["short_now"] == 1


def test_recording_a_log_row_from_the_page(data):
    m = CheckpointsModel(data, hour=16, operator="卡口值班员")
    before, open_before = m.kpis["checked"], m.kpis["leads_open"]
    first17 = "41162519900101123"
    raw = dict(time="2022-04-07 16:30", checkpoint="东环路卡点", name="张三", id_number=first17 + id_check_char(first17),
               phone="13800000001", destination=data.village_names[0], pre_registered="否", sampled="是",
               outcome="临时隔离", temperature="36.6")
    assert not m.record_log(raw | {"temperature": "52"})
    assert m.error and "体温" in m.status and m.kpis["checked"] == before
    assert m.record_log(raw)
    assert not m.error and "卡点登记：已新增" in m.status
    assert m.kpis["checked"] == before + 1
    # not pre-registered and heading into the township: a lead, open, due within 24 h
    row = m.logs[m.logs["name"] == "张三"].iloc[0]
    assert row["lead_status"] in ("待分派", "待核查") and row["deadline"] == pd.Timestamp("2022-04-08 16:30")
    assert m.kpis["leads_open"] == open_before + 1 and "张三" in m.leads_html and row["lead_no"] in m.leads_html
    audit = store.load_audit(data.engine, "checkpoint_logs")
    assert audit.iloc[-1]["user"] == "卡口值班员"


def test_the_page_builds_and_its_exports_hold_the_rows_shown(data):
    page = CheckpointsPage(CheckpointsModel(data, hour=23))
    assert page.title == "卡口值守"
    logs, shifts, map_bar = page.export_bar()
    key, frame = logs._rows()
    assert key == "checkpoint_logs" and len(frame) == page.model.kpis["checked"]
    key, frame = shifts._rows()
    assert key == "duty_shifts" and set(frame["post"]) <= set(page.model.roster["post"])
    assert len(frame) == int(page.model.roster["assigned"].sum())


# -- 医疗哨点 ------------------------------------------------------------------------------------

from fangkong_lib.ui.sentinels import SentinelsModel, SentinelsPage  # noqa: E402


def test_the_health_centre_clinics_and_pharmacies_are_the_sentinels(data):
    m = SentinelsModel(data)
    assert (m.start, m.end) == (date(2022, 4, 1), DAY)
    categories = m.sentinels["category"].value_counts().to_dict()
    assert categories["卫生院"] == 1 and set(categories) == {"卫生院", "诊所", "药店"}
    assert m.sentinels.iloc[0]["name"] == "城郊乡卫生院"
    assert m.kpis["sentinels"] == len(m.sentinels)
    assert m.kpis["buyers"] == len(m.buyers) == m.kpis["pending"] + m.kpis["done"] + m.kpis["abnormal"]
    assert m.kpis["pending"] > 0 and m.kpis["done"] > 0  # buyers with and without their follow-up test
    assert not UNMASKED_PHONE.search(m.buyers_html + m.sentinels_html)
    assert not UNMASKED_ID.search(m.buyers_html)


def test_sentinel_filters_move_kpis_tables_and_map(data):
    m = SentinelsModel(data)
    total, map_before = m.kpis["buyers"], m.map_html
    m.followup = "待核酸"
    assert m.kpis["buyers"] == m.kpis["pending"] < total and set(m.buyers["followup"]) == {"待核酸"}
    assert m.map_html != map_before
    m.followup, m.drug_class = "", "退热"
    assert set(m.buyers["drug_class"]) == {"退热"}
    by_day = m.by_day_html
    assert by_day.count("<tr>") - 1 == 8  # seven days and 合计
    m.drug_class = ""
    outlet = m.buyers["outlet"].iloc[0]
    m.outlet = outlet
    assert m.kpis["sentinels"] == 1 and set(m.buyers["outlet"]) == {outlet}
    m.open_kpi("buyers")
    assert m.focus_html.count("<tr>") - 1 == m.kpis["buyers"]
    m.start = date(2022, 4, 9)
    assert m.error and "开始日期晚于结束日期" in m.status


def test_recording_a_purchase_lists_it_waiting_for_its_test(data):
    m = SentinelsModel(data, operator="哨点医生")
    before = m.kpis["pending"]
    first17 = "41162519850505123"
    raw = dict(date=DAY, outlet="城郊乡卫生院", name="李四", id_number=first17 + id_check_char(first17),
               phone="13900000002", village=data.village_names[1], drug="布洛芬缓释胶囊", drug_class="退热",
               temperature="37.8")
    assert not m.record_purchase(raw | {"phone": "12345"})
    assert m.error and "手机号" in m.status and m.kpis["pending"] == before
    assert m.record_purchase(raw)
    assert not m.error and "已新增" in m.status
    assert m.kpis["pending"] == before + 1
    row = m.buyers[m.buyers["name"] == "李四"].iloc[0]
    assert (row["outlet"], row["followup"]) == ("城郊乡卫生院", "待核酸")
    # the purchase raised a lead: a test due within 72 h (counted from noon of the day)
    assert row["lead_status"] in ("待分派", "待核查") and row["deadline"] == pd.Timestamp("2022-04-10 12:00")
    assert m.sentinels.set_index("name").loc["城郊乡卫生院", "pending"] == 1
    page = SentinelsPage(m)
    key, frame = page.export_bar()[0]._rows()
    assert key == "drug_buyers" and len(frame) == m.kpis["buyers"]


def test_a_fever_report_raises_a_lead_due_the_same_day(data):
    m = SentinelsModel(data, operator="哨点医生")
    before = (m.kpis["fevers"], m.kpis["fevers_open"])
    first17 = "41162519770303123"
    raw = dict(reported_at="2022-04-07 09:30", clinic="城郊乡卫生院", name="王五", id_number=first17 + id_check_char(first17),
               phone="13700000003", village=data.village_names[2], temperature="38.4", symptoms="咳嗽")
    assert not m.record_fever(raw | {"temperature": "45"})
    assert m.error and "体温" in m.status
    assert m.record_fever(raw)
    assert (m.kpis["fevers"], m.kpis["fevers_open"]) == (before[0] + 1, before[1] + 1)
    row = m.fevers[m.fevers["name"] == "王五"].iloc[0]
    assert row["lead_status"] in ("待分派", "待核查") and row["deadline"].date() == DAY
    assert "王五" in m.fevers_html and m.sentinels.set_index("name").loc["城郊乡卫生院", "fevers"] >= 1
    assert not UNMASKED_PHONE.search(m.fevers_html) and not UNMASKED_ID.search(m.fevers_html)


def test_the_overview_shows_checkpoint_gaps_and_sentinel_figures(data):
    from fangkong_lib.ui.overview import OverviewModel, OverviewPage

    page = OverviewPage(OverviewModel(data))
    m = page.model
    checkpoints = CheckpointsModel(data, hour=12)
    # one card for the checkpoints' short shifts (the one fist fills them), the page's own count
    assert m.kpis["checkpoint_short_shifts"] == checkpoints.kpis["gaps"] > 0
    assert "checkpoint_gaps" not in m.kpis
    assert m.kpis["fevers_today"] >= 1 and m.kpis["buyers_untested"] > 0
    assert 'data-kpi="checkpoint_short_shifts"' in page._kpis.value
    m.open_kpi("checkpoint_short_shifts")
    assert m.focus_title == f"卡口缺员班次（{m.kpis['checkpoint_short_shifts']}）" and "S207省道卡点" in m.focus_html
    m.open_kpi("buyers_untested")
    assert m.focus_html.count("<tr>") - 1 == m.kpis["buyers_untested"]
    assert not UNMASKED_PHONE.search(m.focus_html) and not UNMASKED_ID.search(m.focus_html)
