"""The gatherings (聚集管控) and publicity (宣传) page models, the overview's
new cards and the briefing's key places section, driven in-process on a demo
database of this module's own (the forms write)."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import pytest

from fangkong_lib.dataset import Dataset
from fangkong_lib.domain.places import CLOSED, FIX
from fangkong_lib.outputs.briefing import briefing_html, summarize_briefing
from fangkong_lib.ui.gatherings import GatheringsModel, GatheringsPage
from fangkong_lib.ui.models.overview import OverviewModel
from fangkong_lib.ui.publicity import PublicityModel, PublicityPage

UNMASKED_PHONE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")


@pytest.fixture(scope="module")
def data(tmp_path_factory, demo_db_copier) -> Dataset:
    path = demo_db_copier(tmp_path_factory.mktemp("community-pages"))
    return Dataset.load(path, reload=True)


def test_the_five_demo_funerals_and_the_demo_weddings_show(data):
    m = GatheringsModel(data)
    assert not m.error and m.kpis["funerals"] == 5
    assert m.kpis["gatherings"] == m.count == m.kpis["weddings"] + 5
    assert 0 < m.kpis["breaching"] < m.kpis["weddings"]  # some weddings break the rules, some keep them
    assert "不符合项" in m.table_html and "人数超过50人" in m.table_html
    assert not UNMASKED_PHONE.search(m.table_html)
    m.kind = "白事"
    assert m.count == 5 and m.kpis["breaching"] == 0 and m.table_html.count("<tr>") - 1 == 5


def test_gathering_filters_and_kpi_lists_agree(data):
    m = GatheringsModel(data)
    m.breaches_only = True
    assert m.count == m.kpis["breaching"] > 0
    assert all(m.table["breach_text"] != "")
    m.breaches_only = False
    m.state = "待审批"
    assert m.count == m.kpis["pending_village"] > 0
    m.state = ""
    m.open_kpi("refused")
    assert m.focus == "refused" and "不予批准" in m.focus_html
    m.open_kpi("enforcements")
    assert "综治办" in m.focus_html
    village = m.table["village"].iloc[0]
    before = m.map_html
    m.village = village
    assert set(m.table["village"]) == {village} and m.map_html != before
    with pytest.raises(Exception):
        m.state = "随便"


def test_a_late_oversized_wedding_is_saved_with_its_breaches_and_refused_approval(data):
    page = GatheringsPage(GatheringsModel(data))
    m = page.model
    m.operator = "测试员"
    raw = dict(host="钱多多", phone="13912345678", village=data.village_names[0], kind="红事", date=date(2022, 4, 9),
               place="家中", expected_people=60, tables=6, outside_guests=0, supervisor="张书记", pledge=True,
               supervised=False, separate_meals=False)
    assert m.report(raw, reported=(data.today, "09:00"))
    assert "报备不足3天、人数超过50人" in m.status and "报备不足3天" in m.breaches_html
    index = next(i for label, i in m.pending_options if label.startswith("钱多多"))
    assert not m.review(index, "村", approve=True)
    assert m.error and "不能批准" in m.status
    assert m.review(index, "村", approve=False, reason="劝导缓办")
    assert "不予批准" in m.status
    m.state = "不予批准"
    assert "钱多多" in m.table_html


def test_publicity_flags_the_lagging_villages_with_reasons(data):
    m = PublicityModel(data)
    assert not m.error and m.kpis["villages"] == 17
    assert m.kpis["behind"] == 4 and "宣传滞后" in m.status
    m.behind_only = True
    assert len(m.coverage) == 4 and all(m.coverage["reasons_text"] != "")
    assert "不足" in m.coverage_html
    m.open_kpi("behind")
    assert m.focus_html.count("<tr>") - 1 == 4
    m.behind_only = False
    m.channel = "宣传单"
    assert set(m.rows["channel"]) == {"宣传单"} and m.kpis["leaflet_households"] > 0


def test_publicity_form_refuses_what_an_import_refuses_and_saves_the_rest(data):
    page = PublicityPage(PublicityModel(data))
    m = page.model
    m.operator = "测试员"
    behind = m.coverage.loc[m.coverage["behind"], "village"].tolist()
    assert not m.record(dict(date=data.today, village=behind[0], channel="宣传单", topic="文明祭祀", quantity=10))
    assert "须填写覆盖户数" in m.status
    assert m.record(dict(date=data.today, village="柳湾村", channel="横幅标语", topic="文明祭祀", quantity=3))
    assert "已新增" in m.status


def test_the_overview_cards_open_the_gatherings_and_villages_they_count(data):
    m = OverviewModel(data)
    assert m.kpis["gatherings_breaching"] > 0 and m.kpis["publicity_behind"] == 4
    m.open_kpi("publicity_behind")
    assert m.focus_html.count("<tr>") - 1 == 4
    m.open_kpi("gatherings_breaching")
    assert m.focus_html.count("<tr>") - 1 == m.kpis["gatherings_breaching"] and "不符合项" in m.focus_html


def test_the_briefing_covers_key_places_and_inspections(data):
    b = summarize_briefing(data, data.today)
    inspected = data.ledgers["inspections"]
    today = inspected[pd.to_datetime(inspected["date"]).dt.date == data.today]
    lists = {a.key: a for a in b.places}
    assert lists["inspections"].count == len(today) == b.kpis["inspections_today"] > 0
    assert set(lists["inspections"].rows["场所名称"]) == set(today["place_name"])
    from fangkong_lib.domain.places import place_table
    table = place_table(data.ledgers["places"], inspected, data.today)
    ordered = table[table["status"].isin([FIX, CLOSED])]
    assert lists["under_order"].count == len(ordered) == b.kpis["places_under_order"] > 0
    page = briefing_html(b)
    assert "重点场所与检查" in page and "今日场所检查" in page and "限期整改与停业整改场所" in page
    assert ordered["name"].iloc[0] in page
    assert "红白事不符合防控规定" in page and "宣传滞后村" in page
