"""The township health centre (乡卫生院), a key place of its own and the
first of the medical sentinels (医疗哨点) with the clinics and pharmacies.

Draws from a generator of its own, so the sections before it stay as they are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from shapely.geometry import Point
from shapely.ops import unary_union

from .context import Township
from .draws import Names

#: Constant of this section's own random stream.
STREAM = 12_02


def health_centre(t: Township) -> str:
    """The name of the township's health centre (城郊乡卫生院)."""
    return f"{t.name}卫生院"


def add_health_centre(t: Township) -> None:
    """One 卫生院 among the key places, next to the township HQ."""
    rng = np.random.default_rng([t.seed, STREAM])
    names = Names(rng)
    centre = unary_union(t.village_geoms).centroid
    # in the village nearest the township's centre (the seat), on its side towards it
    v = min(range(len(t.village_geoms)), key=lambda i: t.village_geoms[i].distance(centre))
    geom = t.village_geoms[v]
    near = geom.intersection(centre.buffer(geom.distance(centre) + 0.004)).representative_point()
    at = Point(round(near.x, 6), round(near.y, 6))
    if not geom.contains(at):
        at = geom.representative_point()
    row = dict(code=f"ZKT{t.code[-3:]}WSY1", name=health_centre(t), category="卫生院",
               village=t.village_rows[v]["name"], address=f"{t.name}政府驻地", manager=names.person(),
               manager_phone=names.phone(), code_posted=True, status="正常营业", staff_count=46, lon=at.x, lat=at.y)
    t.places.append(row)
    t.out["places"] = pd.concat([t.out["places"], pd.DataFrame([row])], ignore_index=True)
