"""Every HTML builder of views/ and outputs/ escapes the data it is given.

Hostile values (a tag with a handler, a template-literal expression, a
backtick, quotes) go into every text a builder shows; none may come out as
it went in. folium puts tooltip and popup text into innerHTML and into JS
template literals, so ``${``, backticks and backslashes must be entities too.
"""

from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from fangkong_lib.views import boards, maps, page_maps, returnees, tables
from fangkong_lib.views.html import html
from fangkong_lib.outputs.briefing import figures
from fangkong_lib.outputs.briefing.html import briefing_html, pdf_footer, pdf_header

TAG = "<img src=x onerror=alert(1)>"
TEMPLATE = "${alert(1)}"
TICK = "`x`"
QUOTE = '"q" \'s\''
EVIL = f"{TAG}{TEMPLATE}{TICK}{QUOTE}"
DAY = date(2022, 4, 7)


def assert_escaped(out: str) -> None:
    out = str(out)  # whole documents carry folium's own script: look for the payloads
    assert TAG not in out, "tag came through"
    assert TEMPLATE not in out, "template literal came through"
    assert TICK not in out, "backtick came through"
    assert '"q"' not in out and '\\"q\\"' not in out, "double quote came through"
    assert "&lt;img src=x onerror=alert(1)&gt;" in out, "the text should still be there, escaped"


def square(x, y, d=0.01):
    return shapely.box(x, y, x + d, y + d)


@pytest.fixture
def villages():
    return gpd.GeoDataFrame({"name": [EVIL, "柳湾村"], "code": ["1", "2"]},
                            geometry=[square(115.1, 33.6), square(115.12, 33.6)], crs="EPSG:4326")


@pytest.fixture
def grids():
    return gpd.GeoDataFrame({"code": [EVIL], "village": [EVIL], "natural_village": [EVIL], "member": [EVIL]},
                            geometry=[square(115.1, 33.6, 0.005)], crs="EPSG:4326")


@pytest.fixture
def naturals():
    return pd.DataFrame({"name": [EVIL], "village": [EVIL], "lon": [115.105], "lat": [33.605]})


# -- Tables, cards, boards -----------------------------------------------------------


def test_tables_and_cards():
    frame = pd.DataFrame({EVIL: [EVIL, 1], "n": [2, None]})
    assert_escaped(tables.frame_html(frame))
    assert_escaped(tables.frame_html(frame.set_index(EVIL), index=True))
    assert_escaped(tables.frame_html(pd.DataFrame(), empty=EVIL))
    assert_escaped(tables.frame_html(frame, cell_class=lambda c, v: EVIL))
    assert_escaped(tables.kpi_cards_html({EVIL: EVIL}, {EVIL: EVIL}))
    assert_escaped(tables.village_table_html(pd.DataFrame({"x": [1]}, index=pd.Index([EVIL], name=EVIL))))


def test_problem_board():
    row = {"problem_no": EVIL, "target": EVIL, "category": EVIL, "description": EVIL, "team": EVIL,
           "unit": EVIL, "deadline": pd.Timestamp("2022-04-01"), "overdue": True, "stage": EVIL}
    assert_escaped(boards.problem_card_html(row))
    assert_escaped(boards.problem_board_html({EVIL: pd.DataFrame([row])}))


def test_returnee_page_html():
    person = {"name": EVIL, "status": EVIL, "flags": EVIL, "village": EVIL, "natural_village": EVIL, "grid": EVIL,
              "category": EVIL, "origin": EVIL, "id_number": "411625199001011234"}
    days = pd.DataFrame({"date": [DAY], "day_no": [1], "test_state": [EVIL], "test_text": [EVIL],
                         "am_state": ["done"], "am_text": [EVIL], "pm_state": ["due"], "pm_text": [EVIL]})
    control = {"measure": EVIL, "test_dates": EVIL, "start_date": DAY}
    assert_escaped(returnees.person_detail_html(person, control=control, days=days, team=[(EVIL, EVIL)],
                                                regime=EVIL))
    assert_escaped(returnees.days_grid_html(days))
    people = pd.DataFrame([{k: EVIL for k in returnees.PEOPLE_COLUMNS}])
    assert_escaped(returnees.returnee_table_html(people))
    assert_escaped(returnees.alerts_html({"fevers": pd.DataFrame({"name": [EVIL], "village": [EVIL]})}))


