"""The gatherings and publicity figures other pages show (the overview's
cards and the lists they open), from :mod:`fangkong_lib.domain.gatherings`
and :mod:`fangkong_lib.domain.publicity_work`."""

from __future__ import annotations

from datetime import date

import pandas as pd

from ...domain import gatherings as gat
from ...domain import publicity_work as pub
from ...ingest.normalize import mask_frame
from ...ledgers import get_ledger
from ...views.tables import frame_html

__all__ = ["FIGURE_LABELS", "LISTS", "community_figures", "community_list"]

#: Card labels, in display order (every card opens the rows it counts, so
#: the leaflet coverage, a percentage, stays on the publicity page and in the briefing).
FIGURE_LABELS = {**gat.FIGURE_LABELS, "publicity_behind": pub.FIGURE_LABELS["publicity_behind"]}
#: Cards that open the rows they count.
LISTS = ("gatherings_pending", "gatherings_breaching", "gatherings_7d", "publicity_behind")


def community_figures(ledgers, day: date, village: str | None = None, memo=None) -> dict[str, int]:
    """Gatherings waiting, breaking the rules and coming up; villages behind
    with publicity and the leaflet coverage. ``memo`` (a page's
    :meth:`~.base.PageModel.memo`): the township's publicity coverage once per day."""
    once = memo or (lambda _key, build: build())
    coverage = once(("publicity_coverage", day),
                    lambda: pub.publicity_coverage(ledgers["publicity"], ledgers["villages"], day))
    publicity = pub.publicity_figures(ledgers["publicity"], ledgers["villages"], day, village=village,
                                      coverage=coverage)
    table = once(("gathering_table",), lambda: gat.gathering_table(ledgers["gatherings"]))
    return {**gat.gathering_figures(ledgers["gatherings"], day, village=village, table=table),
            "publicity_behind": publicity["publicity_behind"]}


def community_list(ledgers, key: str, day: date, village: str | None = None) -> tuple[str, str]:
    """(title, HTML) of the rows card ``key`` counts."""
    if key == "publicity_behind":
        cov = pub.publicity_coverage(ledgers["publicity"], ledgers["villages"], day)
        cov = cov[cov["behind"] & ((cov["village"] == village) if village else True)]
        shown = cov[["village", "reasons_text"]].rename(columns=pub.COVERAGE_COLUMNS)
        return FIGURE_LABELS[key], frame_html(shown, css_class="fk-table fk-kpi-rows", empty="没有")
    rows = ledgers["gatherings"]
    if village:
        rows = rows[rows["village"] == village]
    table = gat.gathering_table(rows)
    ts = pd.Timestamp(day)
    when, reported = pd.to_datetime(table["date"]), pd.to_datetime(table["reported_at"])
    known = reported.isna() | (reported < ts + pd.Timedelta(days=1))
    chosen = {
        "gatherings_pending": known & table["state"].isin([gat.PENDING, gat.VILLAGE_APPROVED]),
        "gatherings_breaching": known & (when >= ts) & (table["breach_text"] != ""),
        "gatherings_7d": known & when.between(ts, ts + pd.Timedelta(days=7)),
    }[key]
    picked = table[chosen]
    labels = get_ledger("gatherings").labels | {"state": "审批", "breach_text": "不符合项"}
    columns = ["host", "village", "kind", "date", "expected_people", "tables", "reported_at", "state", "breach_text"]
    shown = mask_frame(picked, get_ledger("gatherings"))[columns].rename(columns=labels)
    return FIGURE_LABELS[key], frame_html(shown, css_class="fk-table fk-kpi-rows", empty="没有")
