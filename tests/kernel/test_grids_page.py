"""The grid-responsibility page (网格责任) driven in-process: filters move
KPIs, tree, table and map together; KPI cards open masked lists; the two
forms write through the widgets and the page shows the change. It writes,
so it runs on a demo database of this module's own."""

from __future__ import annotations

import re

import pytest

from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.ui.grids import GridsModel, GridsPage
from fangkong_lib.ui.overview import OverviewModel, OverviewPage

UNMASKED_PHONE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")
BEHIND_VILLAGE = "杨湖村"  # behind in the demo township


@pytest.fixture(scope="module")
def data(tmp_path_factory, demo_db_copier) -> Dataset:
    path = demo_db_copier(tmp_path_factory.mktemp("grids-page"))
    return Dataset.load(path, reload=True)


def test_filters_move_kpis_tree_and_map_together(data):
    m = GridsModel(data)
    assert not m.error and m.kpis["households"] == data.ledgers["villages"]["households"].sum()
    assert m.kpis["unlinked"] == m.kpis["households"] - m.kpis["linked"] > 0
    assert m.kpis["overloaded"] > 0 and m.kpis["vacant"] == 0 and m.kpis["behind_grids"] > 0
    assert m.tree_html.count("fk-tree-village") == 17 and len(m.node_options) == 569
    before = dict(m.kpis), m.map_html
    m.village = BEHIND_VILLAGE
    assert m.kpis["coverage"] < 90 < before[0]["coverage"] and m.map_html != before[1]
    assert m.tree_html.count("fk-tree-village") == 1 and BEHIND_VILLAGE in m.coverage_html
    natural = m.natural_village_options[1][1]
    m.natural_village = natural
    assert 0 < len(m.grid_table) < 10 and set(m.grid_table["natural_village"]) == {natural}
    m.level = "党员联户"
    assert {label.split(" · ")[0] for label, _ in m.node_options} == {"党员联户"}
    m.village = data.village_names[0]  # another village: the natural village no longer applies
    assert m.natural_village == "" and not m.error
    m.village, m.level = "", ""
    m.coverage_state = "滞后"
    assert set(m.grid_table["state"]) == {"滞后"} and len(m.grid_table) == before[0]["behind_grids"]


def test_kpi_cards_open_masked_lists(data):
    m = GridsModel(data)
    for key in m.kpi_lists:
        m.open_kpi(key)
        assert m.focus == key and not m.error, key
        assert not UNMASKED_PHONE.search(m.focus_html), key
    m.open_kpi("unlinked")
    assert m.focus_html.count("<tr>") - 1 == min(500, m.kpis["unlinked"]) and "未联户" in m.focus_html
    m.open_kpi("overloaded")
    assert m.focus_html.count("<tr>") - 1 == m.kpis["overloaded"]
    assert not UNMASKED_PHONE.search(m.tree_html) and not UNMASKED_PHONE.search(m.history_html)
    assert "原联户党员外出务工" in m.history_html


def test_the_exported_map_masks_the_names_the_page_shows(data):
    import json

    from fangkong_lib.ingest.normalize import mask_name

    m = GridsModel(data, village=BEHIND_VILLAGE)
    secretary = data.ledgers["villages"].set_index("name").loc[BEHIND_VILLAGE, "secretary"]
    name = json.dumps(f"党支部书记：{secretary}")[1:-1]  # as the map's GeoJSON writes it
    masked = json.dumps(f"党支部书记：{mask_name(secretary)}")[1:-1]
    assert name in m.map_html and masked not in m.map_html
    exported = m.export_map_html()
    assert name not in exported and masked in exported


def test_linking_through_the_form_raises_coverage_on_page_and_map(data):
    page = GridsPage(GridsModel(data, village=BEHIND_VILLAGE))
    m = page.model
    m.operator = "杨湖村支书"
    before = dict(m.kpis)
    grid = page._grid.value
    unlinked = [v for label, v in page._households.options if "未联户" in label]
    assert grid and len(unlinked) >= 2
    page._households.value = tuple(unlinked[:2])
    member = page._member.value = page._member.options[0][1]
    page._link_save.click()
    assert not m.error, m.status
    assert m.kpis["linked"] == before["linked"] + 2 and m.kpis["coverage"] > before["coverage"]
    households = data.ledgers["households"].set_index("household_no")
    assert households.loc[unlinked[0], "member_no"] == member == page._member.value  # still chosen
    assert store.load_ledger(data.engine, "grids").set_index("code").loc[grid, "linked"] == \
        m.grid_table.set_index("code").loc[grid, "linked"]
    # a household of another village is refused, and the page says so
    other = data.ledgers["households"].query("village != @BEHIND_VILLAGE")["household_no"].iloc[0]
    assert not m.link([other], page._member.value) and m.error and "应由本村党员联系" in m.status


