"""Briefing outputs: the situation map as HTML/PNG and the daily report
(HTML, PDF, xlsx), checked as the command meeting and the county get them.

Tests marked ``browser`` drive the system Chromium (one per module; skipped
without it, failing under FANGKONG_REQUIRE_BROWSER=1). Files a human should
look at go to test-output/<test name>/.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from fangkong_lib.outputs import briefing
from fangkong_lib.outputs.briefing import (
    HEADLINE, MAP_LAYERS, briefing_files, briefing_html, briefing_xlsx, export_map, map_png, overdue_pushes,
    summarize_briefing, supply_alerts,
)
from fangkong_lib.domain.daily import REPORT_LATE, REPORT_MISSING, REPORT_ON_TIME, REPORT_ZERO, village_report_status
from fangkong_lib.domain.grids import OVERVIEW_KPI_LABELS
from fangkong_lib.domain.overview import CONTROL_MEASURES
from fangkong_lib.ui.overview import OverviewModel

DEMO_DAY = date(2022, 4, 7)
EMPTY_DAY = date(2019, 6, 1)  # before anything in the demo township happened
N_GRIDS, N_VILLAGES, N_NATURAL = 376, 17, 112
# Stroke colours of the map layers (fangkong_lib/views/maps.py).
GRID_STROKES = ("#8a8a8a", "#1f4e79")
VILLAGE_STROKE, NATURAL_STROKE = "#2f3b52", "#1d3557"
A4_POINTS = (595.3, 841.9)

FULL_ID = re.compile(r"(?<![\d*])\d{17}[\dXx](?![\d*])")
FULL_MOBILE = re.compile(r"(?<![\d*])1[3-9]\d{9}(?![\d*])")


def run_cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "fangkong_lib.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=300, env=env)


# -- Fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium(chromium_path):
    """One headless Chromium for the module (fangkong_lib.outputs.render.Chromium)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        message = "the playwright package is not installed (pip install -e '.[test]')"
        if os.environ.get("FANGKONG_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} (FANGKONG_REQUIRE_BROWSER=1)", pytrace=False)
        pytest.skip(message)
    from fangkong_lib.outputs.render import Chromium

    with Chromium(chromium_path) as browser:
        yield browser
    assert browser.blocked == [], f"rendered documents asked the network for {browser.blocked}"


@pytest.fixture(scope="module")
def demo_briefing(demo_data):
    return summarize_briefing(demo_data, DEMO_DAY)


@pytest.fixture(scope="module")
def demo_files(demo_data, chromium):
    """The demo day's briefing files {suffix: (name, bytes)}."""
    return briefing_files(demo_data, DEMO_DAY, browser=chromium)


def _save(folder: Path, files: dict) -> dict[str, Path]:
    paths = {}
    for suffix, (name, content) in files.items():
        paths[suffix] = folder / name
        paths[suffix].write_bytes(content)
    return paths


# -- The map as a file ----------------------------------------------------------


@pytest.mark.browser
def test_map_html_draws_every_layer_with_the_network_blocked(demo_data, chromium, output_dir):
    out = export_map(demo_data, output_dir / "map.html", day=DEMO_DAY, layers=list(MAP_LAYERS))
    html = out.read_text(encoding="utf-8")
    assert "<script src=" not in html and not re.search(r'<link[^>]+href="(?!data:)', html)
    # Tooltips name each cell's party member: masked in a file that leaves the office.
    members = [n for n in demo_data.ledgers["grids"]["member"].dropna() if len(n) == 3]
    in_doc = [n for n in members if json.dumps(n)[1:-1] in html]
    assert members and in_doc == []
    assert all(json.dumps(f"{n[0]}*{n[2]}")[1:-1] in html for n in members)
    context = chromium.browser.new_context(viewport={"width": 1400, "height": 1000})
    requests, errors = [], []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.continue_() if route.request.url.startswith(("file:", "data:"))
                                         else route.abort()))
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(out.as_uri())
        page.wait_for_selector(".leaflet-overlay-pane path")
        page.wait_for_selector(".leaflet-marker-pane > *")
        strokes = Counter(page.eval_on_selector_all(".leaflet-overlay-pane path",
                                                    "ps => ps.map(p => p.getAttribute('stroke'))"))
        texts = page.inner_text(".folium-map")
        page.screenshot(path=str(output_dir / "map-html.png"))
    finally:
        context.close()
    assert not errors
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert sum(strokes[s] for s in GRID_STROKES) == N_GRIDS
    assert strokes[VILLAGE_STROKE] == N_VILLAGES and strokes[NATURAL_STROKE] == N_NATURAL
    for text in ("城郊乡疫情防控态势图", "2022-04-07", "管控人数（按网格）", "行政村界", "自然村", "重点场所",
                 "N", "km", "合成演示数据", "防控工作台 · Leaflet"):
        assert text in texts, text


