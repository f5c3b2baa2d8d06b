"""HTML tables and KPI cards for the dashboards (escaped, no widgets).

Builders return the HTML as ``str`` (every value escaped through
:func:`fangkong_lib.views.html.html`); to put one inside another template,
wrap it in :class:`~markupsafe.Markup` (it is already escaped).
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from ..ledgers import get_ledger
from ..ingest.normalize import mask_frame
from .html import html, join_html

#: KPIs drawn in warning colours when above zero.
ALERT_KPIS = frozenset({"tests_overdue", "fevers", "open_problems",
                        "recheck_overdue", "problems_overdue", "expiring", "below_minimum",
                        "duty_gaps", "tasks_overdue", "reports_late", "reports_missing", "meetings_missing",
                        "low_attendance"})


def _fmt(value) -> str:
    """Numbers with thousands separators, anything else as text (unescaped:
    callers put it through :func:`html`)."""
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 1000 or value.is_integer() else f"{value:,.1f}"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else value


def kpi_cards_html(kpis: Mapping[str, float], labels: Mapping[str, str]) -> str:
    """A row of KPI cards; each card carries ``data-kpi`` for tests and CSS."""
    cards = []
    for key, label in labels.items():
        if key not in kpis:
            continue
        value = kpis[key]
        alert = " fk-alert" if key in ALERT_KPIS and value else ""
        cards.append(html('<div class="fk-kpi{alert}" data-kpi="{key}"><div class="fk-kpi-value">{value}</div>'
                          '<div class="fk-kpi-label">{label}</div></div>',
                          alert=alert, key=key, value=_fmt(value), label=label))
    return str(html('<div class="fk-kpi-row">{cards}</div>', cards=join_html(cards)))


def frame_html(frame: pd.DataFrame, *, index: bool = False, css_class: str = "fk-table",
               max_rows: int = 200, empty: str = "无", cell_class=None) -> str:
    """An escaped HTML table (at most ``max_rows`` rows, with a note if cut).

    ``cell_class(column, value)``, when given, returns a CSS class for a cell
    (e.g. a report status coloured red).
    """
    if frame.empty:
        return str(html('<div class="fk-empty">{empty}</div>', empty=empty))
    shown = frame.head(max_rows)
    cols = ([shown.index.name or ""] if index else []) + [str(c) for c in shown.columns]
    head = join_html(html("<th>{c}</th>", c=c) for c in cols)
    rows = []
    for idx, row in zip(shown.index, shown.itertuples(index=False, name=None)):
        cells = ([idx] if index else []) + list(row)
        classes = [None] * len(cells) if cell_class is None else [cell_class(c, v) for c, v in zip(cols, cells)]
        rows.append(html("<tr>{cells}</tr>", cells=join_html(
            html('<td class="{cls}">{v}</td>', cls=cls, v=_cell(v)) if cls else html("<td>{v}</td>", v=_cell(v))
            for v, cls in zip(cells, classes))))
    more = (html('<div class="fk-more">仅显示前 {n} 行，共 {total} 行</div>', n=max_rows, total=len(frame))
            if len(frame) > max_rows else "")
    return str(html('<div class="fk-table-wrap"><table class="{cls}"><thead><tr>{head}</tr></thead>'
                    '<tbody>{rows}</tbody></table></div>{more}', cls=css_class, head=head, rows=join_html(rows),
                    more=more))


def _cell(value) -> str:
    """A value as table text (unescaped: :func:`frame_html` escapes it)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if type(value).__name__ == "NAType":
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "是" if value else "否"
    return _fmt(value)


def village_table_html(table: pd.DataFrame) -> str:
    """The per-village table with a 合计 row."""
    if table.empty:
        return frame_html(table)
    total = table.sum().to_frame("合计").T
    total.index.name = table.index.name
    return frame_html(pd.concat([table, total]), index=True, css_class="fk-table fk-village")


def people_table_html(ov, *, masked: bool = True) -> str:
    """The people to act on today: fevers, overdue and due tests; personal
    data masked by default."""
    controls = ov.controls
    cols = ["name", "village", "grid", "id_number", "phone", "current_measure"]
    parts = []
    if len(ov.fevers):
        f = ov.fevers.merge(controls[["id_number", "grid", "phone", "current_measure"]], on="id_number", how="left")
        f = f.assign(事项="发热", 说明=f[["temp_am", "temp_pm"]].max(axis=1).map(lambda x: f"{x:.1f}℃"))
        parts.append(f)
    for frame, label in ((ov.tests_overdue, "逾期未检"), (ov.tests_due, "今日待检")):
        if len(frame):
            g = frame.merge(controls[["id_number", "phone", "current_measure"]], on="id_number", how="left")
            g = g.assign(事项=label, 说明=g["planned"].dt.strftime("计划 %m-%d"))
            parts.append(g)
    if not parts:
        return frame_html(pd.DataFrame(), empty="今日无待处置事项")
    people = pd.concat(parts, ignore_index=True)[["事项", *cols, "说明"]]
    if masked:
        people = mask_frame(people, get_ledger("controls"))
    labels = get_ledger("controls").labels | {"current_measure": "当前措施"}
    people = people.rename(columns=labels)
    return frame_html(people, css_class="fk-table fk-people")