# -- Maps: tooltips, popups, labels, title, legend, notes ---------------------------------


def test_map_frame_title_legend_notes(villages):
    m = maps.make_map_frame(villages, focus=EVIL, title=EVIL, subtitle=EVIL, notes=EVIL,
                            legend=maps.legend_rows(EVIL, [(EVIL, EVIL)], mark="dot"))
    assert_escaped(maps.render_map(m))


def test_map_layers(villages, grids, naturals):
    m = maps.make_overview_map(grids, villages, naturals, pd.Series({EVIL: 3}), title=EVIL, subtitle=EVIL,
                               note=EVIL, count_label=EVIL, legend_title=EVIL)
    maps.add_village_values_layer(m, villages, pd.Series({EVIL: 3.0}), bins=(0, 1), colours=("#fff", "#000"),
                                  unit=EVIL)
    points = gpd.GeoDataFrame({"tip": [EVIL], "c": [EVIL]}, geometry=[shapely.Point(115.1, 33.6)], crs="EPSG:4326")
    maps.add_points_layer(m, points, label="tip", color="c", severity=[EVIL])
    maps.add_points_layer(m, points, label="tip", cluster=False)
    assert_escaped(maps.render_map(m))


def test_page_maps(villages):
    places = pd.DataFrame({"name": [EVIL], "category": [EVIL], "status": [EVIL], "lon": [115.1], "lat": [33.6]})
    for m in (
        page_maps.make_places_map(villages, places, township=EVIL, day=DAY, scope=EVIL, note=EVIL),
        page_maps.make_problems_map(villages, pd.Series({EVIL: 2}), township=EVIL, day=DAY, note=EVIL),
        page_maps.make_supplies_map(villages, pd.DataFrame({"quantity": [1.0], "value": [2.0]}, index=[EVIL]),
                                    township=EVIL, issues=1, item=EVIL, unit=EVIL, note=EVIL),
    ):
        assert_escaped(maps.render_map(m))


def test_map_iframe_keeps_the_document_inside_the_attribute():
    import html as std_html
    import re

    document = f'<html><script>var a = "{TICK}{TEMPLATE}";</script></html>'
    frame = maps.map_iframe(document, title=EVIL)
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert "<script>" not in srcdoc and std_html.unescape(srcdoc) == document  # cannot leave the attribute
    assert_escaped(frame.split("srcdoc=")[0])  # the title


# -- The briefing ----------------------------------------------------------------------


def _briefing() -> figures.Briefing:
    kpis = {key: 1 for key, _ in figures.HEADLINE}
    headline = pd.DataFrame([{"key": k, "指标": EVIL, "今日": 1, "昨日": 0, "较昨日": 1} for k, _ in figures.HEADLINE])
    villages = pd.DataFrame({"报告情况": [EVIL], "上报时间": [EVIL], "管控中": [1], "村报在管": pd.array([2], "Int64")},
                            index=pd.Index([EVIL], name="村"))
    reports = pd.DataFrame({"status": [EVIL]}, index=[EVIL])
    actions = [figures.ActionList(EVIL, EVIL, pd.DataFrame({EVIL: [EVIL]}), EVIL, EVIL)]
    return figures.Briefing(day=DAY, township=EVIL, synthetic=True, source_note=EVIL, kpis=kpis,
                            kpis_yesterday=kpis, headline=headline, villages=villages, reports=reports,
                            actions=actions, history=pd.DataFrame(), chart_png=b"png",
                            generated_at=datetime(2022, 4, 7, 18, 0))


def test_briefing_html_and_pdf_furniture():
    b = _briefing()
    assert_escaped(briefing_html(b))
    assert_escaped(pdf_footer(b))
    assert EVIL not in pdf_header(b)


def test_html_helper_keeps_markup_and_escapes_text():
    inner = html("<i>{x}</i>", x=EVIL)
    assert_escaped(html("<p>{inner}{again}</p>", inner=inner, again=EVIL))
    assert str(html("<p>{inner}</p>", inner=inner)).startswith("<p><i>")
    assert np.isnan(float("nan"))  # NaN shows as an empty cell, not "nan"
    assert "nan" not in str(tables.frame_html(pd.DataFrame({"a": [float("nan")]})))