@pytest.mark.browser
def test_map_png_is_the_requested_size_and_not_blank(demo_data, chromium, output_dir):
    from PIL import Image

    png = map_png(demo_data, DEMO_DAY, browser=chromium)
    (output_dir / "map.png").write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (2400, 1700)  # 1200 × 850 CSS pixels at scale 2: print resolution
    assert len(image.getcolors(maxcolors=1 << 20)) > 1000  # drawn cells, text, panels: not a blank frame
    # The centre of the township ring is background, cells are not: the map really drew.
    small = image.resize((240, 170))
    assert len({small.getpixel((x, 85)) for x in range(20, 220, 5)}) > 5

    custom = map_png(demo_data, DEMO_DAY, browser=chromium, size=(1000, 700), scale=2, layers=["places"],
                     village=demo_data.village_names[10], measure="三天两检")
    (output_dir / "map-places-village.png").write_bytes(custom)
    assert Image.open(io.BytesIO(custom)).size == (2000, 1400)


# -- The daily briefing: figures ----------------------------------------------------


@pytest.mark.parametrize("day", [DEMO_DAY, date(2022, 4, 1), date(2022, 3, 20)])
def test_briefing_figures_equal_the_overview_dashboard(demo_data, day):
    b = summarize_briefing(demo_data, day)
    shown = OverviewModel(demo_data, day=day).kpis
    assert shown and all(b.kpis[k] == v for k, v in shown.items())
    headline = dict(zip(b.headline["key"], b.headline["今日"]))
    assert all(headline[k] == shown[k] for k in headline if k in shown)
    yesterday = OverviewModel(demo_data, day=date.fromordinal(day.toordinal() - 1)).kpis
    assert all(b.kpis_yesterday[k] == v for k, v in yesterday.items())
    # The village table adds up to the headline figures.
    villages = b.villages
    assert list(villages.index) == demo_data.village_names
    for column, key in (("在外人员", "away"), ("管控中", "under_control"), ("今日返乡", "arrived_today"),
                        ("今日应检", "tests_due"), ("今日已检", "tests_done_today"), ("逾期未检", "tests_overdue"),
                        ("发热", "fevers"), ("今日解除", "releases"), *((m, m) for m in CONTROL_MEASURES)):
        assert villages[column].sum() == b.kpis[key], column
    assert b.action("tests_overdue").count == b.kpis["tests_overdue"]
    assert b.action("fevers").count == b.kpis["fevers"]
    assert b.history["合计"].iloc[-1] == b.kpis["under_control"]


