"""The 党员志愿者 page's model and view in-process (no browser), on a demo
database of this module's own (the forms write)."""

from __future__ import annotations

import re

import pytest

from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.ui.models.overview import OverviewModel
from fangkong_lib.ui.volunteers import VolunteersModel, VolunteersPage

UNMASKED_PHONE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")
RAW_ID = re.compile(r"\d{17}[\dX]")
XSS = '<img src=x onerror="alert(1)">${alert(2)}`'


@pytest.fixture(scope="module")
def data(tmp_path_factory, demo_db_copier) -> Dataset:
    path = demo_db_copier(tmp_path_factory.mktemp("volunteers-page"))
    store.upsert_row(store.get_engine(str(path)), "volunteers", {"volunteer_no": "ZY0376", "name": XSS},
                     user="test")
    return Dataset.load(path, reload=True)


def rows_in(html: str) -> int:
    return html.count("<tr>") - 1 if "<tr>" in html else 0


def test_the_roster_counts_the_township_s_teams(data):
    m = VolunteersModel(data)
    assert not m.error, m.status
    k = m.kpis
    assert (k["service"], k["probationary"], k["activists"]) == (376, 31, 46)
    assert k["assault"] > 0 and k["hours"] > 0
    assert k["households"] > 0 and 0 < k["households_missing"] < k["households"]  # the demo leaves two short
    assert k["short_shifts"] > 0
    assert rows_in(m.table_html) == m.count == k["assault"] + k["service"]
    assert not UNMASKED_PHONE.search(m.table_html) and not RAW_ID.search(m.households_html)
    assert XSS not in m.table_html and "&lt;img src=x" in m.table_html and "<img src=x" not in m.map_html


def test_filters_move_kpis_tables_and_map_together(data):
    m = VolunteersModel(data)
    before = m.kpis, m.map_html
    m.village = data.village_names[0]
    assert 0 < m.count < before[0]["service"] and set(m.rows["village"]) == {data.village_names[0]}
    assert m.map_html != before[1]
    m.village, m.category = "", "预备党员"
    assert m.count == 31 and m.kpis["probationary"] == 31 and m.kpis["assault"] == 0
    m.category, m.state = "", "未派驻"
    assert m.count == before[0]["unassigned"] > 0 and set(m.rows["state"]) == {"未派驻"}
    m.state, m.post = "", "代购员"
    assert set(m.rows["post"]) == {"代购员"}
    with pytest.raises(Exception, match="未知的岗位"):
        m.post = "送菜员"


def test_every_kpi_card_opens_the_rows_it_counts(data):
    m = VolunteersModel(data)
    page = VolunteersPage(m)
    for key in m.kpis:
        assert key in m.kpi_lists
        page._kpis.click(key)
        expected = m.count if key == "hours" else int(m.kpis[key])
        assert rows_in(page._focus_body.value) == min(expected, 500), key
        assert not RAW_ID.search(page._focus_body.value), key
        page._kpis.click(key)


def test_posting_a_buyer_from_the_page_clears_the_flag_here_and_on_the_overview(data):
    m = VolunteersModel(data)
    short = m.households[m.households["reason"].str.contains("缺代购员")]
    assert len(short), "the demo leaves a household without a 代购员"
    person = short.iloc[0]
    volunteer = [no for no, v, p in zip(m.rows["volunteer_no"], m.rows["village"], m.rows["post"])
               if v == person["village"] and p == "代购员"][0]
    assert not m.assign(volunteer, "居家隔离户", person["id_number"], "代购员")  # no operator
    assert m.error and "操作人" in m.status
    m.operator = "志愿者管理员"
    missing = m.kpis["households_missing"]
    overview = OverviewModel(data).kpis["volunteer_households"]
    assert m.assign(volunteer, "居家隔离户", person["id_number"], "代购员"), m.status
    assert "已派驻" in m.status and m.kpis["households_missing"] == missing - 1
    row = m.households.set_index("id_number").loc[person["id_number"]]
    assert "缺代购员" not in row["reason"]
    assert OverviewModel(data).kpis["volunteer_households"] == overview - 1
    assert not m.assign(volunteer, "居家隔离户", person["id_number"], "代购员")  # twice: refused
    assert m.error and "无需重复派驻" in m.status


def test_hours_and_a_new_volunteer_from_the_page(data):
    m = VolunteersModel(data, operator="志愿者管理员")
    number = m.rows["volunteer_no"].iloc[3]
    before = float(m.rows.set_index("volunteer_no").loc[number, "hours"])
    assert m.log_hours(number, 2.5), m.status
    assert float(m.rows.set_index("volunteer_no").loc[number, "hours"]) == before + 2.5
    count = m.count
    assert m.save_volunteer(dict(name="新志愿者", phone="13900001111", village=data.village_names[1], post="消杀员",
                                 team="基层党员服务队", identity="教师")), m.status
    assert m.count == count + 1 and m.kpis["unassigned"] >= 1
