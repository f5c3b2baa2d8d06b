"""Page state, driven by setting traits (no browser)."""

from datetime import date

import pytest
import traitlets

from fangkong_lib.ui.ledgers import LedgerModel, LedgerPage
from fangkong_lib.ui.overview import OverviewModel, OverviewPage


@pytest.fixture
def model(demo_data):
    return OverviewModel(demo_data)


def test_default_is_the_demo_day(model):
    assert model.day == date(2022, 4, 7)
    assert model.status.startswith("已更新") and not model.error
    assert model.kpis["under_control"] > 0
    assert "<iframe" in model.map_html and "合计" in model.table_html


def test_filters_change_kpis_map_and_table_together(model, demo_data):
    before = dict(model.kpis), model.map_html, model.table_html
    model.measure = "集中隔离"
    assert model.kpis["under_control"] == model.kpis["集中隔离"] < before[0]["under_control"]
    assert model.map_html != before[1]
    village = demo_data.village_names[3]
    model.village = village
    assert model.kpis["away"] < before[0]["away"]
    assert village in model.table_html and demo_data.village_names[4] not in model.table_html
    model.day = date(2022, 3, 1)
    assert model.kpis["under_control"] == 0 and model.kpis["arrived_today"] == 0


def test_map_is_cached_per_filter(model):
    first = model.map_html
    model.measure = "三天两检"
    model.measure = ""
    assert model.map_html is first


def test_bad_filter_values_are_refused(model):
    with pytest.raises(traitlets.TraitError, match="未知的村"):
        model.village = "<img src=x>"
    with pytest.raises(traitlets.TraitError):
        model.measure = "封控"


def test_errors_show_in_the_status_line(model, monkeypatch):
    import fangkong_lib.ui.overview as overview

    def broken(*a, **k):
        raise ValueError("数据有误")

    monkeypatch.setattr(overview, "summarize_overview", broken)
    model.day = date(2022, 4, 6)
    assert model.error and model.status == "出错：数据有误"


def test_page_widgets_follow_the_model(model):
    page = OverviewPage(model)
    page._measure.value = "居家隔离"
    assert model.measure == "居家隔离"
    assert 'data-kpi="under_control"' in page._kpis.value
    assert page._map.value == model.map_html


def test_people_list_is_masked(model):
    import re

    assert not re.search(r"\d{17}[\dX]", model.actions_html)
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", model.actions_html)


def test_ledger_page_filters_and_exports_masked(demo_data, tmp_path):
    import io

    import openpyxl

    m = LedgerModel(demo_data, ledger="returnees")
    total = m.count
    m.village = demo_data.village_names[0]
    assert 0 < m.count < total
    name, content = m.export(".xlsx")
    assert name.endswith(".xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    assert "脱敏" in ws["A1"].value and "合成演示数据" in ws["A1"].value
    values = [c.value for row in ws.iter_rows(min_row=3) for c in row if isinstance(c.value, str)]
    assert any("********" in v for v in values)
    assert ws.max_row - 2 == m.count
    LedgerPage(m)


def test_ledger_search_handles_empty_cells_and_searches_what_is_shown(demo_data):
    """Rows with empty cells used to break the search; and typing hidden ID
    digits must not reveal which masked row holds them."""
    m = LedgerModel(demo_data, ledger="returnees")
    village = demo_data.village_names[2]
    m.query = village
    assert not m.error and 0 < m.count < len(demo_data.ledgers["returnees"])
    hidden = demo_data.ledgers["returnees"]["id_number"].iloc[0][6:14]  # the masked birth date
    m.query = hidden
    assert m.count == 0


def test_old_database_gains_new_columns(tmp_path):
    import sqlalchemy as sa

    from fangkong_lib import store

    engine = store.get_engine(f"sqlite:///{tmp_path}/old.sqlite")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE problems (id INTEGER PRIMARY KEY, problem_no TEXT, date DATE)")
        conn.exec_driver_sql("INSERT INTO problems (problem_no, date) VALUES ('P1', '2022-04-01')")
    store.init_db(engine)
    cols = {c["name"] for c in sa.inspect(engine).get_columns("problems")}
    assert set(store.get_ledger("problems").columns) <= cols
    assert store.load_ledger(engine, "problems")["problem_no"].tolist() == ["P1"]


@pytest.mark.browser
def test_every_page_exports_its_rows_and_its_map(chromium_path, writable_demo_db):
    """Issue 3 and 6: each dashboard exports its rows as filtered (masked
    xlsx) and its map as filtered (HTML, and PNG drawn by Chromium)."""
    import base64
    import io
    import re

    import openpyxl
    from PIL import Image

    from fangkong_lib.ui.exportbar import ExportBar, MapExportBar
    from fangkong_lib.ui.places import PlacesPage
    from fangkong_lib.ui.returnees import ReturneePage
    from fangkong_lib.ui.supervision import SupervisionPage
    from fangkong_lib.ui.supplies import SuppliesPage

    db = writable_demo_db

    def find(widget, cls):
        found, stack = [], [widget]
        while stack:
            x = stack.pop()
            if isinstance(x, cls):
                found.append(x)
            stack.extend(getattr(x, "children", ()))
        return found

    def payload(html, mime):
        href = re.search(rf'href="data:{re.escape(mime)};base64,([^"]+)"', html)
        assert href, html[:300]
        return base64.b64decode(href.group(1))

    for page_class in (OverviewPage, ReturneePage, PlacesPage, SupervisionPage, SuppliesPage):
        page = page_class(db=db)
        (rows,) = find(page, ExportBar)
        sheet = openpyxl.load_workbook(io.BytesIO(payload(
            rows.export(".xlsx"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))).active
        assert "脱敏" in sheet["A1"].value, page_class.__name__
        assert not re.search(r"(?<![\d*])\d{17}[\dX](?![\d*])",
                             " ".join(str(c.value) for row in sheet.iter_rows() for c in row))
        for bar in find(page, MapExportBar):
            links = bar.export()
            assert "<script src=" not in payload(links, "text/html").decode()
            png = Image.open(io.BytesIO(payload(links, "image/png")))
            assert png.width >= 2000 and len(png.convert("RGB").getcolors(maxcolors=1 << 20) or ()) > 20, page_class.__name__