def test_two_dates_differ_where_the_data_differ(demo_data):
    day6, day7 = date(2022, 4, 6), DEMO_DAY
    b6, b7 = summarize_briefing(demo_data, day6), summarize_briefing(demo_data, day7)
    assert b7.kpis_yesterday == b6.kpis
    returnees = demo_data.ledgers["returnees"]
    for b, day in ((b6, day6), (b7, day7)):
        assert b.kpis["arrived_today"] == (returnees["actual_arrival"] == pd.Timestamp(day)).sum()
        # Which villages reported by 17:00, straight from the ledger.
        reports = demo_data.ledgers["village_reports"]
        todays = reports[reports["date"] == pd.Timestamp(day)]
        on_time = set(todays.loc[todays["reported_at"] <= pd.Timestamp(f"{day} 17:00"), "village"])
        assert set(b.reports.index[b.reports["on_time"]]) == on_time
        assert b.day.isoformat() in briefing_html(b)
    changed = [k for k, *_ in HEADLINE if b6.kpis[k] != b7.kpis[k]]
    assert changed, "the demo data differ between the two days"
    row6, row7 = b6.headline.set_index("key"), b7.headline.set_index("key")
    for key in changed:
        assert row6.at[key, "今日"] != row7.at[key, "今日"]
        assert row7.at[key, "较昨日"] == b7.kpis[key] - b6.kpis[key]
    assert not b6.reports["status"].equals(b7.reports["status"])
    assert b6.summary != b7.summary and "4月6日" in b6.summary and "4月7日" in b7.summary


def test_a_date_without_data_gives_an_all_zero_briefing(demo_data):
    b = summarize_briefing(demo_data, EMPTY_DAY)
    # household coverage (网格责任) is a standing state of the grids, not an event of the day
    assert {v for k, v in b.kpis.items() if k not in OVERVIEW_KPI_LABELS} == {0}
    assert (b.villages.select_dtypes("number").fillna(0) == 0).all().all()
    assert len(b.villages) == N_VILLAGES and set(b.reports["status"]) == {REPORT_MISSING}
    # household coverage is a standing state of the grids, not an event of the day
    assert all(a.count == 0 and a.rows.empty for a in [*b.actions, *b.places] if a.key != "grid_coverage")
    assert (b.history.to_numpy() == 0).all() and len(b.history) == 14
    html = briefing_html(b)
    assert "全乡在外人员0人" in html and "17个未按时报告" in html
    wb = openpyxl.load_workbook(io.BytesIO(briefing_xlsx(b)))
    assert [c.value for c in wb["各村报告"]["A"]][2:2 + N_VILLAGES] == demo_data.village_names


def test_the_lists_are_the_domain_rules(demo_data):
    """The lists are the dashboards' own rules (no copies of them in the
    briefing): the same rows as the domain functions, masked."""
    from fangkong_lib.domain import alerts, problems

    day, data = DEMO_DAY, demo_data.ledgers
    b = summarize_briefing(demo_data, day)
    tests = alerts.tests_overdue(data["controls"], data["tests"], day)
    assert b.action("tests_overdue").count == len(tests) == b.kpis["tests_overdue"]
    assert b.action("tests_overdue").rows["计划采样日"].tolist() == tests["planned"].tolist()
    fevers = alerts.fevers(data["controls"], data["daily_checks"], day)
    assert b.action("fevers").count == fevers["id_number"].nunique() == b.kpis["fevers"]
    late = problems.overdue_problems(data["problems"], day)
    assert b.action("problems").rows["问题编号"].tolist() == late["problem_no"].tolist()
    supplies = supply_alerts(data, day)
    assert list(supplies.columns) == list(briefing.SUPPLY_COLUMNS)
    assert b.action("supplies").count == len(supplies)


def test_pushes_unverified_past_24_hours_at_the_cut_off():
    t = pd.Timestamp
    pushes = pd.DataFrame({
        "batch": ["a", "b", "c", "d", "e"],
        "pushed_at": [t("2022-04-05 09:00"), t("2022-04-07 08:00"), t("2022-04-05 10:00"),
                      t("2022-04-05 11:00"), t("2022-04-06 16:59")],
        "result": ["待核查", "待核查", "已落实管控", "无法联系", None],
        "verified_at": [pd.NaT, pd.NaT, t("2022-04-06 09:00"), t("2022-04-07 18:00"), pd.NaT],
    })
    late = overdue_pushes({"pushes": pushes}, DEMO_DAY)
    # a: open for 56 h; c: verified in time; d: verified only after 17:00 (open at the cut-off);
    # b: pushed 9 h before; e: no result yet, pushed 24 h 1 min before the cut-off.
    assert late["batch"].tolist() == ["a", "d", "e"]
    assert late["hours"].tolist() == [56, 54, 24]