def test_reassigning_through_the_form_shows_in_tree_history_and_overview(data):
    page = GridsPage(GridsModel(data, village=BEHIND_VILLAGE, level="自然村干部"))
    m = page.model
    node = page._node.value
    page._new_name.value, page._new_phone.value, page._reason.value = "新村干", "13912345678", "原干部调任"
    page._reassign_save.click()
    assert m.error and "操作人" in m.status  # nobody named as 操作人: nothing saved
    m.operator = "乡组织办"
    page._reassign_save.click()
    assert not m.error, m.status
    assert "新村干" in m.tree_html and "原干部调任" in m.history_html and "乡组织办" in m.history_html
    staff = store.load_ledger(data.engine, "staff").set_index("staff_no")
    assert staff.loc[node, "name"] == "新村干"
    naturals = data.ledgers["natural_villages"]
    assert "新村干" in set(naturals["cadre"])
    assert page._new_name.value == ""  # the form is cleared after a save
    overview = OverviewPage(OverviewModel(data, village=BEHIND_VILLAGE))
    assert overview.model.kpis["grid_unlinked"] == m.kpis["unlinked"] > 0
    assert overview.model.kpis["grid_incomplete"] == (m.grid_table["unlinked"] > 0).sum() > 0
    cards = overview._kpis.value  # the cards the overview shows
    assert 'data-kpi="grid_unlinked"' in cards and 'data-kpi="grid_incomplete"' in cards and "未全覆盖" in cards
    overview.model.open_kpi("grid_unlinked")
    assert overview.model.focus_html.count("<tr>") - 1 == min(200, m.kpis["unlinked"])
    assert BEHIND_VILLAGE in overview.model.focus_html and not UNMASKED_PHONE.search(overview.model.focus_html)


def test_the_export_bars_give_the_grids_with_their_counts_and_the_households_masked(data):
    import base64
    import io

    import openpyxl

    from fangkong_lib.ui.exportbar import ExportBar

    page = GridsPage(GridsModel(data, village=BEHIND_VILLAGE))
    bars, stack = [], list(page.children)
    while stack:
        widget = stack.pop(0)
        bars += [widget] if isinstance(widget, ExportBar) else []
        stack += list(getattr(widget, "children", ()))
    assert len(bars) == 2

    def sheet(bar):
        href = re.search(r'href="data:[^;]+;base64,([^"]+)"', bar.export(".xlsx")).group(1)
        return openpyxl.load_workbook(io.BytesIO(base64.b64decode(href))).active

    grids = sheet(bars[0])
    header = [c.value for c in grids[2]]
    rows = list(grids.iter_rows(min_row=3, values_only=True))
    assert {"户数", "已联户数"} <= set(header) and len(rows) == len(page.model.grid_table)
    assert sum(r[header.index("户数")] for r in rows) == page.model.kpis["households"]
    assert sum(r[header.index("已联户数")] for r in rows) == page.model.kpis["linked"]
    households = sheet(bars[1])
    assert households.max_row - 2 == page.model.kpis["households"] and "脱敏" in households["A1"].value
    text = " ".join(str(c) for row in households.iter_rows(values_only=True) for c in row)
    assert not UNMASKED_PHONE.search(text)


def test_only_the_pages_that_need_the_households_read_them(data):
    fresh = Dataset.load(data.url, reload=True)
    OverviewModel(fresh)  # its coverage cards come from the grids' counts
    assert "households" not in fresh.ledgers.loaded()
    GridsModel(fresh)
    assert "households" in fresh.ledgers.loaded() and len(fresh.ledgers["households"]) == fresh.ledgers["grids"]["households"].sum()
