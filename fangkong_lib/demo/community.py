"""Gatherings (红白事报备), the volunteers of the party-member service team and
the villages' daily reports (日报告、零报告)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pandas as pd

from .context import START_RETURNS, Township
from .draws import pick, random_day


def add_gatherings(t: Township) -> None:
    """Five funerals handled, two weddings talked into waiting."""
    rng, names, today = t.rng, t.names, t.today
    gatherings = []
    for i in range(5):
        v = int(rng.integers(t.n_villages))
        when = random_day(rng, date(2022, 3, 12), today)
        gatherings.append(dict(
            host=names.person(), phone=names.phone(), village=t.village_names[v], kind="白事", date=when,
            place=f"{t.village_names[v]}事主家中", expected_people=int(rng.integers(20, 45)),
            tables=int(rng.integers(0, 4)), outside_guests=int(rng.integers(0, 6)), pledge=True,
            supervisor=t.village_rows[v]["secretary"],
            reported_at=datetime.combine(when, datetime.min.time()) + timedelta(hours=int(rng.integers(7, 12))),
            approval="乡已审批", actual="简办，村干部全程在场",
        ))
    for i in range(2):
        v = int(rng.integers(t.n_villages))
        when = random_day(rng, today + timedelta(days=10), today + timedelta(days=40))
        gatherings.append(dict(
            host=names.person(), phone=names.phone(), village=t.village_names[v], kind="红事", date=when,
            place=f"{t.village_names[v]}", expected_people=int(rng.integers(30, 50)), tables=5,
            outside_guests=int(rng.integers(0, 10)), pledge=True, supervisor=t.village_rows[v]["secretary"],
            reported_at=datetime.combine(today - timedelta(days=int(rng.integers(1, 10))), datetime.min.time()),
            approval="待审批", actual="已劝导缓办",
        ))
    t.out["gatherings"] = pd.DataFrame(gatherings)


def add_volunteers(t: Township) -> None:
    """376 volunteers: 31 probationary members, 46 activists and others."""
    rng, names = t.rng, t.names
    identities = ["预备党员"] * 31 + ["入党积极分子"] * 46
    identities += [pick(rng, ("老党员", "教师", "机关干部", "其他"), p=(0.5, 0.25, 0.15, 0.1)) for _ in range(376 - 77)]
    vols = []
    for i, ident in enumerate(identities):
        v = int(rng.integers(t.n_villages))
        vols.append(dict(
            volunteer_no=f"ZY{i + 1:04d}", name=names.person(), identity=ident, village=t.village_names[v],
            post=pick(rng, ("守门员", "消杀员", "代购员", "卡点", "核酸")), phone=names.phone(),
            households=str(int(rng.integers(0, 12))), hours=float(int(rng.integers(4, 120))),
        ))
    t.out["volunteers"] = pd.DataFrame(vols)


def add_village_reports(t: Township) -> None:
    """日报告、零报告 (see :func:`village_reports`)."""
    t.out["village_reports"] = pd.DataFrame(village_reports(t.out, t.today, t.rng, t.names, t.village_names))


def village_reports(out: dict, today: date, rng, names, villages) -> list[dict]:
    """日报告、零报告: every village reports every day before 17:00; on the
    demo day a few have not reported yet."""
    rows = []
    # counted once up front: filtering the frames per village and day took
    # most of the whole build's time
    arrivals_on = Counter(zip(out["returnees"]["village"], out["returnees"]["actual_arrival"]))
    spans: dict[str, list[tuple[date, date]]] = {}
    for village, start, end in zip(out["controls"]["village"], out["controls"]["start_date"], out["controls"]["end_date"]):
        spans.setdefault(village, []).append((start, end))
    day = START_RETURNS
    while day <= today:
        for v in villages:
            if day == today and rng.random() < 0.18:
                continue  # not in yet: shows as missing at 17:00
            arrivals = arrivals_on[(v, day)]
            active = sum(start <= day <= end for start, end in spans.get(v, ()))
            late = rng.random() < 0.05
            at = datetime.combine(day, datetime.min.time()) + timedelta(
                hours=17 if late else 15, minutes=int(rng.integers(0, 59)) if late else int(rng.integers(0, 120)))
            rows.append(dict(
                date=day, village=v, reported_at=at, zero_report=arrivals == 0, new_away=0, arrivals=arrivals,
                under_control=active, fevers=0, reporter=names.person(), note="",
            ))
        day += timedelta(days=1)
    return rows