def test_village_reports_count_only_by_17_00():
    villages = pd.DataFrame({"name": ["甲村", "乙村", "丙村", "丁村"]})
    t = pd.Timestamp
    reports = pd.DataFrame({
        "date": [t("2022-04-07")] * 4 + [t("2022-04-06")],
        "village": ["甲村", "乙村", "丙村", "丙村", "丁村"],
        "reported_at": [t("2022-04-07 16:59"), t("2022-04-07 17:00"), t("2022-04-07 17:01"),
                        t("2022-04-07 18:30"), t("2022-04-06 10:00")],
        "zero_report": [False, True, False, False, False],
        "under_control": [3, 0, 2, 2, 1],
    })
    status = village_report_status({"villages": villages, "village_reports": reports}, DEMO_DAY)
    assert status["status"].tolist() == [REPORT_ON_TIME, REPORT_ZERO, REPORT_LATE, REPORT_MISSING]
    assert status.loc["丙村", "reported_at"] == t("2022-04-07 17:01")  # the first report counts
    assert status["on_time"].tolist() == [True, True, False, False]


def test_personal_data_is_masked_in_every_output(demo_data, demo_briefing):
    html = briefing_html(demo_briefing)
    xlsx = openpyxl.load_workbook(io.BytesIO(briefing_xlsx(demo_briefing)))
    cells = " ".join(str(c.value) for ws in xlsx for row in ws.iter_rows() for c in row if c.value is not None)
    fevers = briefing.fever_readings(demo_data.ledgers, DEMO_DAY)
    assert len(fevers)
    for text in (html, cells):
        assert not FULL_ID.search(text) and not FULL_MOBILE.search(text)
        for name in fevers["name"]:
            assert name not in text and f"{name[0]}*" in text
    assert re.search(r"\d{6}\*{8}\d{3}[\dX]", html)


# -- The daily briefing: files ----------------------------------------------------------


@pytest.mark.browser
def test_pdf_is_a4_paginated_with_the_expected_text_and_fonts(demo_data, demo_files, output_dir):
    from pypdf import PdfReader

    paths = _save(output_dir, demo_files)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(paths[".pdf"]), str(output_dir / "page")], check=True)
    reader = PdfReader(paths[".pdf"])
    assert 3 <= len(reader.pages) <= 8  # the headline, villages, lists to act on, places, map, chart
    for page in reader.pages:
        size = (float(page.mediabox.width), float(page.mediabox.height))
        assert size == pytest.approx(A4_POINTS, abs=1.5)
    texts = [page.extract_text() for page in reader.pages]
    first, everything = texts[0], "\n".join(texts)
    # Searchable and copyable as written: 日 stays 日, not the look-alike radical ⽇ (U+2F47).
    assert not [c for c in everything if 0x2E80 <= ord(c) <= 0x2FDF]
    assert "城郊乡疫情防控工作日报" in first and "2022年4月7日" in first and "2022-04-07" in first
    assert "合成演示数据" in first
    for label in ("在外人员", "3日内预计返乡", "今日返乡", "管控中", "集中隔离", "今日应检", "今日已检",
                  "逾期未检", "发热", "今日解除管控", "较昨日"):
        assert label in first, label
    villages_pages = "\n".join(texts[:2])  # the village table follows the headline, over a page break at most
    for village in demo_data.village_names:
        assert village in villages_pages, village
    for heading in ("需处置事项", "大数据推送超24小时未核查", "超期未整改问题", "物资预警", "态势图", "近14日管控人数"):
        assert heading in everything, heading
    for n, text in enumerate(texts, start=1):
        assert f"第 {n} 页" in text and f"共 {len(texts)} 页" in text
    # Chinese fonts travel with the file: every font is embedded (a subset).
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            if font["/Subtype"] == "/Type3":  # glyphs drawn by the PDF itself: nothing to embed
                continue
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            fonts.add(str(font["/BaseFont"]))
    assert any("NotoSansCJK" in f for f in fonts), fonts
    assert len(list(output_dir.glob("page-*.png"))) == len(texts)


