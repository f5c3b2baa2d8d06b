"""Briefing outputs: the situation map as a file, and the daily report (日报).

- :mod:`.figures`: :func:`summarize_briefing`, what the report says for one
  date, computed with the dashboards' own domain functions;
- :mod:`.html`, :mod:`.xlsx`, :mod:`.chart`: the report as a self-contained
  HTML document (and PDF), a workbook, and its 14-day chart;
- :mod:`.maps`: the situation map (the overview's map,
  :func:`fangkong_lib.views.situation.make_situation_map`) as HTML or PNG;
- :mod:`.files`: :func:`briefing_files` and :func:`write_briefing`.

Personal data in every output is masked (names, ID numbers, phones); all
text that reaches HTML is escaped.
"""

from ...views.layers import MAP_LAYERS, MapLayer, check_layers, default_layers, register_map_layer
from ...views.situation import make_situation_map
from ..render import RenderError
from .chart import control_chart_png
from .figures import (
    FEVER_COLUMNS, HEADLINE, PROBLEM_COLUMNS, PUSH_COLUMNS, SUPPLY_COLUMNS, TEST_COLUMNS, ActionList, Briefing,
    fever_readings, overdue_problems, overdue_pushes, overdue_tests, summarize_briefing, supply_alerts,
    village_table_with_total,
)
from .files import MIME, briefing_file_name, briefing_files, write_briefing
from .html import briefing_html
from .maps import export_map, map_document, map_file_name, map_files, map_png
from .xlsx import briefing_xlsx

__all__ = [
    "MAP_LAYERS", "MapLayer", "register_map_layer", "default_layers", "check_layers", "make_situation_map",
    "map_document", "map_png", "export_map", "map_files", "map_file_name", "RenderError",
    "HEADLINE", "ActionList", "Briefing", "summarize_briefing", "overdue_tests", "fever_readings",
    "overdue_pushes", "overdue_problems", "supply_alerts", "village_table_with_total",
    "TEST_COLUMNS", "FEVER_COLUMNS", "PUSH_COLUMNS", "PROBLEM_COLUMNS", "SUPPLY_COLUMNS",
    "control_chart_png", "briefing_html", "briefing_xlsx", "briefing_files", "briefing_file_name",
    "write_briefing", "MIME",
]
