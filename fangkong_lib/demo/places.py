"""Key places (重点场所, gate 4) with their venue codes, and their inspections."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from ..domain.places import place_table
from ..ledgers import LEDGERS, PLACE_CATEGORIES
from .context import Township
from .draws import SURNAMES, pick, random_day
from .geometry import random_point_in

N_PLACES = 435
CHECKLIST = ("code_posted", "scan_enforced", "temperature", "masks", "crowd_limit",
             "disinfection_log", "staff_health_log")


def add_places(t: Township) -> None:
    """The 435 places, each at a point inside its village."""
    rng, names = t.rng, t.names
    cat_p = np.array([6, 4, 4, 5, 3, 8, 6, 6, 3, 1, 1, 2, 2, 9, 2, 1, 4], dtype=float)
    cat_p /= cat_p.sum()
    for i in range(N_PLACES):
        v = int(rng.integers(t.n_villages))
        pt = random_point_in(t.village_geoms[v], rng)
        cat = pick(rng, PLACE_CATEGORIES[:len(cat_p)], p=cat_p)  # the one 卫生院 comes with the sentinels
        t.places.append(dict(
            code=f"ZKT{t.code[-3:]}{i + 1:04d}", name=f"{t.village_names[v][:-1]}{pick(rng, SURNAMES)}记{cat}",
            category=cat, village=t.village_names[v], address=f"{t.name}{t.village_names[v]}",
            manager=names.person(), manager_phone=names.phone(), code_posted=bool(rng.random() < 0.95),
            status="正常营业", staff_count=int(rng.integers(1, 60)), lon=round(pt.x, 6), lat=round(pt.y, 6),
        ))


def add_inspections(t: Township, n: int = 320) -> None:
    """场所检查: ``n`` inspections of random places; failed items decide the action."""
    rng, today, places = t.rng, t.today, t.places
    inspections = []
    labels = LEDGERS["inspections"].labels
    for i in range(n):
        p = places[int(rng.integers(N_PLACES))]
        when = random_day(rng, date(2022, 3, 12), today)
        items = {k: bool(rng.random() > 0.04) for k in CHECKLIST}
        items["drug_register"] = bool(rng.random() > 0.08) if p["category"] in ("药店", "诊所") else None
        failed = [labels[k] for k, ok in items.items() if ok is False]
        action = "无" if not failed else ("停业整改" if len(failed) >= 3 else "限期整改" if len(failed) == 2 else "现场整改")
        inspections.append(dict(
            date=when, place_code=p["code"], place_name=p["name"], category=p["category"], village=p["village"],
            **items, scans_today=int(rng.integers(0, 300)), findings="、".join(f"未落实{f}" for f in failed),
            action=action, deadline=when + timedelta(days=3) if action == "限期整改" else None,
            recheck_result="", inspector=pick(rng, ("市场监管所", "乡综治办", "派出所", "卫生院")),
        ))
    inspections = pd.DataFrame(inspections).drop_duplicates(["date", "place_code"])
    t.out["inspections"] = inspections
    # The ledger's 状态 is what the latest inspection left (the same rule the
    # places page reads), so ledger and page agree.
    frame = pd.DataFrame(places)
    frame["status"] = place_table(frame, inspections, today)["status"].to_numpy()
    for place, status in zip(places, frame["status"]):
        place["status"] = status
    t.out["places"] = frame