@pytest.mark.browser
def test_html_briefing_is_self_contained_and_opens_offline(demo_files, chromium, output_dir):
    paths = _save(output_dir, demo_files)
    html = paths[".html"].read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?!data:)', html)
    assert html.count('src="data:image/png;base64,') == 2  # the map and the chart
    context = chromium.browser.new_context(viewport={"width": 1100, "height": 900})
    requests = []
    context.route("**/*", lambda route: (requests.append(route.request.url),
                                         route.continue_() if route.request.url.startswith(("file:", "data:"))
                                         else route.abort()))
    try:
        page = context.new_page()
        page.goto(paths[".html"].as_uri())
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.naturalWidth)")
        page.screenshot(path=str(output_dir / "briefing-html.png"), full_page=True)
    finally:
        context.close()
    assert widths[0] == 2400 and widths[1] > 1000
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []


@pytest.mark.browser
def test_xlsx_has_the_village_table_and_the_lists(demo_data, demo_files, demo_briefing, output_dir):
    paths = _save(output_dir, demo_files)
    wb = openpyxl.load_workbook(paths[".xlsx"])
    assert wb.sheetnames == ["主要数据", "各村报告", "逾期未检", "发热人员", "大数据推送超24小时未核查",
                             "超期未整改问题", "逾期未办结交办事项", "线索核查", "逾期或待分派的线索", "物资预警",
                             "红白事不符合防控规定", "宣传滞后村", "党员联户未全覆盖网格", "居家隔离户缺代购员、守门员",
                             "卡口缺员班次", "今日场所检查", "限期整改与停业整改场所", "近14日管控"]
    ws = wb["各村报告"]
    assert "城郊乡各村疫情防控日报告 2022-04-07" in ws["A1"].value and "已脱敏" in ws["A1"].value
    header = [c.value for c in ws[2]]
    assert header[:4] == ["村", "报告情况", "上报时间", "在外人员"] and "村报在管" in header
    names = [ws.cell(row=r, column=1).value for r in range(3, 3 + N_VILLAGES + 1)]
    assert names == demo_data.village_names + ["合计"]
    control = header.index("管控中") + 1
    assert ws.cell(row=3 + N_VILLAGES, column=control).value == demo_briefing.kpis["under_control"]
    headline = {ws_row[0].value: ws_row[1].value for ws_row in wb["主要数据"].iter_rows(min_row=3, max_row=16)}
    assert headline["在外人员"] == demo_briefing.kpis["away"]
    assert wb["逾期未检"].max_row - 2 >= demo_briefing.kpis["tests_overdue"]


@pytest.mark.browser
def test_briefing_files_for_a_date_without_data(demo_data, chromium, output_dir):
    from pypdf import PdfReader

    files = briefing_files(demo_data, EMPTY_DAY, browser=chromium)
    paths = _save(output_dir, files)
    text = "\n".join(p.extract_text() for p in PdfReader(paths[".pdf"]).pages)
    assert "2019年6月1日" in text and "全乡在外人员0人" in text
    ws = openpyxl.load_workbook(paths[".xlsx"])["各村报告"]
    assert ws.max_row >= 2 + N_VILLAGES + 1


# -- Command line ---------------------------------------------------------------------


def test_map_layer_option_follows_the_registry(demo_db, tmp_path):
    from fangkong_lib.cli import build_parser

    help_text = run_cli("map", "--help").stdout
    assert all(key in help_text for key in MAP_LAYERS)
    args = build_parser().parse_args(["map", "x.png", "--layer", "grids", "--layer", "places"])
    assert args.layer == ["grids", "places"]
    res = run_cli("map", tmp_path / "x.png", "--layer", "roads", "--db", demo_db)
    assert res.returncode == 2 and "roads" in res.stderr


