"""The working pages' models (重点场所, 督查整改, 捐赠物资) driven by setting
traits and calling their form methods — no browser. They write, so they
run on a demo database of this module's own."""

from __future__ import annotations

import io
import re
from datetime import date

import pandas as pd
import pytest

from fangkong_lib import store
from fangkong_lib.dataset import Dataset
from fangkong_lib.domain import problems as loop
from fangkong_lib.ui.places import PlacesModel, PlacesPage
from fangkong_lib.ui.supervision import SupervisionModel, SupervisionPage
from fangkong_lib.ui.supplies import SuppliesModel, SuppliesPage
from fangkong_lib.views.place_code import make_place_code_png, qr_matrix_code, QR_TOP

UNMASKED_PHONE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")
XSS = '<img src=x onerror="alert(1)">${alert(2)}`'


@pytest.fixture(scope="module")
def data(tmp_path_factory, demo_db_copier) -> Dataset:
    path = demo_db_copier(tmp_path_factory.mktemp("work-pages"))
    engine = store.get_engine(str(path))
    store.upsert_row(engine, "places", {"code": "ZKT2000435", "name": XSS}, user="test")
    return Dataset.load(path, reload=True)


# -- 重点场所 ------------------------------------------------------------------------------------


def test_places_filters_move_kpis_table_and_map_together(data):
    m = PlacesModel(data)
    assert m.kpis["places"] == m.count == 436 and not m.error  # 435 key places and the health centre
    before = m.kpis, m.map_html, m.table_html
    m.village = data.village_names[5]
    assert m.kpis["places"] == m.count < 436
    assert m.map_html != before[1] and m.table_html != before[2]
    assert m.table_html.count("<tr>") - 1 == m.count
    m.village = ""
    m.item = "code_posted"
    assert 0 < m.count == m.kpis["code_missing"] < 436
    m.item = ""
    m.overdue = True
    assert m.count == before[0]["recheck_overdue"] > 0
    assert all(m.table["recheck_overdue"])


def test_places_table_masks_phones_and_escapes_names(data):
    m = PlacesModel(data)
    assert not UNMASKED_PHONE.search(m.table_html)
    assert re.search(r"1\d{2}\*{4}\d{4}", m.table_html)
    assert XSS not in m.table_html and "&lt;img src=x" in m.table_html
    m.query = "ZKT2000435"
    assert m.count == 1 and "<img src=x" not in m.map_html


def test_recording_an_inspection_from_the_page(data):
    m = PlacesModel(data)
    code = m.table["code"].iloc[10]
    checks = {k: True for k in m.checklist_for(code)} | {"scan_enforced": False}
    assert not m.record_inspection(code, checks)  # no operator
    assert m.error and "请先填写操作人" in m.status
    m.operator = "检查员"
    assert m.record_inspection(code, checks, inspector="派出所")
    assert not m.error and "新开问题 1 个" in m.status
    row = m.table.set_index("code").loc[code]
    assert row["last_date"] == pd.Timestamp(data.today) and row["failed"] == ["扫码查验落实"]
    assert row["status"] == "正常营业"  # one item: fixed on the spot (现场整改)
    number = re.search(r"DC2022-\d{3}", m.status).group(0)
    assert data.ledgers["problems"].set_index("problem_no").loc[number, "place_code"] == code


