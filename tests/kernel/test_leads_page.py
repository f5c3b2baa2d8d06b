"""The leads page (线索核查) driven through its model and view, no browser:
filters and KPI cards, the map by grid, the verify and assign forms writing
through the actions, one person's leads; on a demo database of its own."""

from __future__ import annotations

import re

import pytest

from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.ui.leads import LeadsModel, LeadsPage

UNMASKED_ID = re.compile(r"(?<![\d*])411625\d{11}[\dX](?![\d*])")


@pytest.fixture(scope="module")
def data(tmp_path_factory, demo_db_copier) -> Dataset:
    path = demo_db_copier(tmp_path_factory.mktemp("leads-page"))
    return Dataset.load(path, reload=True)


def test_filters_kpis_and_the_lists_the_cards_open(data):
    m = LeadsModel(data)
    assert not m.error and m.count == m.kpis["total"] == len(data.ledgers["leads"])
    assert m.kpis["open"] > 0 and m.kpis["已逾期"] > 0 and m.kpis["待分派"] > 0
    assert not UNMASKED_ID.search(m.table_html) and "*" in m.table_html
    m.open_kpi("late:卡口")
    assert m.focus_title == f"卡口逾期（{m.kpis['late:卡口']}）"
    assert m.focus_html.count("<tr>") - 1 == m.kpis["late:卡口"] > 0
    m.source = "卡口"
    assert 0 < m.count < m.kpis["total"] + 1 and m.kpis["src:大数据推送"] == 0
    m.overdue = True
    assert m.count == m.table_html.count("<tr>") - 1 and set(m.rows["source"]) == {"卡口"}
    assert m.rows["overdue"].all()
    m.source, m.overdue = "", False
    village = m.rows["village"].dropna().iloc[0]
    before = m.map_html
    m.village = village
    assert set(m.rows["village"]) == {village} and m.map_html != before
    assert all(code.startswith(m.grid_options[1][1][:4]) for _, code in m.grid_options[1:])
    # the moment: earlier, fewer leads received and other statuses
    m.village = ""
    total = m.count
    m.at_text = "2022-04-01 12:00"
    assert m.count < total and "截至 2022-04-01 12:00" in m.status
    m.at_text = "昨天"
    assert m.error and "时点「昨天」" in m.status


def test_a_lead_is_assigned_then_verified_into_the_returnee_workflow(data):
    page = LeadsPage(LeadsModel(data))
    m = page.model
    m.operator = "王干事"
    m.lead_status = "待分派"
    lead_no = m.lead_options[0][1]
    lead = data.ledgers["leads"].set_index("lead_no").loc[lead_no]
    page._lead.value = lead_no
    assert lead["name"] in m.detail_html
    grid = m._grids(lead["village"])[0][1] if lead["village"] else m._grids()[0][1]
    page._to_grid.value = grid
    page._on_assign()
    assert not m.error and f"分派到" in m.status and grid in m.status
    m.lead_status = ""
    page._lead.value = lead_no
    page._outcome.value = "已核实在本地"
    page._risk.value = "省外低风险地区"
    page._on_verify()
    assert not m.error, m.status
    assert "已办结：已核实在本地" in m.status and "已登记报备" in m.status
    stored = store.load_ledger(data.engine, "leads").set_index("lead_no").loc[lead_no]
    assert (stored["outcome"], stored["verifier"], stored["returnee"]) == ("已核实在本地", "王干事", True)
    person = data.ledgers["returnees"].set_index("id_number").loc[lead["id_number"]]
    arrived = lead["received_at"].date() if lead["source"] == "卡口" else data.today  # seen at the checkpoint
    assert person["grid"] == grid and person["actual_arrival"].date() == arrived
    assert lead_no not in {n for _, n in m.lead_options}  # closed: no longer offered
    assert lead_no in m.detail_html and "已在返乡台账" in m.detail_html  # the person's history keeps it
    page._lead.value = m.lead_options[0][1]
    m.operator = ""
    page._on_verify()
    assert m.error and "操作人" in m.status