@pytest.mark.parametrize("args, message", [
    (["map", "x.pdf"], "支持 .html 或 .png"),
    (["map", "x.html", "--measure", "封控"], "未知的管控措施"),
    (["map", "x.png", "--size", "huge"], "格式不对"),
    (["map", "x.png", "--basemap", "osm"], "不能加载在线底图"),
    (["brief", "--date", "2022-13-01", "--out", "out"], "格式不对"),
])
def test_map_and_brief_user_errors_are_one_line_and_exit_2(args, message, demo_db, tmp_path):
    args = [str(tmp_path / a) if a.endswith((".pdf", ".html", ".png")) or a == "out" else a for a in args]
    res = run_cli(*args, "--db", demo_db)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_missing_chromium_is_one_clear_line(demo_db, tmp_path):
    env = {**os.environ, "FANGKONG_CHROMIUM": str(tmp_path / "no-chromium")}
    for args in (["map", tmp_path / "x.png"], ["brief", "--out", tmp_path / "out"]):
        res = run_cli(*args, "--db", demo_db, env=env)
        assert res.returncode == 2 and "找不到 Chromium" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    html = tmp_path / "still.html"  # the HTML map needs no browser
    assert run_cli("map", html, "--db", demo_db, env=env).returncode == 0 and html.stat().st_size > 100_000


@pytest.mark.browser
def test_cli_map_png_and_brief(demo_db, chromium_path, output_dir):
    from PIL import Image

    env = {**os.environ, "FANGKONG_CHROMIUM": chromium_path}
    png = output_dir / "cli-map.png"
    res = run_cli("map", png, "--db", demo_db, "--layer", "grids", "--layer", "villages", "--size", "1000x700",
                  "--date", "2022-04-05", env=env)
    assert res.returncode == 0, res.stderr
    assert Image.open(png).size == (2000, 1400)
    res = run_cli("brief", "--date", "2022-04-07", "--out", output_dir / "brief", "--db", demo_db, env=env)
    assert res.returncode == 0, res.stderr
    made = sorted(p.suffix for p in (output_dir / "brief").iterdir())
    assert made == [".html", ".pdf", ".xlsx"] and "已脱敏" in res.stdout


# -- Pages ----------------------------------------------------------------------------


def test_briefing_page_previews_and_reports_a_missing_browser(demo_data, monkeypatch, tmp_path):
    from fangkong_lib.ui.briefing import BriefingModel, BriefingPage

    model = BriefingModel(demo_data)
    assert model.day == DEMO_DAY and not model.error
    assert "srcdoc=" in model.preview_html and "城郊乡疫情防控工作日报" in model.preview_html
    page = BriefingPage(model)
    page._day.value = EMPTY_DAY
    assert model.day == EMPTY_DAY and "全乡在外人员0人" in model.summary
    monkeypatch.setenv("FANGKONG_CHROMIUM", str(tmp_path / "no-chromium"))
    page._generate.click()
    assert model.error and model.status.startswith("生成失败：找不到 Chromium")
    assert "生成失败" in page._status.value and model.downloads_html == "" and not page._generate.disabled


@pytest.mark.browser
def test_briefing_and_overview_buttons_offer_data_downloads(demo_data, chromium_path, monkeypatch):
    import base64

    from fangkong_lib.ui.briefing import BriefingModel
    from fangkong_lib.ui.overview import OverviewPage

    monkeypatch.setenv("FANGKONG_CHROMIUM", chromium_path)
    model = BriefingModel(demo_data, day=date(2022, 4, 6))
    files = model.generate()
    assert not model.error, model.status
    links = dict(re.findall(r'data-suffix="(\.\w+)" download="[^"]+" href="data:[^;]+;base64,([^"]+)"',
                            model.downloads_html))
    assert sorted(links) == [".html", ".pdf", ".xlsx"]
    assert base64.b64decode(links[".pdf"]).startswith(b"%PDF") and files[".pdf"][0].endswith("2022-04-06.pdf")

    page = OverviewPage(OverviewModel(demo_data))
    page.model.measure = "集中隔离"
    page._export_map.click()
    value = page._map_download.value
    assert 'download="城郊乡_态势图_集中隔离_2022-04-07.html"' in value
    assert 'download="城郊乡_态势图_集中隔离_2022-04-07.png"' in value and "err" not in page._status.value
    page.model.village = demo_data.village_names[0]
    assert page._map_download.value == ""  # the filter changed: the old file is not "this map" any more


