"""The duty roster (值班值守): the township HQ, the 17 village HQs and the
eight 24 h checkpoints of the checkpoint logs, staffed shift by shift from
the staff, the village doctors and police, and the volunteers posted to
checkpoints. Mostly complete; a few shifts on and around the demo day are
short (a night shift without police or medic, a shift down to one person, a
village HQ's night nobody took), as a duty officer would find them.

Draws from a generator of its own, so the sections before it stay as they are.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
from shapely.geometry import LineString
from shapely.ops import unary_union

from ..policy.duty import load_duty_policy
from .context import Township
from .draws import Names

#: Constant of this section's own random stream.
STREAM = 12_01
FIRST_DAY = date(2022, 3, 28)
#: Shifts left short on purpose: (days from the demo day, post, shift, 身份 left off; None: everyone).
GAPS = (
    (-1, "乡政府路口卡点", "早班", ("志愿者",)),
    (0, "东环路卡点", "夜班", ("民警", "医护")),
    (0, "S207省道卡点", "中班", ("民警", "医护", "志愿者")),
    (0, "桃溪村疫情防控指挥部", "夜班", None),
    (1, "郸城汽车站卡点", "早班", None),
    (1, "311国道城郊卡点", "夜班", ("乡干部", "村干部")),
)


def hq_post(t: Township) -> str:
    """The name of the township HQ's post (城郊乡疫情防控指挥部)."""
    return f"{t.name}疫情防控指挥部"


def village_post(village: str) -> str:
    """The name of a village's HQ post."""
    return f"{village}疫情防控指挥部"


def _checkpoint_points(t: Township, rng) -> list[tuple[float, float]]:
    """Checkpoints on the township's edge (roads into it), evenly around it."""
    shape = unary_union(t.village_geoms).convex_hull  # the outline, without gaps between villages
    centre = shape.centroid
    minx, miny, maxx, maxy = shape.bounds
    radius = max(maxx - minx, maxy - miny)
    points = []
    for i, _ in enumerate(t.checkpoints):
        angle = 2 * math.pi * (i + rng.uniform(0.2, 0.8)) / len(t.checkpoints)
        ray_end = (centre.x + radius * math.cos(angle), centre.y + radius * math.sin(angle))
        cut = LineString([(centre.x, centre.y), ray_end]).intersection(shape.boundary)
        hit = cut if cut.geom_type == "Point" else min(getattr(cut, "geoms", [centre]),
                                                         key=lambda p: p.distance(centre))
        # a little inside the edge
        x = centre.x + 0.9 * (hit.x - centre.x)
        y = centre.y + 0.9 * (hit.y - centre.y)
        points.append((round(x, 6), round(y, 6)))
    return points


def add_duty_roster(t: Township) -> None:
    """值守点位 and 值班排班 from FIRST_DAY to the day after the demo day."""
    rng = np.random.default_rng([t.seed, STREAM])
    names = Names(rng)
    policy = load_duty_policy()
    HQ = hq_post(t)
    posts = [dict(name=HQ, kind="指挥部", village="", note="24 小时值班：乡干部带班")]
    for v, row in enumerate(t.village_rows):
        c = t.village_geoms[v].centroid
        posts.append(dict(name=village_post(row["name"]), kind="村指挥部", village=row["name"],
                          lon=round(c.x, 6), lat=round(c.y, 6), note="村两委值班"))
    hq_at = unary_union(t.village_geoms).centroid
    posts[0].update(lon=round(hq_at.x, 6), lat=round(hq_at.y, 6))
    for name, (x, y) in zip(t.checkpoints, _checkpoint_points(t, rng)):
        posts.append(dict(name=name, kind="卡口", village="", lon=x, lat=y, note="24 小时三班倒"))
    t.out["duty_posts"] = pd.DataFrame(posts)

    staff = t.out["staff"]
    phones = dict(zip(staff["name"], staff["phone"]))
    leaders = staff[staff["level"].isin(("大网格长", "网格长"))]["name"].tolist()
    cadres = staff[staff["level"] == "下沉乡干部"]["name"].tolist()
    role_of = {n: "民警" for n in t.police.values()} | {n: "医护" for n in t.doctors.values()}
    medics = list(role_of)
    vols = t.out["volunteers"]
    at_checkpoints = vols[vols["post"] == "卡点"]
    phones.update(dict(zip(vols["name"], vols["phone"])))
    volunteers = at_checkpoints["name"].tolist()
    village_cadres: dict[str, list[str]] = {}
    for row in staff[staff["level"].isin(("党支部书记", "自然村干部"))].itertuples():
        village_cadres.setdefault(row.village, []).append(row.name)
    hq_staff = leaders + cadres[: len(cadres) // 4]
    checkpoint_cadres = cadres[len(cadres) // 4:]

    def take(pool: list[str], busy: set[str], k: int = 1) -> list[str]:
        free = [p for p in pool if p not in busy]
        chosen = [free[int(i)] for i in rng.choice(len(free), size=min(k, len(free)), replace=False)]
        busy.update(chosen)
        return chosen

    gaps = {(t.today + timedelta(days=d), post, shift): roles for d, post, shift, roles in GAPS}
    rows = []
    day = FIRST_DAY
    while day <= t.today + timedelta(days=1):
        busy: set[str] = set()
        shifts_of = {kind: policy.kind(kind).shifts for kind in ("指挥部", "村指挥部", "卡口")}
        on: list[tuple[str, str, str, str]] = []  # post, shift, name, role
        for shift in shifts_of["指挥部"]:
            lead, other = take(leaders, busy), take(hq_staff, busy)
            on += [(HQ, shift.name, n, "乡干部") for n in lead + other]
        for v in t.village_names:
            for shift in shifts_of["村指挥部"]:
                on += [(village_post(v), shift.name, n, "村干部") for n in take(village_cadres[v], busy)]
        for cp in t.checkpoints:
            for shift in shifts_of["卡口"]:
                team = [(n, "乡干部") for n in take(checkpoint_cadres, busy)]
                team += [(n, role_of[n]) for n in take(medics, busy)]
                team += [(n, "志愿者") for n in take(volunteers, busy, 1 + int(rng.random() < 0.3))]
                on += [(cp, shift.name, n, r) for n, r in team]
        for post, shift, name, role in on:
            left_off = gaps.get((day, post, shift), ())
            if left_off is None or role in left_off:
                continue
            rows.append(dict(date=day, post=post, shift=shift, name=name, phone=phones.get(name) or names.phone(),
                             role=role, note=""))
        day += timedelta(days=1)
    t.out["duty_shifts"] = pd.DataFrame(rows)