def test_venue_code_png_carries_the_qr_code_and_the_name(data):
    m = PlacesModel(data)
    name, png = m.place_code("ZKT2000001")
    assert name.startswith("场所码-ZKT2000001-") and name.endswith(".png")
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    place = m.place("ZKT2000001")
    # Read the modules back from the image: they are the QR code of the place.
    qr = qr_matrix_code(place)
    matrix = qr.get_matrix()
    box = 520 // len(matrix)
    left = (image.size[0] - box * len(matrix)) // 2
    read = [[image.getpixel((left + box * x + box // 2, QR_TOP + box * y + box // 2)) < 128
             for x in range(len(matrix))] for y in range(len(matrix))]
    assert read == matrix
    with pytest.raises(ValueError, match="场所名称和场所码编号"):
        make_place_code_png({"code": "", "name": "x"})


def test_missing_cjk_font_gives_a_clear_error(no_cjk_font):
    import fangkong_lib.views.place_code as pc

    pc.find_cjk_font.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="fonts-noto-cjk"):
            pc.make_place_code_png({"code": "A", "name": "甲"})
    finally:
        pc.find_cjk_font.cache_clear()


def test_places_page_widgets_follow_the_model(data):
    page = PlacesPage(PlacesModel(data))
    page._village.value = data.village_names[1]
    assert page.model.village == data.village_names[1]
    assert page._table.value == page.model.table_html and page._map.value == page.model.map_html
    assert [c for _, c in page._place.options] == page.model.table["code"].tolist()
    pharmacy = page.model.table[page.model.table["category"].isin(["药店", "诊所"])]
    others = page.model.table[~page.model.table["category"].isin(["药店", "诊所"])]
    page._place.value = others["code"].iloc[0]
    assert page._checks["drug_register"].disabled
    if len(pharmacy):
        page._place.value = pharmacy["code"].iloc[0]
        assert not page._checks["drug_register"].disabled


# -- 督查整改 -------------------------------------------------------------------------------------


def test_supervision_filters_and_overdue_list(data):
    m = SupervisionModel(data)
    assert m.kpis["visits"] >= 60 and m.kpis["found"] >= 30 and not m.error
    late = loop.overdue_problems(data.ledgers["problems"], data.today)
    assert m.kpis["problems_overdue"] == len(late) > 0
    assert all(n in m.overdue_html for n in late["problem_no"])
    assert m.board_html.count('class="fk-card') == m.kpis["found"]
    assert m.board_html.count("fk-card fk-overdue") == len(late)
    board_before, map_before = m.board_html, m.map_html
    m.team = "第三督查组"
    assert m.kpis["found"] < 34 and m.board_html != board_before and m.map_html != map_before
    assert "第一督查组" not in m.teams_html
    m.team, m.overdue = "", True
    assert m.kpis["found"] == len(late) and m.kpis["closed"] == 0
    m.overdue, m.village = False, data.village_names[0]
    assert data.village_names[1] not in m.villages_html


def test_supervision_loop_from_the_page(data):
    m = SupervisionModel(data, operator="督查中心")
    assert m.open_problem(team="第一督查组", village=data.village_names[2], target="", category="宣传",
                          description="喇叭未按时播放")
    number = m.selected
    assert m.selected_steps == ["反馈"] and number in m.board_html
    assert not m.close(number) and "须复查通过后才能销号" in m.status and m.error
    assert not m.assign(number, unit="", person="", deadline=None)
    assert "责任单位" in m.status
    assert m.assign(number, unit="某村党支部", person="张三", deadline=date(2022, 4, 9))
    assert m.progress(number, note="已整改", done=True)
    assert m.recheck(number, passed=False, note="仍未播放")
    assert m.selected_steps == ["整改中", "复查"]
    assert m.progress(number, note="再次整改")
    assert m.recheck(number, passed=True)
    assert m.close(number) and m.selected_steps == []
    assert m.set_accountability(number, "通报")
    assert "fk-current-stage'>销号" in m.selected_html.replace('"', "'")
    assert "当前阶段" in m.selected_html and "复查未通过" in m.selected_html
    page = SupervisionPage(m)
    assert all(b.disabled for b in page._buttons.values())


# -- 捐赠物资 -------------------------------------------------------------------------------------


def test_supplies_filters_flags_and_map(data):
    m = SuppliesModel(data)
    assert m.kpis["donors"] >= 20 and 90_000 <= m.kpis["donated_value"] <= 110_000
    assert m.kpis["expiring"] >= 1 and "牛奶" in m.flags_html  # short-dated milk in the demo
    assert m.kpis["below_minimum"] >= 1 and "低于最低库存" in m.flags_html
    before = dict(m.kpis), m.map_html
    m.item = "医用外科口罩"
    assert m.kpis["receipts"] < before[0]["receipts"] and m.map_html != before[1]
    assert "医用外科口罩" in m.stock_html and "牛奶" not in m.stock_html
    m.item, m.donor = "", m.donor_options[1][1]
    assert m.kpis["donors"] == 1
    m.donor, m.start, m.end = "", date(2022, 4, 1), date(2022, 3, 1)
    assert m.error and "开始日期晚于结束日期" in m.status


def test_supplies_issue_refusal_and_public_list(data):
    from openpyxl import load_workbook

    m = SuppliesModel(data, operator="物资组")
    item, location, stock, unit = m.stock_rows[0]
    raw = dict(item=item, location=location, quantity=5.0, recipient_type="村", recipient="某村", taker="王某")
    assert m.issue(raw) and f"结存 {stock - 5:g}" in m.status
    assert m.stock_of(item, location) == stock - 5
    rows = store.count_rows(data.engine, "distributions")
    assert not m.issue({**raw, "quantity": stock}) and "库存不足" in m.status and m.error
    assert store.count_rows(data.engine, "distributions") == rows and m.stock_of(item, location) == stock - 5
    name, content = m.export_donor_list()
    book = load_workbook(io.BytesIO(content))
    sheet = list(book["捐赠公示"].iter_rows(values_only=True))
    assert sheet[-1][0] == "合计" and abs(sheet[-1][4] - m.kpis["donated_value"]) < 0.01
    issued = list(book["发放明细"].iter_rows(values_only=True))
    assert "王*" in [r[8] for r in issued]  # takers' names masked for posting
    assert not any(UNMASKED_PHONE.search(str(v)) for ws in book for r in ws.iter_rows(values_only=True) for v in r)
    SuppliesPage(m)


def test_a_hostile_unit_does_not_run_in_the_issue_form(data):
    """Issue 10.1: a donated item whose 单位 is markup ran script in the
    捐赠物资 page as soon as it was chosen in the issue form (the stock line
    was built from the unit without escaping)."""
    m = SuppliesModel(data, operator="物资组")
    raw = dict(date=data.today, donor="某爱心企业", donor_type="单位", item="消毒片", unit=XSS, quantity=40.0,
               value=None, location="乡政府物资库")
    assert m.receive(raw), m.status
    page = SuppliesPage(m)
    page._i_item.value = "消毒片"
    page._i_location.value = "乡政府物资库"
    shown = page._i_stock.value
    assert "结存 40" in shown and "<img" not in shown and "&lt;img src=x" in shown
    assert "${" not in shown and "`" not in shown
    every = [page._stock.value, page._flags.value, page._issues.value, page._status.value]
    page._kpis.click("stock_items")
    every.append(page._focus_body.value)
    assert "消毒片" in page._focus_body.value
    assert not any("<img src=x" in value for value in every)


def test_supplies_kpi_cards_open_their_rows(data):
    m = SuppliesModel(data)
    page = SuppliesPage(m)
    for key in ("receipts", "issues", "expiring", "donors"):
        page._kpis.click(key)
        assert m.focus == key and page._focus.layout.display != "none"
        body = page._focus_body.value
        assert max(body.count("<tr>") - 1, 0) == m.kpis[key] > 0, key
    assert not UNMASKED_PHONE.search(page._focus_body.value)


def test_supervision_and_places_kpi_cards_open_what_they_count(data):
    page = SupervisionPage(SupervisionModel(data))
    m = page.model
    for key in ("problems_overdue", "visits", "closed"):
        page._kpis.click(key)
        assert max(page._focus_body.value.count("<tr>") - 1, 0) == m.kpis[key], key
    assert m.kpis["problems_overdue"] > 0
    places = PlacesPage(PlacesModel(data))
    places._kpis.click("code_missing")
    assert max(places._focus_body.value.count("<tr>") - 1, 0) == places.model.kpis["code_missing"] > 0
    assert XSS not in places._focus_body.value