def test_overview_map_export_without_a_browser_still_gives_the_html(demo_data, monkeypatch, tmp_path):
    from fangkong_lib.ui.overview import OverviewPage

    monkeypatch.setenv("FANGKONG_CHROMIUM", str(tmp_path / "no-chromium"))
    page = OverviewPage(OverviewModel(demo_data, village=demo_data.village_names[2]))
    page._export_map.click()
    assert ".html" in page._map_download.value and ".png" not in page._map_download.value
    assert "PNG 未生成" in page._status.value and "err" in page._status.value


@pytest.mark.browser
@pytest.mark.slow
def test_buttons_work_in_a_real_voila_kernel(demo_db, chromium, tmp_path_factory, output_dir):
    """In Voilà, widget callbacks run inside the kernel's asyncio loop: the
    browser that draws the files must still start, and the files must reach
    the user as data: downloads, with nothing fetched from outside."""
    try:  # tests/ as a plain folder on sys.path, or as a package
        from browser_support import RequestLog, running_server
    except ImportError:  # pragma: no cover
        from tests.browser_support import RequestLog, running_server

    with running_server(demo_db, tmp_path_factory.mktemp("voila-briefing")) as base:
        context = chromium.browser.new_context(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        context.set_default_timeout(120_000)
        log = RequestLog(context)
        try:
            page = context.new_page()
            page.goto(f"{base}voila/render/briefing.ipynb")
            page.wait_for_selector("iframe.fk-briefing-preview")
            page.locator(".fk-generate").click()
            page.wait_for_selector(".fk-download a[data-suffix='.pdf']")
            assert "已生成" in page.locator(".fk-status").inner_text()
            with page.expect_download() as download:
                page.locator(".fk-download a[data-suffix='.pdf']").click()
            pdf = Path(download.value.path()).read_bytes()
            assert pdf.startswith(b"%PDF") and download.value.suggested_filename.endswith("2022-04-07.pdf")
            page.screenshot(path=str(output_dir / "briefing-page.png"))

            page.goto(f"{base}voila/render/overview.ipynb")
            page.wait_for_selector(".fk-export-map")
            page.locator(".fk-export-map").click()
            page.wait_for_selector(".fk-map-download a[data-suffix='.png']")
            with page.expect_download() as download:
                page.locator(".fk-map-download a[data-suffix='.png']").click()
            assert Path(download.value.path()).read_bytes().startswith(b"\x89PNG")
            page.screenshot(path=str(output_dir / "overview-export.png"))
        finally:
            context.close()
    assert log.remote() == []


def test_exported_map_is_the_map_the_overview_shows(demo_data):
    """导出地图 and the page call one function with the same filters: the
    exported HTML is the displayed document (up to folium's random ids)."""
    from fangkong_lib.views.maps import render_map
    from fangkong_lib.views.situation import make_situation_map

    ids = re.compile(r"[0-9a-f]{32}")
    kwargs = dict(village="柳湾村", measure="居家隔离", basemap="none")
    shown = render_map(make_situation_map(demo_data, DEMO_DAY, **kwargs))
    [(name, content)] = briefing.map_files(demo_data, DEMO_DAY, formats=(".html",), **kwargs)
    assert name == "城郊乡_态势图_柳湾村_居家隔离_2022-04-07.html"
    assert ids.sub("", content.decode("utf-8")) == ids.sub("", shown)
    assert "柳湾村 · 居家隔离 · 2022-04-07（星期四）" in shown
