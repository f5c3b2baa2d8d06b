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


def _fills(update) -> list[str]:
    return [style["fillColor"] for style in update["layers"]["grids"]["styles"].values()]


def test_filters_change_kpis_map_and_table_together(model, demo_data):
    before = dict(model.kpis), model.map_html, model.table_html, model.map_update
    model.measure = "集中隔离"
    assert model.kpis["under_control"] == model.kpis["集中隔离"] < before[0]["under_control"]
    # the live map keeps its document; the update recolours its cells
    assert model.map_html is before[1]
    assert model.map_update["version"] > before[3]["version"] and _fills(model.map_update) != _fills(before[3])
    village = demo_data.village_names[3]
    model.village = village
    assert model.kpis["away"] < before[0]["away"]
    assert village in model.table_html and demo_data.village_names[4] not in model.table_html
    outlined = [s for s in model.map_update["layers"]["grids"]["styles"].values() if s["color"] == "#1f4e79"]
    assert len(outlined) == int((demo_data.grids["village"] == village).sum()) > 0
    assert village in model.map_update["panels"]["topleft"]
    exported = model.shown_map_html()  # 导出地图: the document shown, in the state shown
    assert exported != model.map_html and "fk-live-state" in exported
    model.day = date(2022, 3, 1)
    assert model.kpis["under_control"] == 0 and model.kpis["arrived_today"] == 0


def test_the_map_document_is_built_once_per_basemap(model):
    first = model.map_html
    model.measure = "三天两检"
    model.measure = ""
    assert model.map_html is first
    model.basemap = "osm"
    assert model.map_html != first and "openstreetmap" in model.map_html.lower()


def test_bad_filter_values_are_refused(model):
    with pytest.raises(traitlets.TraitError, match="未知的村"):
        model.village = "<img src=x>"
    with pytest.raises(traitlets.TraitError):
        model.measure = "封控"


def test_errors_show_in_the_status_line(model, monkeypatch):
    import fangkong_lib.ui.models.overview as overview

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
    assert page._map.document == model.map_html and page._map.update == model.map_update


def rows_in(table_html: str) -> int:
    """Data rows of an HTML table (0 for the "no rows" note)."""
    return max(table_html.count("<tr>") - 1, 0)


def test_kpi_card_opens_the_list_it_counts(model):
    """Issue 11.8: 逾期未检 opens the overdue-test list, with as many rows as it counts."""
    page = OverviewPage(model)
    assert page._focus.layout.display == "none"
    page._kpis.click("tests_overdue")
    assert model.focus == "tests_overdue" and page._focus.layout.display != "none"
    assert "逾期未检" in page._focus_title.value
    assert rows_in(page._focus_body.value) == model.kpis["tests_overdue"] > 0
    model.measure = "集中隔离"  # the open list follows the filters
    assert rows_in(page._focus_body.value) == model.kpis["tests_overdue"]
    model.measure = ""
    page._kpis.click("集中隔离")
    assert rows_in(page._focus_body.value) == model.kpis["集中隔离"] > 0
    assert "居家隔离" not in page._focus_body.value
    page._kpis.click("集中隔离")  # a second click closes it
    assert model.focus == "" and page._focus.layout.display == "none"


def test_every_overview_kpi_card_opens_the_rows_it_counts(model):
    """Every card is clickable and its list has as many rows as the card says
    (lists longer than a table shows say how many were cut); personal data masked."""
    import re

    page = OverviewPage(model)
    for key in model.kpis:
        assert key in model.kpi_lists, f"card {key} opens nothing"
        page._kpis.click(key)
        body = page._focus_body.value
        # the value card lists the items whose values it sums
        expected = len(model.overview.rows["stock_value"]) if key == "stock_value" else int(model.kpis[key])
        assert rows_in(body) == min(expected, 200), key
        assert not re.search(r"\d{17}[\dX]", body), key
        page._kpis.click(key)


def test_overview_map_export_is_the_map_shown(model):
    """Issue 11.8: 导出地图 exported a different builder's map; it must be the
    document in the map frame, for the same filters."""
    from fangkong_lib.ui.exportbar import MapExportBar, document_of
    from fangkong_lib.views.maps import with_live_state

    page = OverviewPage(model)
    model.measure = "居家隔离"
    bar = page._map_export
    assert isinstance(bar, MapExportBar) and page._map.document == model.map_html
    # the live map's document with the update it shows written in
    exported = document_of(bar._map_html())
    assert exported == with_live_state(document_of(page._map.document), page._map.update)
    assert "居家隔离" in exported


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


def test_page_models_never_load_ipywidgets():
    """ARCHITECTURE.md: models are plain traitlets state; only views import
    ipywidgets. Importing every model module must not load it."""
    import pkgutil
    import subprocess
    import sys

    import fangkong_lib.ui.models as models

    names = [f"fangkong_lib.ui.models.{m.name}" for m in pkgutil.iter_modules(models.__path__)]
    assert {"fangkong_lib.ui.models.overview", "fangkong_lib.ui.models.returnees"} <= set(names)
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({n!r})\n" for n in names) + \
        "print('ipywidgets' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_action_adapter_reads_every_result_shape(model):
    """One adapter for today's actions (Outcome, str, raised RecordError) and
    tomorrow's (a message str or an object with .message, ActionError)."""
    from types import SimpleNamespace

    from fangkong_lib.ui.models.base import run_action

    class Refusal(ValueError):
        pass

    assert run_action(lambda: "已保存") == run_action(lambda: SimpleNamespace(message="已保存"))
    assert run_action(lambda: "已保存").ok
    refused = run_action(lambda: (_ for _ in ()).throw(Refusal("库存不足：结存 3")))
    assert not refused.ok and refused.message == "库存不足：结存 3"
    outcome = SimpleNamespace(ok=False, message="", sentences=lambda: ["操作人：请先填写操作人", "日期：不能晚于今天"])
    assert run_action(lambda: outcome).lines == ("操作人：请先填写操作人", "日期：不能晚于今天")
    broken = run_action(lambda: 1 / 0)
    assert not broken.ok and broken.message.startswith("出错：")
    page = OverviewPage(model)
    assert not model.run(lambda: (_ for _ in ()).throw(Refusal("<b>不行</b>")))
    assert model.error and model.status == "操作未完成：<b>不行</b>"
    assert "&lt;b&gt;不行" in page._status.value and "<b>" not in page._status.value
    assert model.run(lambda: SimpleNamespace(ok=True, message="已记录"))
    assert not model.error and model.status == "已记录" and 'class="ok"' in page._status.value


def test_a_village_login_s_status_names_its_village(demo_db):
    """A village login's pages read one village: their status lines say which,
    not 全乡 (and a township's pages still say 全乡)."""
    from fangkong_lib.dataset import Dataset

    village = Dataset.load(demo_db, village="杏园村")
    overview = OverviewModel(village)
    assert overview.status.startswith("已更新：杏园村"), overview.status
    assert LedgerModel(village, ledger="returnees").shown_area == "杏园村"
    assert OverviewModel(Dataset.load(demo_db)).status.startswith("已更新：全乡")
