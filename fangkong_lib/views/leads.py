"""Leads (线索核查) as HTML for the pages that summarise them (the
overview): open and overdue leads by source, and the leads someone must act
on now, naming who. Every value is escaped (:mod:`.tables`)."""

from __future__ import annotations

import pandas as pd

from ..domain.leads import ACT_COLUMNS, leads_by_source, leads_to_act
from ..views.html import html
from .tables import frame_html

__all__ = ["leads_summary_html"]


def leads_summary_html(table: pd.DataFrame, *, max_rows: int = 30) -> str:
    """Open / overdue leads per source and the overdue or unassigned ones
    with their responsible people (``table``: rows of
    :func:`fangkong_lib.domain.leads.lead_status`; names as shown to staff)."""
    by_source = leads_by_source(table)[["未办结", "已逾期", "待分派"]]
    by_source = by_source[by_source.sum(axis=1) > 0]
    act = leads_to_act(table)
    shown = act[list(ACT_COLUMNS)].assign(
        received_at=act["received_at"].dt.strftime("%m-%d %H:%M"),
        deadline=pd.to_datetime(act["deadline"]).dt.strftime("%m-%d %H:%M")).rename(columns=ACT_COLUMNS)
    return (str(html("<h3 class='fk-h'>{t}</h3>", t="线索核查（按来源）"))
            + frame_html(by_source, index=True, css_class="fk-table fk-leads-by-source", empty="没有未办结的线索")
            + str(html("<h3 class='fk-h'>{t}（{n}）</h3>", t="逾期或待分派的线索", n=len(act)))
            + frame_html(shown, css_class="fk-table fk-leads-to-act", max_rows=max_rows, empty="无"))
