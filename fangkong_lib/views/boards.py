"""The rectification board (督查问题看板): problems as cards in one column per
stage, overdue ones highlighted. Escaped HTML, no widgets."""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from .maps import escape_text


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
    tag = '<span class="fk-tag">逾期</span>' if overdue else ""
    lines = [
        f"<b>{escape_text(row['problem_no'])}</b>{tag}",
        f"{escape_text(where)} · {escape_text(row.get('category') or '')}",
        escape_text(row.get("description") or ""),
        f"{escape_text(row.get('team') or '')}" + (f" · 责任：{escape_text(unit)}" if unit else ""),
        f"时限 {escape_text(deadline)}" if deadline else "",
    ]
    cls = "fk-card fk-overdue" if overdue else "fk-card"
    body = "<br>".join(line for line in lines if line)
    return (f'<div class="{cls}" data-problem="{escape_text(row["problem_no"])}" '
            f'data-stage="{escape_text(row.get("stage") or "")}">{body}</div>')


def problem_board_html(columns: Mapping[str, pd.DataFrame]) -> str:
    """The board: one column per stage (in the order given), with counts."""
    parts = []
    for stage, rows in columns.items():
        cards = "".join(problem_card_html(r) for r in rows.to_dict("records")) or '<div class="fk-empty">无</div>'
        late = int(rows["overdue"].sum()) if "overdue" in rows and len(rows) else 0
        late_text = f'<span class="fk-flag">（逾期 {late}）</span>' if late else ""
        parts.append(
            f'<div class="fk-board-col" data-stage="{escape_text(stage)}">'
            f'<h4>{escape_text(stage)} <span class="fk-board-count">{len(rows)}</span>{late_text}</h4>'
            f'<div class="fk-board-list">{cards}</div></div>'
        )
    return f'<div class="fk-board">{"".join(parts)}</div>'
