"""The county overview (全县态势) in-process: the townships' table and map
from the database's per-township counts, and the way into a township."""

from __future__ import annotations

import html
import json

import pandas as pd
import pytest
import traitlets

from fangkong_lib import store
from fangkong_lib.domain.overview import summarize_overview
from fangkong_lib.ui.county import CountyPage
from fangkong_lib.ui.overview import OverviewPage


def on_map(text: str, map_html: str) -> bool:
    """Whether ``text`` is in the map document (raw or JSON-escaped)."""
    document = html.unescape(map_html)
    return text in document or json.dumps(text)[1:-1] in document


@pytest.fixture(scope="module")
def county_db(tmp_path_factory, demo_db_copier):
    """The township demo plus a second township with one village (its rows
    written for that township)."""
    path = demo_db_copier(tmp_path_factory.mktemp("county"))
    engine = store.get_engine(path)
    store.write_ledger(engine, "villages", pd.DataFrame([dict(code="411625201201", name="虎岗村", township="虎岗乡",
                                                               geometry="POLYGON((115.3 33.7,115.32 33.7,115.32 33.72,115.3 33.72,115.3 33.7))")]))
    store.write_ledger(engine, "returnees", pd.DataFrame([dict(id_number="411625199001010011", name="外乡人",
                                                                village="虎岗村", phone="13800000000")]))
    store.set_meta(engine, scale="county")
    return path


def test_the_county_overview_compares_townships_and_matches_the_township_overview(county_db):
    page = CountyPage(db=county_db)
    model = page.model
    assert model.townships == ["城郊乡", "虎岗乡"]
    assert model.kpis["townships"] == 2 and model.kpis["villages"] == 18
    row = model.table.loc["城郊乡"]
    township = OverviewPage(db=county_db, township="城郊乡").model
    ov = summarize_overview(township.data.ledgers, model.day)
    assert (row["在外人员"], row["今日返乡"], row["管控中"], row["今日应检"], row["未销号问题"]) == (
        ov.kpis["away"], ov.kpis["arrived_today"], ov.kpis["under_control"], ov.kpis["tests_due"],
        ov.kpis["open_problems"])
    assert "虎岗乡" in model.table_html and "合计" in model.table_html
    assert on_map("虎岗乡", model.map_html) and len(model.map_html) < 2_000_000
    map_before = model.map_html
    model.measure = "在外人员"
    assert on_map("各乡镇在外人员", model.map_update["panels"]["topleft"]) and "在外人员" in model.status
    assert model.map_html is map_before  # the live map is recoloured, not drawn again
    with pytest.raises(traitlets.TraitError):
        model.township = "<script>alert(1)</script>"
    model.township = "虎岗乡"
    assert model.township == "虎岗乡"


def test_a_township_page_shows_only_that_township(county_db):
    page = OverviewPage(db=county_db, township="虎岗乡")
    assert page.model.data.village_names == ["虎岗村"]
    assert "虎岗乡疫情防控工作台" in page.children[0].value
    assert page.model.kpis["away"] == 0
