"""The rectification board (督查问题看板): problems as cards in one column per
stage, overdue ones highlighted. Escaped HTML, no widgets."""

from __future__ import annotations

from typing import Callable, Mapping

import pandas as pd

from .html import Markup, html, join_html


def _day(value) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    return pd.Timestamp(value).strftime("%m-%d")


def problem_card_html(row: Mapping) -> str:
    """One problem as a card: number, where, category, deadline, unit; an
    overdue card carries ``fk-overdue`` and a 逾期 tag."""
    overdue = bool(row.get("overdue"))
    where = row.get("target") or row.get("village") or ""
    unit = row.get("unit") or ""
    deadline = _day(row.get("deadline"))
    tag = Markup('<span class="fk-tag">逾期</span>') if overdue else ""
    lines = [
        html("<b>{no}</b>{tag}", no=row["problem_no"], tag=tag),
        html("{where} · {category}", where=where, category=row.get("category") or ""),
        html("{d}", d=row.get("description") or ""),
        html("{team}{unit}", team=row.get("team") or "", unit=html(" · 责任：{u}", u=unit) if unit else ""),
        html("时限 {d}", d=deadline) if deadline else "",
    ]
    cls = "fk-card fk-overdue" if overdue else "fk-card"
    body = join_html([line for line in lines if line], sep=Markup("<br>"))
    return str(html('<div class="{cls}" data-problem="{no}" data-stage="{stage}">{body}</div>',
                    cls=cls, no=row["problem_no"], stage=row.get("stage") or "", body=body))


def problem_board_html(columns: Mapping[str, pd.DataFrame], *, card: Callable[[Mapping], str] = problem_card_html,
                       titles: Mapping[str, str] | None = None) -> str:
    """The board: one column per stage (in the order given), with counts.
    ``card`` draws one row (another loop's items, e.g. assigned tasks) and
    ``titles`` names the stages in that loop's words."""
    parts = []
    for stage, rows in columns.items():
        cards = (join_html(Markup(card(r)) for r in rows.to_dict("records"))
                 or Markup('<div class="fk-empty">无</div>'))
        late = int(rows["overdue"].sum()) if "overdue" in rows and len(rows) else 0
        late_text = html('<span class="fk-flag">（逾期 {n}）</span>', n=late) if late else ""
        parts.append(html(
            '<div class="fk-board-col" data-stage="{stage}"><h4>{title} <span class="fk-board-count">{n}</span>'
            '{late}</h4><div class="fk-board-list">{cards}</div></div>',
            stage=stage, title=(titles or {}).get(stage, stage), n=len(rows), late=late_text, cards=cards))
    return str(html('<div class="fk-board">{parts}</div>', parts=join_html(parts)))
